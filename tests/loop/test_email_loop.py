"""The whole loop of an email ticket, as one user lives it, against real servers on this machine
(IMAP: pymap; SMTP: aiosmtpd) on SQLite and PostgreSQL: their mail is fetched and becomes a
ticket; the acknowledgement brings its number and when to expect an answer; the agent's reply
comes threaded under their mail; their answer by mail lands on the same ticket; the resolution
mail links to the survey; a 不满意 by that link reopens the ticket for the team's supervisor
(tag second_handling, their words on the timeline) and the ticket JSON shows the score; and
every mail of it was sent once. Time is injected (`kit.clock.frozen`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from loop_kit import BASE_URL, ImapServer, actions, deliveries, drain, get, imap_server, mail, new_id, post

from conftest import login
from huiying.accounts import service as accounts
from huiying.app import create_app
from huiying.channels import registry
from huiying.channels.email import imap
from huiying.config import Settings
from huiying.db import Database
from huiying.kit.clock import frozen
from huiying.kit.roles import Role
from smtp_sink import SmtpSink

__all__ = ["imap_server"]  # the fixture, imported for this module's tests

T0 = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # Wednesday 10:00 in Beijing (the sample mails' Date)
BEIJING = ZoneInfo("Asia/Shanghai")
USER = "li.lei@example.net"
SUPERVISOR = "team.lead@example.com"
TEAM = "merchant"


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture(autouse=True)
def _no_sender_left() -> Iterator[None]:
    """The sender registry and the poll's failure list are process-wide: leave them clean."""
    imap.failures.clear()
    yield
    registry.register("email", None)
    imap.failures.clear()


def _text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def _all(sink: SmtpSink, words: str) -> list[EmailMessage]:
    """The mails received whose text says `words`."""
    return [m for m in sink.messages if words in _text(m)]


def _one(sink: SmtpSink, words: str) -> EmailMessage:
    (found,) = _all(sink, words)
    return found


def _id(message: EmailMessage, header: str = "Message-ID") -> str:
    return str(message[header]).strip().strip("<>")


def test_a_mail_ticket_goes_round_the_whole_loop_and_each_mail_is_sent_once(
    imap_server: ImapServer, db: Database, settings: Settings, smtp: SmtpSink
) -> None:
    folder = imap_server.new_folder(keywords=True)
    ours = settings.model_copy(
        update={
            "imap_url": imap_server.url(folder),
            "smtp_url": smtp.url,
            "mail_from": "回应客服 <support@help.example.com>",
            "base_url": BASE_URL,
        }
    )
    with TestClient(create_app(ours, db), raise_server_exceptions=False) as client:
        admin = login(client, db, email="admin@example.com", role=Role.ADMIN)
        boxes = imap.mailboxes(ours)

        # 1. The user's mail is fetched from the mailbox: a ticket, and its acknowledgement.
        first_mail = new_id()
        with frozen(T0):
            imap_server.append(
                folder, mail(sender=USER, message_id=first_mail, body="充值了会员但是没有生效，钱已经扣了。")
            )
            polled = imap.poll(db, boxes, settings=ours)
            drain(db)
        assert polled.tally.line() == "imported=1 threaded=0 quarantined=0 failed=0"
        (ack,) = smtp.messages
        found = re.search(r"\[#(HY\d{6}-\d{4})\]", str(ack["Subject"]))
        assert found is not None and ack["To"] == USER
        number = found.group(1)
        ticket = get(client, admin, f"/api/v1/tickets/{number}")
        first = datetime.fromisoformat(ticket["first_response_due"]).astimezone(BEIJING)
        solved = datetime.fromisoformat(ticket["resolution_due"]).astimezone(BEIJING)
        said = _text(ack)
        assert f"工单号为 {number}" in said
        assert f"我们会在今天 {first:%H:%M} 前给您首次答复" in said
        assert f"{solved:%H:%M} 前处理完毕（北京时间）" in said and solved > first
        assert _id(ack, "In-Reply-To") == first_mail

        # The agent files it (triage is off in the tests) with the team whose supervisor will
        # take a second handling.
        with db.write() as session:
            accounts.create_user(session, email=SUPERVISOR, password="x" * 12, role=Role.SUPERVISOR, team_slugs=[TEAM])
        with frozen(T0 + timedelta(minutes=5)):
            filed = {"category": "commercial", "subcategory": "membership", "team": TEAM}
            assert client.patch(f"/api/v1/tickets/{number}", json=filed, headers=admin.headers).status_code == 200

        # 2. The agent replies through the API: the mail answers the user's, in its thread.
        with frozen(T0 + timedelta(minutes=20)):
            body = {"body": "您好，会员已为您补开，请重新登录查看。"}
            post(client, admin, f"/api/v1/tickets/{number}/replies", body, status=201)
            drain(db)
        reply = _one(smtp, "会员已为您补开")
        assert reply["To"] == USER and f"[#{number}]" in str(reply["Subject"])
        assert _id(reply, "In-Reply-To") == first_mail
        assert first_mail in str(reply["References"]) and _id(ack) in str(reply["References"])

        # 3. The user answers that mail from their mail program: the same ticket, not a new one.
        answer_mail = new_id()
        with frozen(T0 + timedelta(hours=1)):
            imap_server.append(
                folder,
                mail(
                    sender=USER,
                    message_id=answer_mail,
                    subject=f"Re: {reply['Subject']}",
                    body="重新登录后还是普通用户，没有会员。",
                    in_reply_to=_id(reply),
                ),
            )
            polled = imap.poll(db, boxes, settings=ours)
            drain(db)
        assert polled.tally.line() == "imported=0 threaded=1 quarantined=0 failed=0"
        tickets = get(client, admin, "/api/v1/tickets")["items"]
        assert [t["number"] for t in tickets] == [number]
        messages = get(client, admin, f"/api/v1/tickets/{number}/messages")
        assert [m["body"] for m in messages if m["author_type"] == "user"][-1] == "重新登录后还是普通用户，没有会员。"
        assert len(_all(smtp, "工单号为")) == 1  # a follow-up is not acknowledged again

        # 4. The agent resolves it: the resolution mail links to the survey on the portal.
        with frozen(T0 + timedelta(hours=2)):
            post(client, admin, f"/api/v1/tickets/{number}/status", {"status": "resolved"})
            drain(db)
        resolution = _one(smtp, "#survey")
        assert resolution["To"] == USER and _id(resolution, "In-Reply-To") == answer_mail
        assert f"您的工单 {number} 已处理完毕" in _text(resolution)
        link = re.search(rf"{re.escape(BASE_URL)}/portal/t/([A-Za-z0-9_.\-]+)#survey", _text(resolution))
        assert link is not None, _text(resolution)
        sent_before_survey = len(smtp.messages)
        token = link.group(1)
        html = resolution.get_body(("html",))
        assert html is not None and f"/portal/t/{token}#survey" in str(html.get_content())  # type: ignore[attr-defined]
        portal = client.get(urlsplit(link.group(0)).path, params={"lang": "zh"})
        assert portal.status_code == 200 and 'id="survey"' in portal.text

        # 5. The user answers the survey by the signed link: 不满意 — a second handling.
        with frozen(T0 + timedelta(hours=3)):
            rated = client.post(
                f"/api/v1/surveys/{token}", json={"csat": "dissatisfied", "nps": 3, "comment": "会员还是没有到账"}
            )
            assert rated.status_code == 201, rated.text
            drain(db)
        assert rated.json() == {"number": number, "csat": "dissatisfied", "nps": 3, "second_handling": True}
        ticket = get(client, admin, f"/api/v1/tickets/{number}")
        assert (ticket["status"], ticket["assignee"], ticket["csat"], ticket["nps"]) == (
            "open",
            SUPERVISOR,
            "dissatisfied",
            3,
        )
        assert "second_handling" in ticket["tags"] and ticket["reopen_count"] == 1
        events = actions(client, admin, number)
        (reopened,) = [e for e in events if e["action"] == "status_changed" and e["old"] == "resolved"]
        assert reopened["new"] == "open"
        assert "会员还是没有到账" in str(reopened["data"]) and "不满意" in str(reopened["data"])
        assert [e["data"]["supervisor"] for e in events if e["action"] == "survey_second_handling"] == [SUPERVISOR]
        again = client.post(f"/api/v1/surveys/{token}", json={"csat": "very_satisfied"})
        assert (again.status_code, again.json()["error"]["code"]) == (409, "survey_answered")

        assert len(smtp.messages) == sent_before_survey  # a reopen by the survey is no news to mail

        # 6. Every mail once: each delivery sent on its first attempt, one mail each, no repeat.
        rows = deliveries(client, admin, number)
        assert {(d["channel"], d["status"], d["attempts"]) for d in rows} == {("email", "sent", 1)}
        kinds = [d["kind"] for d in rows]
        assert [k for k in kinds if k in ("received", "reply", "resolved")] == ["received", "reply", "resolved"]
        assert len(kinds) == len(set(kinds))  # no kind twice (a "taken" notice may come besides)
        assert len(smtp.messages) == len(rows) and len({_id(m) for m in smtp.messages}) == len(rows)
        assert [to for _, (to,) in smtp.envelopes] == [USER] * len(rows)
        assert [e["action"] for e in events].count("reply_delivered") == 1
        assert [e["action"] for e in events].count("notice_delivered") == len(rows) - 1
