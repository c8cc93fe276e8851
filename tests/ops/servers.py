"""A real uvicorn server for the ops tests, configured exactly as `huiying serve` configures it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from conftest import _free_port
from huiying.app import create_app
from huiying.cli import server_options
from huiying.config import Settings
from huiying.db import Database


@contextmanager
def served(settings: Settings, db: Database, app: FastAPI | None = None) -> Iterator[str]:
    """The app (default: a new one on `db`) behind uvicorn on a free local port; yields its base URL."""
    port = _free_port()
    config = uvicorn.Config(
        app or create_app(settings, db),
        host="127.0.0.1",
        port=port,
        timeout_graceful_shutdown=1,
        **server_options(settings),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
