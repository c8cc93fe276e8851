"""Mail taken in (channels/email/service.py), seen through the ticket API, on both back ends:
the shared corpus, replays, threading by In-Reply-To and by the subject's number, Chinese
charsets, bounces of our own mail, spam, noise, attachments and their limits, the flood limit,
and a failure that loses nothing but itself."""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from mail_samples import SUPPORT, corpus_files, mail, new_id, take, with_attachment
from sqlalchemy import func, select

from conftest import StaffLogin
from huiying.channels import registry
from huiying.channels.base import Delivered, Outgoing
from huiying.channels.email import service
from huiying.channels.email.models import MailMessage, MailQuarantine
from huiying.channels.models import MessageDelivery
from huiying.config import Settings
from huiying.db import Database
from huiying.tickets.models import Message, Ticket
from huiying.worker import runner

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _ticket(client: TestClient, admin: StaffLogin, number: str) -> dict[str, Any]:
    answer = client.get(f"/api/v1/tickets/{number}", headers=admin.headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _messages(client: TestClient, admin: StaffLogin, number: str) -> list[dict[str, Any]]:
    return list(client.get(f"/api/v1/tickets/{number}/messages", headers=admin.headers).json())


def _events(client: TestClient, admin: StaffLogin, number: str) -> list[dict[str, Any]]:
    return list(client.get(f"/api/v1/tickets/{number}/timeline", headers=admin.headers).json()["events"])


def _count(db: Database, model: Any) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


# --- the corpus -----------------------------------------------------------------------------------


def test_every_corpus_mail_becomes_a_ticket_a_message_noise_or_a_quarantine_entry(
    app_client: TestClient, db: Database, settings: Settings
) -> None:
    paths = corpus_files()
    if not paths:
        if IN_CI:
            pytest.fail("CI=true but the mail corpus (../shared/data/emails) is missing")
        pytest.skip("mail corpus not found: set HUIYING_SHARED_DATA")
    outcomes = [service.import_one(db, path.read_bytes(), source=str(path), settings=settings) for path in paths]
    assert [o for o in outcomes if o.result == "failed"] == []
    taken = [o for o in outcomes if o.result in ("imported", "threaded")]
    quarantined = [o for o in outcomes if o.result == "quarantined"]
    duplicates = [o for o in outcomes if o.result == "duplicate"]
    assert len(taken) + len(quarantined) + len(duplicates) == len(paths)
    # Each mail taken in is one row; each quarantined one an entry; a duplicate adds nothing.
    assert _count(db, MailMessage) == len(taken)
    assert _count(db, MailQuarantine) == len(quarantined)
    numbers = {o.number for o in taken if o.number}
    assert all(o.number is None or o.number in numbers for o in duplicates)
    tickets = [o for o in taken if o.kind in ("normal", "spam") and o.result == "imported"]
    assert len(tickets) > 100 and _count(db, Ticket) == len(tickets)
    assert {o.kind for o in taken} >= {"normal", "bounce", "list"}
    # Nothing is lost: every quarantined mail keeps its raw bytes.
    with db.read() as session:
        for entry in session.scalars(select(MailQuarantine)):
            assert (settings.quarantine_dir / entry.storage_key).is_file()


# --- replays ----------------------------------------------------------------------------------------


def test_a_replay_is_a_duplicate_and_a_reused_message_id_with_other_content_is_a_mail_of_its_own(
    app_client: TestClient, admin: StaffLogin, db: Database, settings: Settings
) -> None:
    message_id = new_id()
    raw = mail(message_id=message_id, body="第一封邮件：提现一直没有到账。")
    first = take(db, settings, raw)
    assert first.result == "imported" and first.number

    # The same mail again, as an mbox export or a second IMAP fetch has it: trace headers added.
    again = take(db, settings, b"Received: from mx.example.net by mx2\r\nX-UID: 77\r\n" + raw, "mbox#1")
    assert (again.result, again.number, again.line()) == ("duplicate", first.number, f"duplicate: {first.number}")

    reused = take(db, settings, mail(message_id=message_id, body="另一件事：我的账号被盗了。"))
    assert reused.result == "imported" and reused.number != first.number
    assert _count(db, Ticket) == 2
    assert _ticket(app_client, admin, reused.number or "")["description"] == "另一件事：我的账号被盗了。"
    # The ticket keeps the Message-ID as its own id only where it came first.
    assert _ticket(app_client, admin, first.number)["source_ref"] == message_id
    assert _ticket(app_client, admin, reused.number or "")["source_ref"] is None


def test_a_mail_without_a_message_id_is_still_replayed_by_its_content(db: Database, settings: Settings) -> None:
    raw = mail().replace(b"Message-ID:", b"X-Old-Message-ID:")
    assert take(db, settings, raw).result == "imported"
    assert take(db, settings, raw).result == "duplicate"
    assert _count(db, Ticket) == 1


# --- threading ----------------------------------------------------------------------------------


def test_a_reply_with_in_reply_to_becomes_a_message_on_the_ticket(
    app_client: TestClient, admin: StaffLogin, db: Database, settings: Settings
) -> None:
    original = new_id()
    first = take(db, settings, mail(message_id=original))
    reply = take(
        db,
        settings,
        mail(
            subject="Re: 会员充值失败",
            body="订单号是 DD2026120200017。\n\n在 2026年12月2日 10:00，客服 写道：\n> 请提供订单号",
            in_reply_to=original,
            sender="someone.else@example.org",  # the Message-ID threads on its own
        ),
    )
    assert (reply.result, reply.number) == ("threaded", first.number)
    messages = _messages(app_client, admin, first.number or "")
    assert [(m["kind"], m["channel"], m["body"]) for m in messages] == [("user", "email", "订单号是 DD2026120200017。")]
    assert "user_message_added" in [e["action"] for e in _events(app_client, admin, first.number or "")]
    assert _count(db, Ticket) == 1


class RecordingSender:
    """Stands in for the SMTP sender: the Message-ID it reports is what a reply or bounce names."""

    name = "email"

    def __init__(self) -> None:
        self.sent: list[Outgoing] = []

    def deliver(self, outgoing: Outgoing) -> Delivered:
        self.sent.append(outgoing)
        return Delivered(external_id=f"<reply-{outgoing.delivery_id}@help.example.com>")


@pytest.fixture
def email_sender() -> Iterator[RecordingSender]:
    sender = RecordingSender()
    registry.register("email", sender)
    yield sender
    registry.register("email", None)


def _reply_and_send(client: TestClient, admin: StaffLogin, db: Database, number: str) -> str:
    """An agent's public reply, sent by the delivery job: the Message-ID it went out with."""
    answer = client.post(f"/api/v1/tickets/{number}/replies", json={"body": "请提供订单号。"}, headers=admin.headers)
    assert answer.status_code == 201, answer.text
    runner.run_due(db)
    with db.read() as session:
        external = session.scalar(
            select(MessageDelivery.external_id).where(
                MessageDelivery.message_id == answer.json()["id"], MessageDelivery.channel == "email"
            )
        )
    assert external
    return external.strip("<>")


def test_an_answer_to_the_reply_we_sent_threads_by_its_message_id(
    app_client: TestClient, admin: StaffLogin, db: Database, settings: Settings, email_sender: RecordingSender
) -> None:
    first = take(db, settings, mail())
    ours = _reply_and_send(app_client, admin, db, first.number or "")
    answer = take(db, settings, mail(subject="Re: 您的反馈", body="订单号 DD1", in_reply_to=ours))
    assert (answer.result, answer.number) == ("threaded", first.number)


def test_a_subject_number_threads_only_from_the_tickets_contact(
    app_client: TestClient, admin: StaffLogin, db: Database, settings: Settings
) -> None:
    first = take(db, settings, mail(sender="li.lei@example.net"))
    number = first.number or ""
    same = take(
        db, settings, mail(subject=f"Re: [#{number}] 会员充值失败", body="还没有解决", sender="Li.Lei@Example.NET")
    )
    assert (same.result, same.number) == ("threaded", number)
    # Lower case and without the dash, as people type it.
    loose = take(db, settings, mail(subject=f"回复：{number.lower().replace('-', '')} 进展？", body="进展如何？"))
    assert (loose.result, loose.number) == ("threaded", number)
    stranger = take(db, settings, mail(subject=f"Re: [#{number}]", body="我也遇到了", sender="other@example.org"))
    assert stranger.result == "imported" and stranger.number != number
    assert [m["body"] for m in _messages(app_client, admin, number)] == ["还没有解决", "进展如何？"]


def test_the_reply_address_threads_like_the_subject(
    app_client: TestClient, admin: StaffLogin, db: Database, settings: Settings
) -> None:
    ours = settings.model_copy(update={"mail_from": SUPPORT})
    first = take(db, ours, mail())
    number = first.number or ""
    local, _, domain = SUPPORT.partition("@")
    reply = take(db, ours, mail(subject="答复", body="截图发您了", to=f"{local}+{number.lower()}@{domain}"))
    assert (reply.result, reply.number) == ("threaded", number)


def test_a_reply_reopens_a_resolved_ticket_and_a_closed_one_gets_a_follow_up(
    app_client: TestClient, admin: StaffLogin, db: Database, settings: Settings
) -> None:
    original = new_id()
    first = take(db, settings, mail(message_id=original))
    number = first.number or ""
    status = app_client.post(f"/api/v1/tickets/{number}/status", json={"status": "resolved"}, headers=admin.headers)
    assert status.status_code == 200, status.text
    back = take(db, settings, mail(body="还是不行", in_reply_to=original))
    assert back.result == "threaded" and _ticket(app_client, admin, number)["status"] == "open"

    for target in ("resolved", "closed"):
        app_client.post(f"/api/v1/tickets/{number}/status", json={"status": target}, headers=admin.headers)
    late = take(db, settings, mail(body="又出现了同样的问题", in_reply_to=original))
    assert late.result == "imported" and late.number != number
    assert _ticket(app_client, admin, number)["status"] == "closed"
    follow = [e for e in _events(app_client, admin, late.number or "") if e["action"] == "mail_follow_up"]
    assert [e["data"] for e in follow] == [{"of": number}]


# --- charsets ---------------------------------------------------------------------------------------


def test_a_gb2312_mail_with_gbk_characters_makes_a_ticket_with_the_right_text(
    app_client: TestClient, admin: StaffLogin, db: Database, settings: Settings
) -> None:
    subject = "朱镕基和陶喆的账号问题"
    body = "您好：我叫王喆，账号被冻结了，镕字也显示不出来。\r\n"
    raw = (
        b"From: =?gb2312?b?" + base64.b64encode("王喆".encode("gbk")) + b"?= <wang.zhe@example.cn>\r\n"
        b"To: " + SUPPORT.encode() + b"\r\n"
        # A raw 8-bit GBK subject, no RFC 2047: what many Chinese mailers send.
        b"Subject: " + subject.encode("gbk") + b"\r\n"
        b"Message-ID: <" + new_id().encode() + b">\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=gb2312\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + body.encode("gbk")
    )
    outcome = take(db, settings, raw)
    ticket = _ticket(app_client, admin, outcome.number or "")
    assert ticket["title"] == subject and ticket["channel"] == "email"
    assert ticket["description"] == body.strip()
    assert ticket["contact"] == "wang.zhe@example.cn" and ticket["user_name"] == "王喆"
    assert "\ufffd" not in ticket["title"] + ticket["description"]


# --- noise, bounces, spam ---------------------------------------------------------------------------


def _dsn(bounced: str, *, action: str = "failed") -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
        f"To: {SUPPORT}\r\nSubject: Undelivered Mail Returned to Sender\r\nReturn-Path: <>\r\n"
        f"Message-ID: <{new_id()}>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="d"\r\n\r\n'
        "--d\r\nContent-Type: text/plain\r\n\r\nThis is the mail system at mx.example.net.\r\n"
        "--d\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n"
        f"Final-Recipient: rfc822; li.lei@example.net\r\nAction: {action}\r\n"
        f"Status: {'5.1.1' if action == 'failed' else '4.4.1'}\r\n\r\n"
        "--d\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: {SUPPORT}\r\nTo: li.lei@example.net\r\nMessage-ID: <{bounced}>\r\nSubject: Re: 您的反馈\r\n"
        "--d--\r\n"
    ).encode()


def test_a_bounce_of_our_reply_marks_that_delivery_failed(
    app_client: TestClient, admin: StaffLogin, db: Database, settings: Settings, email_sender: RecordingSender
) -> None:
    first = take(db, settings, mail())
    number = first.number or ""
    ours = _reply_and_send(app_client, admin, db, number)

    delayed = take(db, settings, _dsn(ours, action="delayed"))
    assert (delayed.result, delayed.kind, delayed.number) == ("imported", "bounce", number)

    def replies() -> list[dict[str, Any]]:
        items = app_client.get(f"/api/v1/tickets/{number}/deliveries", headers=admin.headers).json()["items"]
        return [d for d in items if d["channel"] == "email" and d["kind"] == "reply"]

    assert [d["status"] for d in replies()] == ["sent"]

    bounce = take(db, settings, _dsn(ours))
    assert (bounce.result, bounce.kind, bounce.number) == ("imported", "bounce", number)
    assert bounce.line() == f"noise: bounce (delivery failed) {number}"
    failed = replies()
    assert [d["status"] for d in failed] == ["failed"] and "li.lei@example.net" in failed[0]["error"]
    assert failed[0]["reason"] == "bounced"
    actions = [e["action"] for e in _events(app_client, admin, number)]
    assert "mail_delayed" in actions and "reply_failed" in actions
    reply = [m for m in _messages(app_client, admin, number) if m["kind"] == "reply"]
    assert [m["delivery"] for m in reply] == ["failed"]
    # A bounce is never a message and never a ticket.
    assert _count(db, Ticket) == 1 and [m["kind"] for m in _messages(app_client, admin, number)] == ["reply"]


def test_a_bounce_of_mail_we_never_sent_is_only_recorded(db: Database, settings: Settings) -> None:
    outcome = take(db, settings, _dsn(new_id()))
    assert (outcome.result, outcome.kind, outcome.number) == ("imported", "bounce", None)
    assert outcome.line() == "noise: bounce (delivery failed)"
    assert _count(db, Ticket) == 0 and _count(db, MailMessage) == 1


def test_auto_replies_and_list_mail_are_recorded_never_tickets(
    app_client: TestClient, admin: StaffLogin, db: Database, settings: Settings
) -> None:
    original = new_id()
    first = take(db, settings, mail(message_id=original))
    number = first.number or ""
    away = take(db, settings, mail(subject="自动回复：会员充值失败", body="我正在休假", in_reply_to=original))
    assert (away.result, away.kind, away.number) == ("imported", "auto_reply", number)
    listed = take(db, settings, mail(subject="Weekly digest", headers=("List-Id: <news.example.org>",)))
    assert (listed.kind, listed.number) == ("list", None)
    robot = take(db, settings, mail(subject="工单已收到", headers=("Auto-Submitted: auto-replied",)))
    assert robot.kind == "auto_reply" and robot.line().startswith("noise: auto_reply (Auto-Submitted")
    assert _count(db, Ticket) == 1 and _messages(app_client, admin, number) == []
    noted = [e["data"] for e in _events(app_client, admin, number) if e["action"] == "mail_noise"]
    assert noted == [{"kind": "auto_reply", "reason": "out-of-office subject", "subject": "自动回复：会员充值失败"}]
    assert _ticket(app_client, admin, number)["status"] == "new"


def test_spam_becomes_a_ticket_tagged_spam_out_of_the_queues(
    app_client: TestClient, admin: StaffLogin, db: Database, settings: Settings
) -> None:
    normal = take(db, settings, mail())
    spam = take(db, settings, mail(subject="发票代开 加微信", body="低价代开发票", headers=("X-Spam-Flag: YES",)))
    assert (spam.result, spam.kind) == ("imported", "spam") and spam.line() == spam.number
    ticket = _ticket(app_client, admin, spam.number or "")
    assert ticket["tags"] == ["spam"] and ticket["status"] == "closed" and ticket["channel"] == "email"
    queue = app_client.get("/api/v1/tickets?status=new,open,pending", headers=admin.headers).json()["items"]
    assert [t["number"] for t in queue] == [normal.number]
    # Even with In-Reply-To of a real ticket, spam never lands on it.
    with db.read() as session:
        own = session.scalar(select(Ticket.source_ref).where(Ticket.number == normal.number))
    sneaky = take(db, settings, mail(in_reply_to=own, headers=("X-Spam-Status: Yes, score=9.1",)))
    assert sneaky.result == "imported" and sneaky.number not in (normal.number, spam.number)
    assert _messages(app_client, admin, normal.number or "") == []


# --- attachments ------------------------------------------------------------------------------------


PDF = b"%PDF-1.4\n" + b"0" * 2000


def test_the_original_and_the_attachments_are_kept_within_the_limits(
    app_client: TestClient, admin: StaffLogin, db: Database, settings: Settings
) -> None:
    small = settings.model_copy(update={"max_attachment_bytes": 6000})
    kept = take(db, small, with_attachment(filename="发票.pdf", data=PDF))
    files = app_client.get(f"/api/v1/tickets/{kept.number}/attachments", headers=admin.headers).json()
    assert [(f["filename"], f["content_type"]) for f in files] == [
        ("original.eml", "text/plain"),
        ("发票.pdf", "application/pdf"),
    ]
    winmail = take(db, small, with_attachment(filename="winmail.dat", data=b"\x78\x9f\x3e\x22" + b"\x01" * 100))
    files = app_client.get(f"/api/v1/tickets/{winmail.number}/attachments", headers=admin.headers).json()
    assert ("winmail.dat", "application/octet-stream") in [(f["filename"], f["content_type"]) for f in files]

    # Over the limit: listed on the timeline, not stored (the whole mail is over it too).
    big = take(db, small, with_attachment(filename="big.pdf", data=PDF * 4))
    assert app_client.get(f"/api/v1/tickets/{big.number}/attachments", headers=admin.headers).json() == []
    events = _events(app_client, admin, big.number or "")
    skipped = [e["data"] for e in events if e["action"] == "mail_attachments_skipped"]
    assert [{f["filename"]: f["reason"] for f in data["files"]} for data in skipped] == [
        {"original.eml": "too_large", "big.pdf": "too_large"}
    ]
    assert skipped[0]["files"][1]["size"] == len(PDF * 4) and skipped[0]["max_bytes"] == 6000

    few = settings.model_copy(update={"max_attachments_per_ticket": 1})
    one = take(db, few, with_attachment(filename="发票.pdf", data=PDF))
    files = app_client.get(f"/api/v1/tickets/{one.number}/attachments", headers=admin.headers).json()
    assert [f["filename"] for f in files] == ["original.eml"]
    events = _events(app_client, admin, one.number or "")
    skipped = [e["data"]["files"] for e in events if e["action"] == "mail_attachments_skipped"]
    assert skipped == [[{"filename": "发票.pdf", "size": len(PDF), "reason": "too_many"}]]


# --- quarantine, flood, failure ---------------------------------------------------------------------


def test_an_unreadable_mail_is_quarantined_with_its_raw_bytes(db: Database, settings: Settings) -> None:
    raw = b"\x00\x01 this is not a mail at all \xff\xfe"
    outcome = take(db, settings, raw, "inbox#3")
    assert outcome.result == "quarantined" and outcome.line() == "quarantined: no mail header fields: not a mail"
    with db.read() as session:
        entry = session.scalars(select(MailQuarantine)).one()
        assert (entry.status, entry.source, entry.size) == ("open", "inbox#3", len(raw))
    path = settings.quarantine_dir / entry.storage_key
    assert path.read_bytes() == raw and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert take(db, settings, raw).result == "duplicate"
    assert _count(db, MailQuarantine) == 1


def test_a_sender_flooding_us_is_quarantined_and_others_still_get_through(db: Database, settings: Settings) -> None:
    limited = settings.model_copy(update={"mail_flood_per_hour": 3})
    results = [take(db, limited, mail(body=f"第 {n} 封")).result for n in range(5)]
    assert results == ["imported", "imported", "imported", "quarantined", "quarantined"]
    flood = take(db, limited, mail(body="第 6 封"))
    assert flood.line().startswith("quarantined: flood")
    assert take(db, limited, mail(sender="other@example.org")).result == "imported"
    # A reply to a ticket is no new ticket: it still threads.
    with db.read() as session:
        own = session.scalar(select(Ticket.source_ref).order_by(Ticket.id).limit(1))
    assert take(db, limited, mail(body="补充", in_reply_to=own)).result == "threaded"
    # An hour later by the mails' dates (an old mailbox replayed), the sender is welcome again.
    later = take(db, limited, mail(body="第二天", date="Thu, 03 Dec 2026 10:00:00 +0800"))
    assert later.result == "imported"


def test_a_failing_mail_is_rolled_back_and_the_next_one_goes_on(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk full")

    monkeypatch.setattr(service.files, "store_mail_files", broken)
    failed = service.import_one(db, mail(), source="a.eml", settings=settings)
    assert (failed.result, failed.line()) == ("failed", "failed: RuntimeError: disk full")
    assert _count(db, MailMessage) == 0 and _count(db, Ticket) == 0
    monkeypatch.undo()
    assert take(db, settings, mail()).result == "imported"
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 0


def test_a_bulk_import_commits_in_batches_and_a_bad_mail_loses_only_itself(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`import_many` (huiying mail import): several mails to a COMMIT, a savepoint each. A mail
    that fails inside a batch, an unreadable file and a replay within the same batch cost only
    themselves; the outcomes come in the order of the mails."""
    from huiying.channels.email.importer import Found

    store = service.files.store_mail_files

    def fails_on_the_fourth(session: Any, *, raw: bytes, **kwargs: Any) -> Any:
        if b"fourth@example.net" in raw:
            raise RuntimeError("disk full")
        return store(session, raw=raw, **kwargs)

    monkeypatch.setattr(service.files, "store_mail_files", fails_on_the_fourth)
    names = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh"]
    raws = [mail(sender=f"{name}@example.net", body=f"{name} 充值失败") for name in names]
    found = [Found(f"{name}.eml", raw) for name, raw in zip(names, raws, strict=True)]
    found.insert(2, Found("broken.eml", error="unreadable: Permission denied"))
    found.append(Found("again.eml", raws[5]))  # the sixth once more, in the same batch
    outcomes = list(service.import_many(db, found, settings=settings, batch_size=3))
    assert [(item.source, outcome.result) for item, outcome in outcomes] == [
        ("first.eml", "imported"),
        ("second.eml", "imported"),
        ("broken.eml", "failed"),
        ("third.eml", "imported"),
        ("fourth.eml", "failed"),
        ("fifth.eml", "imported"),
        ("sixth.eml", "imported"),
        ("seventh.eml", "imported"),
        ("again.eml", "duplicate"),
    ]
    assert _count(db, Ticket) == 6 and _count(db, MailMessage) == 6


def test_a_bounce_of_our_acknowledgement_sent_by_smtp_fails_it(db: Database, settings: Settings) -> None:
    """The real sender (channels/email/outbound.py) keeps the Message-ID it sent on the delivery
    row (`mail_message_id`): a DSN naming it fails that delivery on its ticket."""
    from huiying.app import create_app
    from smtp_sink import SmtpSink

    sink = SmtpSink()
    sink.start()
    ours = settings.model_copy(update={"smtp_url": sink.url, "mail_from": SUPPORT})
    create_app(ours, db)  # its wiring registers the SMTP sender
    try:
        first = take(db, ours, mail())
        while runner.run_due(db):
            pass
        (ack,) = sink.messages
        bounced = str(ack["Message-ID"]).strip("<>")
        outcome = take(db, ours, _dsn(bounced))
        assert (outcome.kind, outcome.number) == ("bounce", first.number)
        with db.read() as session:
            rows = session.execute(
                select(MessageDelivery.kind, MessageDelivery.status, MessageDelivery.reason).where(
                    MessageDelivery.mail_message_id == bounced
                )
            ).all()
        assert [tuple(row) for row in rows] == [("received", "failed", "bounced")]
    finally:
        registry.register("email", None)
        sink.stop()
