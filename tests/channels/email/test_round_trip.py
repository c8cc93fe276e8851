"""The email channel end to end against real servers on this machine, on both back ends: a
user's mail lands in an IMAP mailbox (pymap), the poll makes it a ticket, the acknowledgement
with its number goes out by SMTP (aiosmtpd), an agent's reply follows it, and the user's answer
to that reply, back in the mailbox, lands on the same ticket — and a poll that crashed after its
commit makes no duplicate of any of it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from imap_server import ImapServer
from mail_samples import mail, new_id
from test_imap import _no_failures_left_over, imap_server  # the pymap server fixture, shared

from conftest import StaffLogin, login
from huiying.app import create_app
from huiying.channels import registry
from huiying.channels.email import imap
from huiying.channels.email.imap_client import KEYWORD
from huiying.config import Settings
from huiying.db import Database
from huiying.kit.clock import frozen
from huiying.kit.roles import Role
from huiying.worker import runner
from smtp_sink import SmtpSink

__all__ = ["_no_failures_left_over", "imap_server"]

T0 = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # the sample mails' Date: 10:00 in Beijing
USER = "li.lei@example.net"


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


def _drain(db: Database) -> None:
    while runner.run_due(db) > 0:
        pass


def test_mail_in_acknowledgement_and_reply_out_and_the_answer_back_on_the_same_ticket(
    imap_server: ImapServer, db: Database, settings: Settings, smtp: SmtpSink
) -> None:
    folder = imap_server.new_folder(keywords=True)
    ours = settings.model_copy(
        update={
            "imap_url": imap_server.url(folder),
            "smtp_url": smtp.url,
            "mail_from": "回应客服 <support@help.example.com>",
        }
    )
    with TestClient(create_app(ours, db), raise_server_exceptions=False) as client:
        staff: StaffLogin = login(client, db, email="lead@example.com", role=Role.ADMIN)
        boxes = imap.mailboxes(ours)
        try:
            with frozen(T0):
                imap_server.append(
                    folder, mail(sender=USER, message_id=new_id(), body="充值了会员但是没有生效，钱已经扣了。")
                )
                first = imap.poll(db, boxes, settings=ours)
                _drain(db)
            assert first.tally.line() == "imported=1 threaded=0 quarantined=0 failed=0"
            (ack,) = smtp.messages
            number = re.search(r"\[#(HY\d{6}-\d{4})\]", str(ack["Subject"]))
            assert number is not None and ack["To"] == USER
            number_text = number.group(1)

            with frozen(T0 + timedelta(minutes=20)):
                answer = client.post(
                    f"/api/v1/tickets/{number_text}/replies",
                    json={"body": "您好，会员已为您补开，请重新登录查看。"},
                    headers=staff.headers,
                )
                assert answer.status_code == 201, answer.text
                _drain(db)
            reply = smtp.messages[1]
            assert "会员已为您补开" in str(reply.get_body(("plain",)).get_content())  # type: ignore[union-attr]

            # The user answers our reply from their mail program: it threads by In-Reply-To.
            reply_id = str(reply["Message-ID"]).strip("<> ")
            with frozen(T0 + timedelta(hours=1)):
                imap_server.append(
                    folder,
                    mail(
                        sender=USER,
                        subject=f"Re: {reply['Subject']}",
                        body="好的，已经可以用了，谢谢！",
                        in_reply_to=reply_id,
                    ),
                )
                second = imap.poll(db, boxes, settings=ours)
            assert second.tally.line() == "imported=0 threaded=1 quarantined=0 failed=0"
            messages = client.get(f"/api/v1/tickets/{number_text}/messages", headers=staff.headers).json()
            assert [m["body"] for m in messages if m["author_type"] == "user"] == ["好的，已经可以用了，谢谢！"]
            assert imap_server.flags(folder) == [{KEYWORD}, {KEYWORD}]

            # Every mail unmarked again, as after a crash between the commits and the marks:
            # the re-poll finds duplicates only, and nobody is written to twice.
            imap_server.clear_flags(folder)
            with frozen(T0 + timedelta(hours=2)):
                again = imap.poll(db, boxes, settings=ours)
                _drain(db)
            assert again.tally.line() == "imported=0 threaded=0 quarantined=0 failed=0 duplicate=2"
            assert len(smtp.messages) == 2
            tickets = client.get("/api/v1/tickets", headers=staff.headers).json()["items"]
            assert [t["number"] for t in tickets] == [number_text]
        finally:
            registry.register("email", None)
