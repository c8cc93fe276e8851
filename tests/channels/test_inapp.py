"""In-app pushes, against a REAL HTTP server on this machine playing the platform: it checks
X-Huiying-Signature with hmac.compare_digest (401 when wrong), keeps every body it was sent and
shows the user each push `id` once, as a platform should. An app ticket is acknowledged with its
number and due times (zh-CN, or English for an English ticket); a reply and a resolution are
pushed, a close after the resolution is not; a 500 is retried with the same id, a 400 or a 401
fails at once; killed between posting and recording, the job posts again with the same id and
the user still sees one message; without HUIYING_INAPP_WEBHOOK_URL nothing is pushed and the
delivery says why. On SQLite and PostgreSQL; time is injected (`kit.clock.frozen`)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import pydantic
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import StaffLogin, _free_port, login
from helpers import feedback, submit
from huiying.app import create_app
from huiying.channels import delivery, registry
from huiying.channels.delivery import deliver_message
from huiying.channels.inapp.texts import notice_text, reply_text
from huiying.config import Settings
from huiying.db import Database
from huiying.jobs import outbox
from huiying.jobs.models import OutboxJob
from huiying.kit.clock import frozen
from huiying.kit.roles import Role
from huiying.notices.wording import Facts
from huiying.worker import runner

# Wednesday 2 December 2026, 10:00 in Beijing: a working day, inside working hours.
T0 = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
BEIJING = ZoneInfo("Asia/Shanghai")
SECRET = "platform-shared-secret-0123456789"
BASE_URL = "https://help.example.com"


class Platform:
    """The platform's push endpoint: verifies, records, and de-duplicates by `id`."""

    def __init__(self, secret: str = SECRET) -> None:
        self.secret = secret
        self.answers: list[int] = []  # statuses to answer first (then 200), one per request
        self.requests: list[tuple[bytes, dict[str, str]]] = []  # every request, as it came
        self.bodies: list[dict[str, Any]] = []  # every body whose signature was right
        self.shown: dict[str, dict[str, Any]] = {}  # what the user sees: one message per id
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                platform.requests.append((raw, dict(self.headers.items())))
                expected = "sha256=" + hmac.new(platform.secret.encode(), raw, hashlib.sha256).hexdigest()
                if not hmac.compare_digest(expected, self.headers.get("X-Huiying-Signature", "")):
                    self._answer(401, b'{"error":"bad signature"}')
                    return
                status = platform.answers.pop(0) if platform.answers else 200
                if status == 200:
                    body = json.loads(raw.decode("utf-8"))
                    platform.bodies.append(body)
                    platform.shown.setdefault(body["id"], body)  # a repeat is dropped
                self._answer(status, b"{}")

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # quiet: no access log in the test output
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", _free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/push"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def _no_sender_left() -> Iterator[None]:
    """The registry is process-wide: no test leaves its in-app sender to the next one."""
    yield
    registry.register("inapp", None)


@pytest.fixture
def platform() -> Iterator[Platform]:
    server = Platform()
    try:
        yield server
    finally:
        server.stop()


def _client(settings: Settings, db: Database, platform: Platform, *, secret: str = SECRET) -> TestClient:
    pushing = settings.model_copy(
        update={"inapp_webhook_url": platform.url, "inapp_webhook_secret": secret, "base_url": BASE_URL}
    )
    return TestClient(create_app(pushing, db), raise_server_exceptions=False)


@pytest.fixture
def client(settings: Settings, db: Database, platform: Platform) -> Iterator[TestClient]:
    """The app pushing to the local platform (its wiring registers the sender)."""
    with _client(settings, db, platform) as test_client:
        yield test_client


@pytest.fixture
def staff(client: TestClient, db: Database) -> StaffLogin:
    return login(client, db, email="agent.lead@example.com", role=Role.ADMIN)


def _drain(db: Database) -> int:
    ran = 0
    while (n := runner.run_due(db)) > 0:
        ran += n
    return ran


def _app_ticket(client: TestClient, **overrides: Any) -> str:
    return str(submit(client, feedback(channel="app", user_id="u10001", **overrides))["number"])


def _deliveries(client: TestClient, staff: StaffLogin, number: str) -> list[dict[str, Any]]:
    answer = client.get(f"/api/v1/tickets/{number}/deliveries", headers=staff.headers)
    assert answer.status_code == 200, answer.text
    return [d for d in answer.json()["items"] if d["channel"] == "inapp"]


def _actions(client: TestClient, staff: StaffLogin, number: str) -> list[str]:
    timeline = client.get(f"/api/v1/tickets/{number}/timeline", headers=staff.headers).json()
    return [event["action"] for event in timeline["events"]]


def _status(client: TestClient, staff: StaffLogin, number: str, status: str) -> None:
    answer = client.post(f"/api/v1/tickets/{number}/status", json={"status": status}, headers=staff.headers)
    assert answer.status_code == 200, answer.text


def test_an_app_ticket_is_acknowledged_by_one_signed_push_in_chinese(
    client: TestClient, staff: StaffLogin, db: Database, platform: Platform
) -> None:
    with frozen(T0):
        number = _app_ticket(client)
        assert platform.requests == []  # nothing leaves inside the ticket's transaction
        _drain(db)
        # A job run again (a lost acknowledgement of the job, an admin's retry) pushes nothing.
        with db.read() as session:
            payload = session.scalars(select(OutboxJob.payload).where(OutboxJob.job == "deliver_message")).one()
        deliver_message(db, payload)
        ticket = client.get(f"/api/v1/tickets/{number}", headers=staff.headers).json()
    ((raw, headers),) = platform.requests
    (push,) = platform.bodies
    (row,) = _deliveries(client, staff, number)
    assert (row["kind"], row["status"], row["attempts"], row["error"]) == ("received", "sent", 1, None)
    assert set(push) == {"id", "user_id", "number", "kind", "text", "url"}
    assert (push["id"], push["user_id"], push["number"], push["kind"]) == (
        f"hy-{row['id']}",
        "u10001",
        number,
        "received",
    )
    assert push["url"].startswith(f"{BASE_URL}/portal/t/")
    # The signature is the HMAC of the exact bytes sent: compact UTF-8 JSON, Chinese as it is.
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Huiying-Signature"] == "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert "工单号".encode() in raw and b'","' in raw and b", " not in raw.split(b'"text"')[0]

    first = datetime.fromisoformat(ticket["first_response_due"]).astimezone(BEIJING)
    solved = datetime.fromisoformat(ticket["resolution_due"]).astimezone(BEIJING)
    assert first.date() == T0.astimezone(BEIJING).date() and solved.date() > first.date()
    text = push["text"]
    assert text.startswith(f"我们已收到您的反馈，工单号 {number}。")
    assert f"我们会在今天 {first:%H:%M} 前给您首次答复，预计在{solved.month}月{solved.day}日" in text
    assert text.endswith(" 前处理完毕（北京时间）。")
    assert _actions(client, staff, number).count("notice_delivered") == 1


def test_an_english_ticket_is_acknowledged_in_english(
    client: TestClient, staff: StaffLogin, db: Database, platform: Platform, triage_on: None
) -> None:
    description = "Hello, the app crashes every time I open my messages since the last update. Please fix it."
    with frozen(T0):
        number = _app_ticket(client, title="App crashes", description=description, category=None, subcategory=None)
        _drain(db)
        ticket = client.get(f"/api/v1/tickets/{number}", headers=staff.headers).json()
    (push,) = platform.bodies
    first = datetime.fromisoformat(ticket["first_response_due"]).astimezone(BEIJING)
    assert push["text"].startswith(f"We have received your feedback: ticket {number}. We will reply by ")
    assert f"{first:%H:%M}" in push["text"] and push["text"].endswith("(Beijing time, UTC+8).")
    assert "工单" not in push["text"]


def test_a_reply_and_the_resolution_are_pushed_and_closing_after_it_is_not(
    client: TestClient, staff: StaffLogin, db: Database, platform: Platform
) -> None:
    with frozen(T0):
        number = _app_ticket(client)
        _drain(db)
    with frozen(T0 + timedelta(minutes=20)):
        answer = client.post(
            f"/api/v1/tickets/{number}/replies",
            json={"body": "您好，扣款已原路退回，预计 1-3 个工作日到账。"},
            headers=staff.headers,
        )
        assert answer.status_code == 201, answer.text
        _drain(db)
    with frozen(T0 + timedelta(minutes=40)):
        _status(client, staff, number, "resolved")
        _drain(db)
    with frozen(T0 + timedelta(days=1)):
        _status(client, staff, number, "closed")
        _drain(db)
    assert [p["kind"] for p in platform.bodies] == ["received", "reply", "resolved"]
    reply, resolved = platform.bodies[1], platform.bodies[2]
    assert reply["text"] == f"客服回复（{number}）：您好，扣款已原路退回，预计 1-3 个工作日到账。"
    assert resolved["text"].startswith(f"您的反馈 {number} 已解决。") and "确认" in resolved["text"]
    assert "重新打开" in resolved["text"] and resolved["url"] == reply["url"]
    assert len({p["id"] for p in platform.bodies}) == 3
    rows = _deliveries(client, staff, number)
    assert [(d["kind"], d["status"]) for d in rows] == [("received", "sent"), ("reply", "sent"), ("resolved", "sent")]
    messages = client.get(f"/api/v1/tickets/{number}/messages", headers=staff.headers).json()
    assert [m["delivery"] for m in messages if m["kind"] == "reply"] == ["sent"]


def test_a_ticket_closed_without_a_resolution_is_told_so(
    client: TestClient, staff: StaffLogin, db: Database, platform: Platform
) -> None:
    with frozen(T0):
        number = _app_ticket(client)
        _status(client, staff, number, "closed")
        _drain(db)
    assert [p["kind"] for p in platform.bodies] == ["received", "closed"]
    assert platform.bodies[1]["text"].startswith(f"您的反馈 {number} 已关闭。")


def test_a_server_error_is_retried_with_the_same_id(
    client: TestClient, staff: StaffLogin, db: Database, platform: Platform
) -> None:
    platform.answers = [500]
    with frozen(T0):
        number = _app_ticket(client)
        _drain(db)
        (retrying,) = _deliveries(client, staff, number)
    assert (retrying["status"], retrying["attempts"]) == ("queued", 1)
    assert "answered 500" in retrying["error"]
    with frozen(T0 + timedelta(seconds=11)):  # after the first backoff (10 s)
        _drain(db)
        (sent,) = _deliveries(client, staff, number)
    assert (sent["status"], sent["attempts"], sent["error"]) == ("sent", 2, None)
    ids = [json.loads(raw)["id"] for raw, _ in platform.requests]
    assert ids == [f"hy-{sent['id']}"] * 2 and len(platform.shown) == 1


@pytest.mark.parametrize("status", [400, 404])
def test_a_refusal_fails_at_once(
    client: TestClient, staff: StaffLogin, db: Database, platform: Platform, status: int
) -> None:
    platform.answers = [status]
    with frozen(T0):
        number = _app_ticket(client)
        _drain(db)
        (failed,) = _deliveries(client, staff, number)
        actions = _actions(client, staff, number)
        with db.read() as session:
            job = session.scalars(select(OutboxJob).where(OutboxJob.job == "deliver_message")).one()
    assert (failed["status"], failed["attempts"], failed["sent_at"]) == ("failed", 1, None)
    assert f"answered {status}" in failed["error"] and job.state == "done"  # not retried
    assert actions.count("notice_failed") == 1 and platform.shown == {}


@pytest.mark.parametrize("status", [408, 429, 503])
def test_a_busy_platform_is_retried(
    client: TestClient, staff: StaffLogin, db: Database, platform: Platform, status: int
) -> None:
    platform.answers = [status]
    with frozen(T0):
        number = _app_ticket(client)
        _drain(db)
        (row,) = _deliveries(client, staff, number)
    assert (row["status"], row["attempts"]) == ("queued", 1) and f"answered {status}" in row["error"]


def test_a_failed_reply_push_says_so_on_the_timeline(
    client: TestClient, staff: StaffLogin, db: Database, platform: Platform
) -> None:
    with frozen(T0):
        number = _app_ticket(client)
        _drain(db)
        platform.answers = [400]
        answer = client.post(
            f"/api/v1/tickets/{number}/replies", json={"body": "请更新到最新版本。"}, headers=staff.headers
        )
        assert answer.status_code == 201, answer.text
        _drain(db)
        rows = _deliveries(client, staff, number)
        actions = _actions(client, staff, number)
    assert [(d["kind"], d["status"], d["attempts"]) for d in rows] == [("received", "sent", 1), ("reply", "failed", 1)]
    assert actions.count("reply_failed") == 1


def test_a_wrong_secret_on_our_side_is_refused_and_fails(settings: Settings, db: Database, platform: Platform) -> None:
    with _client(settings, db, platform, secret="not-the-shared-secret") as client:
        staff = login(client, db, email="agent.lead@example.com", role=Role.ADMIN)
        with frozen(T0):
            number = _app_ticket(client)
            _drain(db)
            (failed,) = _deliveries(client, staff, number)
    ((raw, headers),) = platform.requests
    ours = "sha256=" + hmac.new(b"not-the-shared-secret", raw, hashlib.sha256).hexdigest()
    theirs = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert headers["X-Huiying-Signature"] == ours != theirs
    assert (failed["status"], failed["attempts"]) == ("failed", 1) and "answered 401" in failed["error"]
    assert platform.bodies == []


def test_killed_between_posting_and_recording_the_user_sees_one_message(
    client: TestClient, staff: StaffLogin, db: Database, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    record_sent = delivery._record_sent
    calls = {"n": 0}

    def dies_once(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise SystemExit("killed after the POST, before the delivery was recorded")
        record_sent(*args, **kwargs)

    monkeypatch.setattr(delivery, "_record_sent", dies_once)
    with frozen(T0):
        number = _app_ticket(client)
        with pytest.raises(SystemExit):
            _drain(db)
        (unrecorded,) = _deliveries(client, staff, number)
    assert (unrecorded["status"], len(platform.requests)) == ("queued", 1)
    # The process is gone: its job is found stale, its delivery's sending lease runs out.
    with frozen(T0 + outbox.STALE_RUNNING + timedelta(minutes=1)):
        with db.write() as session:
            assert outbox.recover_stale(session) == 1
        _drain(db)
        (sent,) = _deliveries(client, staff, number)
    assert (sent["status"], sent["attempts"]) == ("sent", 2)
    assert [json.loads(raw)["id"] for raw, _ in platform.requests] == [f"hy-{sent['id']}"] * 2
    assert list(platform.shown) == [f"hy-{sent['id']}"]  # the platform dropped the repeat: one message
    assert _actions(client, staff, number).count("notice_delivered") == 1


def test_an_app_ticket_without_a_user_id_is_answered_on_the_portal_only(
    client: TestClient, staff: StaffLogin, db: Database, platform: Platform
) -> None:
    """Nobody to push to: no acknowledgement, and the reply goes to the portal, not `failed`."""
    with frozen(T0):
        number = str(submit(client, feedback(channel="app", user_id=None))["number"])
        _drain(db)
        assert _deliveries(client, staff, number) == []  # no acknowledgement: nobody to push to
        answer = client.post(f"/api/v1/tickets/{number}/replies", json={"body": "已处理。"}, headers=staff.headers)
        assert answer.status_code == 201, answer.text
        _drain(db)
        rows = client.get(f"/api/v1/tickets/{number}/deliveries", headers=staff.headers).json()["items"]
    assert [(d["channel"], d["status"]) for d in rows] == [("portal", "sent")]
    assert platform.requests == []


def test_without_a_push_endpoint_nothing_is_pushed_and_the_reply_says_why(
    app_client: TestClient, admin: StaffLogin, db: Database, settings: Settings
) -> None:
    assert settings.inapp_webhook_url is None
    with frozen(T0):
        number = _app_ticket(app_client)
        answer = app_client.post(f"/api/v1/tickets/{number}/replies", json={"body": "已处理。"}, headers=admin.headers)
        assert answer.status_code == 201, answer.text
        _drain(db)
        rows = _deliveries(app_client, admin, number)
    assert [(d["kind"], d["status"], d["reason"], d["error"]) for d in rows] == [
        ("reply", "suppressed", "no_inapp_push", "no in-app push configured")
    ]


def test_a_push_url_without_a_secret_is_refused_by_the_settings() -> None:
    with pytest.raises(pydantic.ValidationError, match="HUIYING_INAPP_WEBHOOK_SECRET"):
        Settings(inapp_webhook_url="https://push.example.com/huiying")
    signed = Settings(inapp_webhook_url="https://p.example", inapp_webhook_secret="s")
    assert "inapp_webhook_secret" not in repr(signed) and "'s'" not in repr(signed)


@pytest.mark.parametrize(
    ("facts", "text"),
    [
        (
            Facts("received", "HY1", T0, first_response_due=T0 + timedelta(hours=5, minutes=30)),
            "我们已收到您的反馈，工单号 HY1。我们会在今天 15:30 前给您首次答复（北京时间）。",
        ),
        (
            Facts("received", "HY1", T0, "en", resolution_due=T0 + timedelta(days=5)),
            "We have received your feedback: ticket HY1. We expect to have it resolved by 10:00 on Monday"
            " 7 December (Beijing time, UTC+8).",
        ),
        (Facts("received", "HY1", T0), "我们已收到您的反馈，工单号 HY1。我们会尽快给您答复。"),
        (
            Facts("closed", "HY1", T0, "en-US"),
            "Your ticket HY1 is closed. If anything else comes up, send us new feedback.",
        ),
        (
            Facts(
                "delayed", "HY1", T0, detail={"reason": "需要技术部排查", "expected_at": "2026-12-03T10:00:00+00:00"}
            ),
            "抱歉，您的反馈 HY1 需要更多时间处理（需要技术部排查），预计明天 18:00（北京时间）前完成。",
        ),
        (
            Facts("suggestion", "HY1", T0, "en", detail={"outcome": "planned", "timeline": "in Q1 2027"}),
            "Your suggestion (HY1): The product team has planned it; expect it in Q1 2027.",
        ),
    ],
)
def test_the_words_of_a_notice_push(facts: Facts, text: str) -> None:
    assert notice_text(facts) == text


def test_the_words_of_a_reply_push() -> None:
    assert reply_text("HY1", "  Fixed in 5.2.1.\n", language="en") == "Support replied (HY1): Fixed in 5.2.1."
    assert reply_text("HY1", "好" * 600, language=None) == "客服回复（HY1）：" + "好" * 499 + "…"


def test_a_kind_without_words_is_refused() -> None:
    with pytest.raises(KeyError, match="survey"):
        notice_text(Facts("survey", "HY1", T0))
