"""Mail out, against a REAL SMTP server on this machine (aiosmtpd): a mail that makes a ticket is
acknowledged once with its number and the expected handling time (zh-CN, or English for an
English ticket); an agent's public reply answers the user's last mail (In-Reply-To), routes back
(Reply-To, the number in the subject) as text + HTML, and the user's answer to it comes back into
the same ticket; resolving tells the user once. A server that is down is retried, and a delivery
that gave up says why on GET /deliveries; without HUIYING_SMTP_URL nothing is sent and the
delivery says so; spam is never answered; a job that runs twice sends nothing twice. On SQLite and
PostgreSQL; time is injected (`kit.clock.frozen`)."""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import StaffLogin, admin_page, login
from helpers import feedback, submit
from huiying.app import create_app
from huiying.channels import registry
from huiying.channels.delivery import deliver_message
from huiying.channels.email.service import import_one
from huiying.channels.models import MessageDelivery
from huiying.config import Settings
from huiying.db import Database
from huiying.jobs import outbox
from huiying.jobs.models import OutboxJob
from huiying.kit.clock import frozen
from huiying.kit.roles import Role
from huiying.worker import runner
from smtp_sink import SmtpSink

# Wednesday 2 December 2026, 10:00 in Beijing: a working day, inside working hours.
T0 = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
MAIL_FROM = "回应客服 <support@help.example.com>"
SUPPORT = "support@help.example.com"
BASE_URL = "https://help.example.com"


def _raw_mail(
    *,
    subject: str = "退款一直没有到账",
    body: str = "我上周申请的退款一直没有到账，订单号 DD20261125001。",
    sender: str = "li.lei@example.net",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    headers: tuple[str, ...] = (),
    date: str = "Wed, 02 Dec 2026 09:58:00 +0800",
) -> tuple[bytes, str]:
    """A UTF-8 mail as a mailer sends it, and its Message-ID (without <>)."""
    message_id = message_id or f"{uuid.uuid4().hex}@mail.example.net"
    lines = [
        f"From: =?utf-8?b?{base64.b64encode('李雷'.encode()).decode()}?= <{sender}>",
        f"To: {SUPPORT}",
        f"Subject: =?utf-8?b?{base64.b64encode(subject.encode()).decode()}?=",
        f"Date: {date}",
        f"Message-ID: <{message_id}>",
        *([f"In-Reply-To: <{in_reply_to}>", f"References: <{in_reply_to}>"] if in_reply_to else []),
        *headers,
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: base64",
    ]
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + base64.encodebytes(body.encode())
    return raw, message_id


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def mail_settings(settings: Settings, smtp: SmtpSink) -> Settings:
    return settings.model_copy(update={"smtp_url": smtp.url, "mail_from": MAIL_FROM, "base_url": BASE_URL})


@pytest.fixture
def client(mail_settings: Settings, db: Database) -> Iterator[TestClient]:
    """The app with mail going out through the local server (its wiring registers the sender)."""
    with TestClient(create_app(mail_settings, db), raise_server_exceptions=False) as test_client:
        yield test_client
    registry.register("email", None)


@pytest.fixture
def staff(client: TestClient, db: Database) -> StaffLogin:
    return login(client, db, email="agent.lead@example.com", role=Role.ADMIN)


def _mail_in(db: Database, settings: Settings, raw: bytes) -> str:
    outcome = import_one(db, raw, source="test", settings=settings)
    assert outcome.result in ("imported", "threaded"), outcome
    assert outcome.number is not None
    return outcome.number


def _drain(db: Database) -> int:
    ran = 0
    while (n := runner.run_due(db)) > 0:
        ran += n
    return ran


def _deliveries(client: TestClient, staff: StaffLogin, number: str) -> list[dict[str, Any]]:
    answer = client.get(f"/api/v1/tickets/{number}/deliveries", headers=staff.headers)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def _actions(client: TestClient, staff: StaffLogin, number: str) -> list[str]:
    timeline = client.get(f"/api/v1/tickets/{number}/timeline", headers=staff.headers).json()
    return [event["action"] for event in timeline["events"]]


def _text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None and part.get_content_charset() == "utf-8"
    return str(part.get_content()).replace("\r\n", "\n")  # on the wire text lines end in CRLF


def _html(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None and part.get_content_charset() == "utf-8"
    return str(part.get_content())


def _bare(header: object) -> str:
    return str(header).strip().strip("<>")


def _row_message_ids(db: Database, number_ticket_deliveries: list[dict[str, Any]]) -> list[str | None]:
    ids = [d["id"] for d in number_ticket_deliveries]
    with db.read() as session:
        rows = session.scalars(select(MessageDelivery).where(MessageDelivery.id.in_(ids)).order_by(MessageDelivery.id))
        return [row.mail_message_id for row in rows]


def test_a_new_mail_is_acknowledged_once_with_its_number_and_due_time(
    client: TestClient, staff: StaffLogin, db: Database, mail_settings: Settings, smtp: SmtpSink
) -> None:
    smtp.start()
    raw, user_id = _raw_mail()
    with frozen(T0):
        number = _mail_in(db, mail_settings, raw)
        assert smtp.raw == []  # nothing leaves inside the mail's transaction
        _drain(db)
        (ack,) = smtp.messages
        ticket = client.get(f"/api/v1/tickets/{number}", headers=staff.headers).json()
        # A job run again (a lost acknowledgement of the job, an admin's retry) sends nothing.
        with db.read() as session:
            payload = session.scalars(select(OutboxJob.payload).where(OutboxJob.job == "deliver_message")).one()
        deliver_message(db, payload)
        _drain(db)
    assert len(smtp.raw) == 1
    assert smtp.envelopes == [(SUPPORT, ["li.lei@example.net"])]

    assert ack["Subject"] == f"[#{number}] 我们已收到您的邮件：退款一直没有到账"
    head = smtp.raw[0].split(b"\r\n\r\n", 1)[0]
    assert head.isascii() and b"=?utf-8?" in head.split(b"\r\nSubject: ", 1)[1]  # RFC 2047, UTF-8
    assert ack["To"] == "li.lei@example.net"
    assert ack["From"].addresses[0].addr_spec == SUPPORT and ack["From"].addresses[0].display_name == "回应客服"
    assert ack["Reply-To"] == f"support+{number}@help.example.com"
    assert _bare(ack["In-Reply-To"]) == user_id and _bare(ack["References"]) == user_id
    assert ack["Auto-Submitted"] == "auto-replied"  # RFC 3834: robots do not answer it
    assert _bare(ack["Message-ID"]).endswith("@help.example.com")
    assert ack.get_content_type() == "multipart/alternative" and ack["Content-Language"] == "zh-CN"

    # The SLA's targets (medium: a first reply within 4 working hours, solved in 3 working days),
    # said in Beijing time and in words.
    assert ticket["first_response_due"] == "2026-12-02T07:30:00Z"  # 15:30 in Beijing: lunch is no working time
    text = _text(ack)
    assert f"工单号为 {number}" in text
    assert "我们会在今天 15:30 前给您首次答复" in text and "（北京时间）" in text
    assert "12月7日（星期一）" in text  # three working days on, over the weekend
    assert f"{BASE_URL}/portal/t/" in text
    html = _html(ack)
    assert f"工单号为 {number}" in html and "今天 15:30" in html and 'href="https://help.example.com/portal/t/' in html

    (delivery,) = _deliveries(client, staff, number)
    assert (delivery["channel"], delivery["kind"], delivery["status"], delivery["attempts"]) == (
        "email",
        "received",
        "sent",
        1,
    )
    assert delivery["message_id"] is None and delivery["error"] is None
    assert _row_message_ids(db, [delivery]) == [_bare(ack["Message-ID"])]  # a bounce can find it
    assert _actions(client, staff, number).count("notice_delivered") == 1


def test_an_old_mail_replayed_is_not_acknowledged_and_the_timeline_says_why(
    client: TestClient, staff: StaffLogin, db: Database, mail_settings: Settings, smtp: SmtpSink
) -> None:
    """A mailbox replayed or a migration: a mail sent days ago gets no "we received it" now."""
    smtp.start()
    old, _ = _raw_mail(date="Mon, 23 Nov 2026 09:00:00 +0800")  # nine days before T0
    recent, _ = _raw_mail(sender="han.mei@example.net", date="Tue, 01 Dec 2026 09:00:00 +0800")
    with frozen(T0):
        old_number, recent_number = _mail_in(db, mail_settings, old), _mail_in(db, mail_settings, recent)
        _drain(db)
        timeline = client.get(f"/api/v1/tickets/{old_number}/timeline", headers=staff.headers).json()
    assert smtp.to() == ["han.mei@example.net"]  # the day-old one is acknowledged
    assert _deliveries(client, staff, old_number) == [] and len(_deliveries(client, staff, recent_number)) == 1
    (skipped,) = [e for e in timeline["events"] if e["action"] == "mail_not_acknowledged"]
    assert skipped["data"]["reason"] == "old_mail" and skipped["data"]["days"] == 9


def test_an_english_mail_is_acknowledged_in_english(
    client: TestClient,
    staff: StaffLogin,
    db: Database,
    mail_settings: Settings,
    smtp: SmtpSink,
    triage_on: None,
) -> None:
    smtp.start()
    raw, _ = _raw_mail(
        subject="Refund not received",
        body="Hello, I asked for a refund last week and the money has still not arrived in my account. Please help.",
    )
    with frozen(T0):
        number = _mail_in(db, mail_settings, raw)
        _drain(db)
        ticket = client.get(f"/api/v1/tickets/{number}", headers=staff.headers).json()
    (ack,) = smtp.messages
    assert ack["Subject"] == f"[#{number}] We have received your email: Refund not received"
    assert ack["Content-Language"] == "en"
    text = _text(ack)
    assert f"opened ticket {number}" in text
    due = datetime.fromisoformat(ticket["first_response_due"]).astimezone(ZoneInfo("Asia/Shanghai"))
    # Triage may choose another priority than medium: the mail says whatever the ticket says.
    assert f"We will reply by {due:%H:%M}" in text and "(Beijing time, UTC+8)" in text
    assert "您好" not in text and "Hello" in _html(ack)


def test_an_agent_reply_answers_the_users_last_mail_and_the_answer_comes_back(
    client: TestClient, staff: StaffLogin, db: Database, mail_settings: Settings, smtp: SmtpSink
) -> None:
    smtp.start()
    raw, first_id = _raw_mail()
    with frozen(T0):
        number = _mail_in(db, mail_settings, raw)
        _drain(db)
        (ack,) = smtp.messages
    with frozen(T0 + timedelta(minutes=5)):
        # The user answers the acknowledgement with more detail: it threads by In-Reply-To.
        more, more_id = _raw_mail(
            subject=f"Re: [#{number}] 退款一直没有到账", body="补充：支付宝付款。", in_reply_to=_bare(ack["Message-ID"])
        )
        assert _mail_in(db, mail_settings, more) == number
    with frozen(T0 + timedelta(minutes=30)):
        answer = client.post(
            f"/api/v1/tickets/{number}/replies",
            json={"body": "您好，退款已原路退回。\n\n预计 1-3 个工作日到账 <请留意>。"},
            headers=staff.headers,
        )
        assert answer.status_code == 201, answer.text
        _drain(db)
    assert len(smtp.messages) == 2
    reply = smtp.messages[1]
    assert reply["Subject"] == f"Re: [#{number}] 退款一直没有到账"
    assert reply["Reply-To"] == f"support+{number}@help.example.com"
    assert _bare(reply["In-Reply-To"]) == more_id  # the user's last mail
    references = [_bare(r) for r in str(reply["References"]).split()]
    assert references == [first_id, _bare(ack["Message-ID"]), more_id]
    assert reply["Auto-Submitted"] is None  # a person wrote it
    assert _text(reply).startswith("您好，退款已原路退回。\n\n预计 1-3 个工作日到账 <请留意>。\n")
    html = _html(reply)
    assert "<p>您好，退款已原路退回。</p>" in html and "&lt;请留意&gt;" in html
    deliveries = _deliveries(client, staff, number)
    assert [(d["kind"], d["status"]) for d in deliveries] == [("received", "sent"), ("reply", "sent")]
    messages = client.get(f"/api/v1/tickets/{number}/messages", headers=staff.headers).json()
    assert [m["delivery"] for m in messages if m["kind"] == "reply"] == ["sent"]

    # The user answers the reply: it comes back into the same ticket.
    back, _ = _raw_mail(
        subject=f"Re: [#{number}] 退款一直没有到账", body="收到，谢谢！", in_reply_to=_bare(reply["Message-ID"])
    )
    with frozen(T0 + timedelta(hours=1)):
        assert _mail_in(db, mail_settings, back) == number
        bodies = [m["body"] for m in client.get(f"/api/v1/tickets/{number}/messages", headers=staff.headers).json()]
    assert any("收到，谢谢" in body for body in bodies)


def test_a_server_that_is_down_is_retried_with_the_same_message_id(
    client: TestClient, staff: StaffLogin, db: Database, mail_settings: Settings, smtp: SmtpSink
) -> None:
    raw, _ = _raw_mail()
    with frozen(T0):
        number = _mail_in(db, mail_settings, raw)
        _drain(db)  # nothing listens on the port yet
        (retrying,) = _deliveries(client, staff, number)
        with db.read() as session:
            job = session.scalars(select(OutboxJob).where(OutboxJob.job == "deliver_message")).one()
    assert (retrying["status"], retrying["attempts"]) == ("queued", 1)
    assert "ConnectionRefusedError" in retrying["error"]
    assert job.state == "pending" and job.available_at > T0  # backing off
    (first_id,) = _row_message_ids(db, [retrying])

    smtp.start()
    with frozen(T0 + timedelta(seconds=5)):  # inside the first backoff (10 s): not yet
        _drain(db)
    assert smtp.raw == []
    with frozen(T0 + timedelta(seconds=11)):
        _drain(db)
        (sent,) = _deliveries(client, staff, number)
    (ack,) = smtp.messages
    assert (sent["status"], sent["attempts"], sent["error"]) == ("sent", 2, None)
    assert _bare(ack["Message-ID"]) == first_id  # the retry is the same mail


def test_a_delivery_that_gives_up_says_why_on_the_ticket(
    client: TestClient, staff: StaffLogin, db: Database, mail_settings: Settings, smtp: SmtpSink
) -> None:
    raw, _ = _raw_mail()
    with frozen(T0):
        number = _mail_in(db, mail_settings, raw)
        with db.read() as session:
            job_id = session.scalars(select(OutboxJob.id).where(OutboxJob.job == "deliver_message")).one()
        for _ in range(outbox.MAX_ATTEMPTS):
            with db.write() as session:  # run each retry now instead of waiting out its backoff
                session.get_one(OutboxJob, job_id).available_at = T0
            assert runner.run_job(db, job_id)
        (failed,) = _deliveries(client, staff, number)
        actions = _actions(client, staff, number)
    assert (failed["status"], failed["attempts"], failed["sent_at"]) == ("failed", outbox.MAX_ATTEMPTS, None)
    assert failed["error"].startswith("ConnectionRefusedError")
    assert actions.count("notice_failed") == 1 and "notice_delivered" not in actions
    with db.read() as session:
        assert session.get_one(OutboxJob, job_id).state == "dead"  # an admin may retry it


@pytest.mark.parametrize(
    ("reply", "status", "job_state"),
    [
        ("550 5.1.1 <li.lei@example.net>: no such user", "failed", "done"),  # for good: at once
        ("450 4.2.0 mailbox busy, try later", "queued", "pending"),  # for now: retried
    ],
)
def test_a_recipient_refused_for_good_fails_at_once_and_one_refused_for_now_is_retried(
    client: TestClient,
    staff: StaffLogin,
    db: Database,
    mail_settings: Settings,
    smtp: SmtpSink,
    reply: str,
    status: str,
    job_state: str,
) -> None:
    raw, _ = _raw_mail()
    smtp.refuse["li.lei@example.net"] = reply
    smtp.start()
    with frozen(T0):
        number = _mail_in(db, mail_settings, raw)
        _drain(db)
        (delivery,) = _deliveries(client, staff, number)
        actions = _actions(client, staff, number)
        with db.read() as session:
            job = session.scalars(select(OutboxJob).where(OutboxJob.job == "deliver_message")).one()
    assert (delivery["status"], delivery["attempts"], job.state) == (status, 1, job_state)
    assert reply.split()[0] in delivery["error"] and smtp.raw == []
    assert actions.count("notice_failed") == (1 if status == "failed" else 0)
    # Staff see it on the ticket page, beside the conversation, in their language.
    html = admin_page(client, db, f"/tickets/{number}?lang=zh", base_url=BASE_URL)
    (notice,) = re.findall(r'<li class="delivery[^"]*" data-kind="received"[^>]*>(.*?)</li>', html, re.S)
    notice = re.sub(r"\s+", " ", notice)
    assert notice.startswith(" 收到确认 · 邮件: ")
    assert ("发送失败" if status == "failed" else "排队中（上次发送失败") in notice and reply.split()[0] in notice


def test_without_smtp_the_acknowledgement_is_suppressed_with_the_reason(
    app_client: TestClient, admin: StaffLogin, db: Database, settings: Settings
) -> None:
    assert settings.smtp_url is None
    raw, _ = _raw_mail()
    with frozen(T0):
        number = _mail_in(db, settings, raw)
        _drain(db)
        (row,) = _deliveries(app_client, admin, number)
        actions = _actions(app_client, admin, number)
    assert (row["kind"], row["status"], row["reason"], row["error"], row["sent_at"]) == (
        "received",
        "suppressed",
        "no_email_sender",
        "no email sender configured",
        None,
    )
    assert "notice_not_sent" in actions


def test_spam_and_auto_replies_are_never_answered(
    client: TestClient, staff: StaffLogin, db: Database, mail_settings: Settings, smtp: SmtpSink
) -> None:
    smtp.start()
    spam, _ = _raw_mail(subject="便宜发票", headers=("X-Spam-Flag: YES",))
    robot, _ = _raw_mail(subject="自动回复：我在休假", headers=("Auto-Submitted: auto-replied",))
    with frozen(T0):
        outcome = import_one(db, spam, source="test", settings=mail_settings)
        assert outcome.number is not None
        import_one(db, robot, source="test", settings=mail_settings)
        _drain(db)
        ticket = client.get(f"/api/v1/tickets/{outcome.number}", headers=staff.headers).json()
        deliveries = _deliveries(client, staff, outcome.number)
    assert "spam" in ticket["tags"] and ticket["status"] == "closed"  # closed, yet no "closed" notice
    assert deliveries == []
    assert smtp.raw == []


def test_resolving_a_ticket_tells_the_user_once(
    client: TestClient, staff: StaffLogin, db: Database, mail_settings: Settings, smtp: SmtpSink
) -> None:
    smtp.start()
    raw, user_id = _raw_mail()
    with frozen(T0):
        number = _mail_in(db, mail_settings, raw)
    with frozen(T0 + timedelta(minutes=1)):
        for status in ("open", "resolved", "closed"):  # closed after resolved: no second mail
            answer = client.post(f"/api/v1/tickets/{number}/status", json={"status": status}, headers=staff.headers)
            assert answer.status_code == 200, answer.text
        _drain(db)
        _drain(db)
        kinds = [(d["kind"], d["status"]) for d in _deliveries(client, staff, number)]
    # Opened before anyone answered: taken up is news; closed after resolved is not.
    assert kinds == [("received", "sent"), ("taken", "sent"), ("resolved", "sent")]
    resolved = smtp.messages[2]
    assert resolved["Subject"] == f"[#{number}] 您的问题已处理完毕：退款一直没有到账"
    assert resolved["Auto-Submitted"] == "auto-generated"
    assert _bare(resolved["In-Reply-To"]) == user_id
    assert "如果问题仍未解决，直接回复这封邮件" in _text(resolved)
    # The survey's signed link: the portal page's survey form.
    assert re.search(
        rf"为本次服务打分（非常满意 / 满意 / 一般 / 不满意）：{BASE_URL}/portal/t/[^\s#]+#survey", _text(resolved)
    )
    assert 'href="https://help.example.com/portal/t/' in _html(resolved) and '#survey"' in _html(resolved)


def test_a_ticket_typed_in_under_channel_email_gets_replies_by_mail_but_no_acknowledgement(
    client: TestClient, staff: StaffLogin, db: Database, smtp: SmtpSink
) -> None:
    smtp.start()
    with frozen(T0):
        number = str(
            submit(client, feedback(channel="email", contact="wang.fang@example.com"), **staff.headers)["number"]
        )
        _drain(db)
        assert smtp.raw == []  # no mail of theirs to acknowledge
        answer = client.post(
            f"/api/v1/tickets/{number}/replies", json={"body": "您好，已处理。"}, headers=staff.headers
        )
        assert answer.status_code == 201, answer.text
        _drain(db)
    (reply,) = smtp.messages
    assert reply["To"] == "wang.fang@example.com" and reply["In-Reply-To"] is None
    assert reply["Reply-To"] == f"support+{number}@help.example.com"
    assert [d["kind"] for d in _deliveries(client, staff, number)] == ["reply"]
