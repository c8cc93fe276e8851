"""What the loop tests share: the real servers on this machine that play the user's side.

- `Platform`: the app platform's push endpoint (HTTP). It verifies X-Huiying-Signature over the
  raw body with the shared secret (401 when wrong, nothing shown), keeps every request, and shows
  the user each push `id` once, as CONTRACT.md asks a platform to. With `hold=True` it keeps the
  first good push it receives (shown to the user: the platform has it) and does not answer until
  `release()`: the sender is left waiting between sending and hearing it was sent.
- `HoldingSmtpSink`: the SMTP sink of tests/smtp_sink.py that can do the same after DATA.
- the pymap IMAP server of the email tests (tests/channels/email/imap_server.py), as a fixture.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

# The IMAP server and the mail builder live with the email tests; pytest puts only this folder
# and tests/ on the path for these files.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "channels" / "email"))

from imap_server import ImapServer, environment_has_pymap, start_server
from mail_samples import mail, new_id

from conftest import StaffLogin, _free_port
from huiying.db import Database
from huiying.worker import runner
from smtp_sink import SmtpSink

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SECRET = "platform-shared-secret-0123456789"
BASE_URL = "https://help.example.com"
HOLD_SECONDS = 30.0  # a held answer is given up after this (a test that failed before releasing)

__all__ = ["ImapServer", "mail", "new_id"]


def signature(secret: str, raw: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


class Platform:
    """The platform's push endpoint: verifies, records, de-duplicates by `id`; may hold an answer."""

    def __init__(self, secret: str = SECRET, *, hold: bool = False) -> None:
        self.secret = secret
        self.hold = hold
        self.requests: list[tuple[bytes, dict[str, str]]] = []  # every request, as it came
        self.statuses: list[int] = []  # what each request was answered (or would have been)
        self.bodies: list[dict[str, Any]] = []  # every body whose signature was right
        self.shown: dict[str, dict[str, Any]] = {}  # what the user sees: one message per id
        self.received = threading.Event()  # set when the held push has arrived
        self._release = threading.Event()
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                platform.requests.append((raw, dict(self.headers.items())))
                if not hmac.compare_digest(
                    signature(platform.secret, raw), self.headers.get("X-Huiying-Signature", "")
                ):
                    platform.statuses.append(401)
                    self._answer(401, b'{"error":"bad signature"}')
                    return
                body = json.loads(raw.decode("utf-8"))
                platform.bodies.append(body)
                platform.shown.setdefault(body["id"], body)  # the platform has it; a repeat is dropped
                platform.statuses.append(200)
                if platform.hold:
                    platform.hold = False  # only the first one
                    platform.received.set()
                    platform._release.wait(HOLD_SECONDS)
                self._answer(200, b"{}")

            def _answer(self, status: int, body: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the sender was killed while we held the answer: nobody to tell

            def log_message(self, format: str, *args: Any) -> None:  # quiet: no access log in the test output
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", _free_port()), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/push"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def release(self) -> None:
        self._release.set()

    def stop(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()

    def ids(self) -> list[str]:
        """The `id` of every request, in order (signed right or not)."""
        return [json.loads(raw)["id"] for raw, _ in self.requests]


@dataclass
class HoldingSmtpSink(SmtpSink):
    """An SMTP sink that, with `hold`, keeps the first mail and does not answer its DATA until
    `release()`: the mail is with the receiver, the sender has not heard so."""

    hold: bool = False
    received: threading.Event = field(default_factory=threading.Event)
    _release: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.raw.append(bytes(envelope.original_content))
        if self.hold:
            self.hold = False
            self.received.set()
            # Waiting in a thread keeps the sink's event loop free for the other sessions.
            await asyncio.get_running_loop().run_in_executor(None, self._release.wait, HOLD_SECONDS)
        return "250 OK"

    def release(self) -> None:
        self._release.set()

    def stop(self) -> None:
        self.release()
        super().stop()


@pytest.fixture(scope="session")
def imap_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ImapServer]:
    """pymap on a free local port; skipped without it, except under CI=true (then it fails)."""
    if not environment_has_pymap():
        message = "pymap is not installed (the test extras): the email loop needs a real IMAP server"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    try:
        server = start_server(tmp_path_factory.mktemp("imap"))
    except RuntimeError as exc:
        if IN_CI:
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    yield server
    server.stop()


def drain(db: Database) -> int:
    """Run due jobs until none is left; how many ran."""
    ran = 0
    while (n := runner.run_due(db)) > 0:
        ran += n
    return ran


def get(client: TestClient, staff: StaffLogin, path: str) -> Any:
    answer = client.get(path, headers=staff.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def post(client: TestClient, staff: StaffLogin, path: str, body: dict[str, Any], *, status: int = 200) -> Any:
    answer = client.post(path, json=body, headers=staff.headers)
    assert answer.status_code == status, answer.text
    return answer.json()


def deliveries(client: TestClient, staff: StaffLogin, number: str) -> list[dict[str, Any]]:
    return list(get(client, staff, f"/api/v1/tickets/{number}/deliveries")["items"])


def actions(client: TestClient, staff: StaffLogin, number: str) -> list[dict[str, Any]]:
    return list(get(client, staff, f"/api/v1/tickets/{number}/timeline")["events"])
