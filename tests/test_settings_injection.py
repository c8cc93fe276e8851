"""`create_app(settings)` governs triage and compliance: the Settings object handed in decides,
not whatever the process environment (`get_settings()`) happens to say."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from fastapi.testclient import TestClient

from conftest import TEST_SECRET, login
from helpers import feedback, submit
from huiying.app import create_app
from huiying.config import Settings, get_settings
from huiying.db import Database
from huiying.kit.roles import Role
from huiying.worker.runner import run_due


class _Robot(BaseHTTPRequestHandler):
    received: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        _Robot.received.append(self.rfile.read(int(self.headers["Content-Length"])).decode())
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def robot_url() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Robot)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Robot.received = []
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


def _settings(tmp_path: Path, db: Database, **overrides: object) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        database_url=db.url,
        secret_key=TEST_SECRET,
        embedded_jobs=False,
        rate_limit_intake="0",
        rate_limit_login="0",
        **overrides,  # type: ignore[arg-type]
    )


def test_the_compliance_webhook_comes_from_the_apps_settings(
    tmp_path: Path, db: Database, robot_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HUIYING_COMPLIANCE_WEBHOOK_URL", raising=False)
    get_settings.cache_clear()
    app = create_app(_settings(tmp_path, db, compliance_webhook_url=robot_url), db)
    with TestClient(app) as client:
        number = submit(client, feedback(category="content", subcategory="privacy-leak"))["number"]
        assert run_due(db) >= 1
    assert len(_Robot.received) == 1 and number in json.loads(_Robot.received[0])["text"]["content"]


def test_triage_follows_the_apps_settings(tmp_path: Path, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUIYING_TRIAGE_ENABLED", "false")  # the environment says off...
    get_settings.cache_clear()
    settings = _settings(tmp_path, db, triage_enabled=True)  # ...the app's settings say on
    with TestClient(create_app(settings, db)) as client:
        number = submit(client, feedback(description="充值会员的时候提示支付失败，但是微信已经扣款68元"))["number"]
        admin = login(client, db, email="admin@example.com", role=Role.ADMIN)
        events = client.get(f"/api/v1/tickets/{number}/timeline", headers=admin.headers).json()["events"]
    assert "triaged" in [e["action"] for e in events]
