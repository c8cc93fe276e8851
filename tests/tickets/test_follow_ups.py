"""Follow-up messages are idempotent (tickets/follow_ups.py): a channel's own id of a message
(`source_ref`, e.g. an email's Message-ID) is claimed once per ticket and channel, so a replay
adds nothing, on both back ends and under two concurrent replays."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from helpers import submit
from huiying.config import Settings
from huiying.db import Database
from huiying.errors import InvalidInput
from huiying.kit.actor import SYSTEM, platform_user
from huiying.tickets import intake, repository, service
from huiying.tickets.models import Message, Ticket, TicketEvent
from huiying.tickets.schemas import FeedbackIn

MESSAGE_ID = "<CAF=reply-1@mail.example.com>"


def _ticket(db: Database, settings: Settings) -> str:
    with db.write() as session:
        feedback = FeedbackIn(description="邮件里说的问题", user_id="u1")
        return intake.create_ticket(session, feedback=feedback, actor=SYSTEM, settings=settings).ticket.number


def _follow_up(db: Database, settings: Settings, number: str, body: str, *, ref: str = MESSAGE_ID) -> int:
    with db.write() as session:
        ticket = repository.get_by_number(session, number)
        message = service.add_user_message(
            session, ticket, body=body, actor=platform_user("u1"), settings=settings, channel="email", source_ref=ref
        )
        return message.id


def _stored(db: Database) -> tuple[int, int]:
    with db.read() as session:
        messages = session.scalar(select(func.count()).select_from(Message)) or 0
        events = session.scalar(select(func.count()).select_from(TicketEvent)) or 0
        return messages, events


def test_a_replayed_follow_up_returns_the_first_message_and_adds_nothing(db: Database, settings: Settings) -> None:
    number = _ticket(db, settings)
    first = _follow_up(db, settings, number, "补充：订单号 DD1")
    before = _stored(db)
    assert _follow_up(db, settings, number, "补充：订单号 DD1") == first
    assert _stored(db) == before == (1, before[1])


def test_the_same_id_with_other_words_is_refused(db: Database, settings: Settings) -> None:
    number = _ticket(db, settings)
    _follow_up(db, settings, number, "补充：订单号 DD1")
    before = _stored(db)
    with pytest.raises(InvalidInput) as refused:
        _follow_up(db, settings, number, "完全不同的内容")
    assert refused.value.code == "source_ref_reused"
    assert refused.value.status_code == 422
    assert _stored(db) == before


def test_the_claim_is_per_ticket_and_another_id_is_another_message(db: Database, settings: Settings) -> None:
    first, second = _ticket(db, settings), _ticket(db, settings)
    _follow_up(db, settings, first, "同样的话")
    _follow_up(db, settings, second, "同样的话")
    _follow_up(db, settings, first, "同样的话", ref="<another@mail.example.com>")
    assert _stored(db)[0] == 3


def test_two_concurrent_replays_make_one_message(db: Database, settings: Settings) -> None:
    number = _ticket(db, settings)
    barrier = threading.Barrier(2)

    def replay() -> int:
        barrier.wait()
        return _follow_up(db, settings, number, "并发重放的同一封邮件")

    with ThreadPoolExecutor(max_workers=2) as pool:
        ids = [future.result() for future in [pool.submit(replay), pool.submit(replay)]]
    assert ids[0] == ids[1]
    with db.read() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
        assert len(repository.messages(session, ticket, include_internal=True)) == 1


def _portal_form(client: TestClient, link: str) -> dict[str, str]:
    page = client.get(link).text
    return {name: page.split(f'name="{name}" value="')[1].split('"')[0] for name in ("csrf_token", "source_ref")}


def test_the_portal_form_sent_twice_adds_one_message(app_client: TestClient, db: Database) -> None:
    link = submit(app_client)["portal_url"].split("://", 1)[1].split("/", 1)[1]
    form = _portal_form(app_client, f"/{link}")
    for _ in range(2):
        sent = app_client.post(f"/{link}/message", data={**form, "text": "补充：用的是5G网络"}, follow_redirects=False)
        assert sent.status_code == 303
        assert "error" not in sent.headers["location"]
    assert _stored(db)[0] == 1
    # A fresh form is a new message.
    again = _portal_form(app_client, f"/{link}")
    app_client.post(f"/{link}/message", data={**again, "text": "补充：用的是5G网络"}, follow_redirects=False)
    assert _stored(db)[0] == 2
