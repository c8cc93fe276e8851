"""A ticket still open 48 hours after it came in tells its user of the delay, unasked (SPEC.md §5).

Once per ticket: an agent who announced a delay already (triggers.announce_delay) said it
better, and the sweep's own announcement is on the timeline as the same event, so it is never
repeated. A ticket waiting for the user (pending) is not late on our side; resolved and closed
ones are done. The new expected time is the SLA's resolution target while it lies ahead, else a
day from now; the notice waits for quiet hours like any delay.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiying.db import Database
from huiying.jobs.registry import register_periodic
from huiying.kit.actor import SYSTEM
from huiying.kit.clock import utcnow
from huiying.kit.locale import language_of
from huiying.notices import triggers, wording
from huiying.tickets import service as tickets
from huiying.tickets.enums import Status
from huiying.tickets.models import Ticket, TicketEvent

JOB = "notice_overdue"
EVERY = timedelta(minutes=10)
OPEN_FOR = timedelta(hours=48)
# How far back past 48 h the sweep looks: a ticket crosses the mark once, and the sweep runs every
# ten minutes, so a week covers any outage of it while keeping each sweep's scan to a week of
# tickets instead of every open one ever (which grows without end on a busy platform).
LOOK_BACK = timedelta(days=7)
# Without a target ahead, the promise the notice makes: a day from now.
NEW_PROMISE = timedelta(hours=24)
BATCH = 200
CHUNK = 500  # candidates asked of the timeline at once
ACTION = triggers.DELAY_ANNOUNCED


def due_ids(session: Session, *, limit: int = BATCH) -> list[int]:
    """Open tickets past 48 h (by at most LOOK_BACK) whose user was told of no delay yet, oldest
    first. Told or not is asked of the timeline per chunk of candidates, by ticket id (its index):
    an anti-join would leave the plan to the statistics, and with stale ones PostgreSQL scanned
    every announcement once per candidate."""
    mark = utcnow() - OPEN_FOR
    candidates = list(
        session.scalars(
            select(Ticket.id)
            .where(
                Ticket.status.in_((Status.NEW.value, Status.OPEN.value)),
                Ticket.received_at <= mark,
                Ticket.received_at > mark - LOOK_BACK,
            )
            .order_by(Ticket.received_at, Ticket.id)
        )
    )
    due: list[int] = []
    for start in range(0, len(candidates), CHUNK):
        chunk = candidates[start : start + CHUNK]
        told = set(
            session.scalars(
                select(TicketEvent.ticket_id).where(TicketEvent.ticket_id.in_(chunk), TicketEvent.action == ACTION)
            )
        )
        due += [ticket_id for ticket_id in chunk if ticket_id not in told]
        if len(due) >= limit:
            break
    return due[:limit]


def announce(session: Session, ticket: Ticket) -> None:
    """The sweep's delay notice for one ticket (re-checked: it may have moved on since it was found)."""
    if ticket.status not in (Status.NEW.value, Status.OPEN.value):
        return
    now = utcnow()
    due = ticket.resolution_due
    expected = due if due is not None and due > now + timedelta(hours=1) else now + NEW_PROMISE
    detail = {
        "reason": wording.OVERDUE_REASON[language_of(ticket.language)],
        "expected_at": expected.isoformat(),
        "automatic": True,
    }
    tickets.note_event(session, ticket, action=ACTION, data=detail, actor=SYSTEM)
    triggers.notify(session, ticket, kind="delayed", key="delayed:auto", detail=detail)


def sweep(db: Database) -> None:
    with db.write() as session:
        for ticket_id in due_ids(session):
            ticket = session.get(Ticket, ticket_id)  # one sweep at a time: the periodic job is leased
            if ticket is not None:
                announce(session, ticket)


def register_jobs() -> None:
    register_periodic(JOB, sweep, every=EVERY)
