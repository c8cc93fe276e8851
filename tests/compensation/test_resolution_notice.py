"""The resolution notice lists the approved compensation, through a REAL local SMTP server
(tests/smtp_sink.py) and a REAL local HTTP server playing the platform's push endpoint (it checks
X-Huiying-Signature): propose → approve → resolve, and the mail (text and HTML) and the in-app
push say "补偿：优惠券 20 元"; a rejected or still-proposed one is not said. On SQLite and
PostgreSQL; the English words come from the pure texts (the ticket's language)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import StaffLogin, _free_port, login
from helpers import feedback, submit
from huiying.app import create_app
from huiying.channels import registry
from huiying.channels.email import compose
from huiying.channels.email.service import import_one
from huiying.channels.inapp.texts import notice_text
from huiying.config import Settings
from huiying.db import Database
from huiying.kit.clock import utcnow
from huiying.kit.roles import Role
from huiying.notices.wording import Facts
from huiying.worker import runner
from smtp_sink import SmtpSink

SECRET = "platform-shared-secret-0123456789"
T0 = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


class Platform:
    """The platform's push endpoint: keeps every body whose signature is right (401 otherwise)."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                expected = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
                ok = hmac.compare_digest(expected, self.headers.get("X-Huiying-Signature", ""))
                if ok:
                    platform.bodies.append(json.loads(raw.decode("utf-8")))
                self.send_response(200 if ok else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", _free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/push"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def platform() -> Iterator[Platform]:
    server = Platform()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


@pytest.fixture
def client(settings: Settings, db: Database, smtp: SmtpSink, platform: Platform) -> Iterator[TestClient]:
    """The app sending mail to the local SMTP server and pushes to the local platform."""
    live = settings.model_copy(
        update={
            "smtp_url": smtp.url,
            "mail_from": "回应客服 <support@help.example.com>",
            "base_url": "https://help.example.com",
            "inapp_webhook_url": platform.url,
            "inapp_webhook_secret": SECRET,
        }
    )
    with TestClient(create_app(live, db), raise_server_exceptions=False) as test_client:
        yield test_client
    registry.register("email", None)
    registry.register("inapp", None)


def _drain(db: Database) -> None:
    while runner.run_due(db) > 0:
        pass


@pytest.fixture
def staff(client: TestClient, db: Database) -> dict[str, StaffLogin]:
    return {
        "admin": login(client, db, email="admin.notice@example.com", role=Role.ADMIN),
        "agent": login(client, db, email="agent.notice@example.com", role=Role.AGENT, teams=["tech-support"]),
        "lead": login(client, db, email="lead.notice@example.com", role=Role.SUPERVISOR, teams=["tech-support"]),
    }


def _compensate_and_resolve(client: TestClient, db: Database, staff: dict[str, StaffLogin], number: str) -> None:
    """Three proposals: one approved, one rejected, one left proposed; then the ticket is resolved."""
    admin, agent, lead = staff["admin"], staff["agent"], staff["lead"]
    assert client.patch(f"/api/v1/tickets/{number}", json={"team": "tech-support"}, headers=admin.headers).is_success
    made = []
    for body in ({"kind": "coupon", "amount": 20}, {"kind": "points", "amount": 500}, {"kind": "refund", "amount": 9}):
        answer = client.post(f"/api/v1/tickets/{number}/compensations", json=body, headers=agent.headers)
        assert answer.status_code == 201, answer.text
        made.append(answer.json()["id"])
    for comp_id, approve in ((made[0], True), (made[1], False)):
        answer = client.post(
            f"/api/v1/compensations/{comp_id}/decision", json={"approve": approve}, headers=lead.headers
        )
        assert answer.status_code == 200, answer.text
    for status in ("open", "resolved"):
        answer = client.post(f"/api/v1/tickets/{number}/status", json={"status": status}, headers=agent.headers)
        assert answer.status_code == 200, answer.text
    _drain(db)


def _mail_in(db: Database, settings: Settings) -> str:
    """A ticket made from a user's mail (only those get automatic notices, email/notices.py)."""
    subject = base64.b64encode("退款一直没有到账".encode()).decode()
    body = base64.encodebytes("我上周申请的退款一直没有到账。".encode()).decode()
    raw = (
        "From: li.lei@example.net\r\nTo: support@help.example.com\r\n"
        f"Subject: =?utf-8?b?{subject}?=\r\nDate: {format_datetime(utcnow())}\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@mail.example.net>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" + body
    ).encode()
    outcome = import_one(db, raw, source="test", settings=settings)
    assert outcome.number is not None, outcome
    return outcome.number


def _part(message: EmailMessage, kind: str) -> str:
    part = message.get_body((kind,))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def test_the_resolved_mail_lists_the_approved_compensation_only(
    client: TestClient, db: Database, smtp: SmtpSink, staff: dict[str, StaffLogin]
) -> None:
    number = _mail_in(db, client.app.state.settings)
    _compensate_and_resolve(client, db, staff, number)
    resolved = [m for m in smtp.messages if "已处理完毕" in str(m["Subject"])]
    assert len(resolved) == 1, [str(m["Subject"]) for m in smtp.messages]
    text, html = _part(resolved[0], "plain"), _part(resolved[0], "html")
    assert "补偿：优惠券 20 元\n" in text
    assert '<p class="compensation">补偿：优惠券 20 元</p>' in html
    for not_given in ("500 积分", "退款 9 元"):  # rejected, and still awaiting approval
        assert not_given not in text and not_given not in html


def test_the_resolved_push_lists_the_approved_compensation_only(
    client: TestClient, db: Database, platform: Platform, staff: dict[str, StaffLogin]
) -> None:
    number = str(submit(client, feedback(channel="app", user_id="u10001"))["number"])
    _compensate_and_resolve(client, db, staff, number)
    (resolved,) = [b for b in platform.bodies if b["kind"] == "resolved"]
    assert resolved["text"] == (
        f"您的反馈 {number} 已解决。补偿：优惠券 20 元。问题已解决请点击确认并为本次服务评价；如仍有问题，可在页面中重新打开。"
    )


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_words_in_english_and_without_compensation(backend: str) -> None:
    given = ("a coupon worth CNY 20", "500 points")
    english = notice_text(Facts(kind="resolved", number="HY1", now=T0, language="en", compensations=given))
    assert english == (
        "Your ticket HY1 is resolved. Compensation: a coupon worth CNY 20; 500 points."
        " Tap to confirm and tell us how we did, or reopen it if the problem remains."
    )
    plain = notice_text(Facts(kind="resolved", number="HY1", now=T0, language="zh"))
    assert "补偿" not in plain
    letter = compose.Letter(
        kind="resolved",
        number="HY1",
        to="a@example.com",
        mail_from="support@example.com",
        message_id="x@example.com",
        now=T0,
        language="en",
        compensations=("a coupon worth CNY 20",),
    )
    mail = compose.build(letter)
    assert "Compensation: a coupon worth CNY 20\n" in _part(mail, "plain")
    assert "Compensation" not in _part(
        compose.build(compose.Letter(**{**letter.__dict__, "compensations": ()})), "plain"
    )
