"""When the user is told something about their ticket, through which channels, and when.

At each step that matters (SPEC.md §5): received (on creation), taken up (first opened, unless
by the first reply, which says more), waiting
for the user (each time it goes pending), delayed (an agent's announcement, or the sweep's after
48 h: overdue.py), resolved (once per resolution), closed (only when nobody said "resolved"
first), cannot be solved (the reason and an alternative; it stands in for "resolved"), and a
suggestion's outcome (suggestions/). Each channel says whether it tells this ticket's user
(channels.registry.register_notices: email for a person's mail, in-app for an app user, SMS for
a phone); a proactive kind made in quiet hours waits until they end (quiet.py).

Every notice is written by `channels.delivery.queue_notice` in the transaction of the change it
tells of, under a key that makes it once per ticket and channel: a replayed change, a second
handler or a job run twice adds nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huiying import events
from huiying.channels import delivery, plan, registry
from huiying.channels.models import MessageDelivery
from huiying.errors import Conflict, InvalidInput
from huiying.kit.actor import Actor
from huiying.kit.clock import utcnow
from huiying.notices import quiet
from huiying.tickets import intake
from huiying.tickets import service as tickets
from huiying.tickets.enums import Status
from huiying.tickets.models import Ticket

_hours: quiet.QuietHours | None = quiet.parse("22:00-08:00")
_zone = "Asia/Shanghai"
# What an agent writes in a delay or an unsolvable notice: a sentence or two each.
MAX_REASON_CHARS = 500
# The timeline's word for a delay told to the user (by an agent, or by the 48 h sweep).
DELAY_ANNOUNCED = "delay_announced"


def configure(*, quiet_hours: str, timezone: str) -> None:
    global _hours, _zone
    _hours, _zone = quiet.parse(quiet_hours), timezone


def notify(session: Session, ticket: Ticket, *, kind: str, key: str, detail: dict[str, Any] | None = None) -> None:
    """Tell `ticket`'s user of `kind` through each channel that carries it, once per `key`
    (≤ 32 characters); quiet hours make a proactive kind wait. Nothing when no channel does."""
    channels = registry.notice_channels(session, ticket, kind)
    if not channels:
        return
    not_before = quiet.release_at(kind, utcnow(), hours=_hours, zone=_zone)
    delivery.queue_notice(
        session, ticket_id=ticket.id, kind=kind, key=key, channels=channels, detail=detail, not_before=not_before
    )


def _next_key(session: Session, ticket: Ticket, kind: str) -> str:
    """A fresh key for a kind that may be told more than once (pending, delayed): its count."""
    told = session.scalar(
        select(func.count(func.distinct(MessageDelivery.notice_key))).where(
            MessageDelivery.ticket_id == ticket.id, MessageDelivery.kind == kind
        )
    )
    return f"{kind}:{told or 0}"


# --- reactions to the ticket's own changes --------------------------------------------------------


def _on_created(session: Session, event: events.Event) -> None:
    assert isinstance(event, events.TicketCreated)
    ticket = intake.being_created(session, event.ticket_id)
    if ticket is not None:
        notify(session, ticket, kind="received", key="received")


def _on_status(session: Session, event: events.Event) -> None:
    assert isinstance(event, events.StatusChanged)
    ticket = session.get(Ticket, event.ticket_id)
    if ticket is None:
        return
    if event.new == Status.OPEN.value and event.old == Status.NEW.value:
        # Taken up is news only before anyone answered: a first reply that opens the ticket
        # says more than "we are on it" and goes out itself.
        # Nor is it while the ticket is being created (routing opened it for its assignee): the
        # acknowledgement says it is received, and a second message at once says nothing more.
        if ticket.first_responded_at is None and not intake.is_being_created(session, ticket.id):
            notify(session, ticket, kind="taken", key="taken")
    elif event.new == Status.PENDING.value:
        notify(session, ticket, kind="pending", key=_next_key(session, ticket, "pending"))
    elif plan.status_is_news(event.new, event.old):
        # Once per resolution: reopened and resolved again is news again. "Cannot be solved"
        # takes this key first (declare_unsolvable), so its ticket is not told "resolved" too.
        notify(session, ticket, kind=event.new, key=f"{event.new}:{ticket.reopen_count}")


# --- what agents tell the user ---------------------------------------------------------------------


def _sentence(value: str, name: str) -> str:
    text = " ".join(value.split())
    if not text:
        raise InvalidInput(f"say the {name}", code=f"missing_{name}")
    if len(text) > MAX_REASON_CHARS:
        raise InvalidInput(f"the {name} is longer than {MAX_REASON_CHARS} characters", code=f"long_{name}")
    return text


def _require_open(ticket: Ticket) -> None:
    if ticket.status in (Status.RESOLVED.value, Status.CLOSED.value, Status.MERGED.value):
        raise Conflict(f"ticket {ticket.number} is {ticket.status}", code="ticket_not_open")


def announce_delay(session: Session, ticket: Ticket, *, reason: str, expected_at: datetime, actor: Actor) -> None:
    """Tell the user their ticket needs more time: why, and by when we now expect to finish.
    The SLA's own targets stay as they were: a delay is told, not a breach forgiven."""
    _require_open(ticket)
    said = _sentence(reason, "reason")
    if expected_at.tzinfo is None:
        raise InvalidInput("give the expected time with its zone (e.g. 2026-12-08T18:00:00+08:00)", code="naive_time")
    if expected_at <= utcnow():
        raise InvalidInput("the new expected time must lie in the future", code="expected_in_past")
    detail = {"reason": said, "expected_at": expected_at.isoformat()}
    tickets.note_event(session, ticket, action=DELAY_ANNOUNCED, data=detail, actor=actor)
    notify(session, ticket, kind="delayed", key=_next_key(session, ticket, "delayed"), detail=detail)


def declare_unsolvable(session: Session, ticket: Ticket, *, reason: str, alternative: str, actor: Actor) -> None:
    """The problem cannot be solved: the user is told why and what they can do instead, and the
    ticket is resolved (they may still confirm, reopen or rate it, as after any resolution)."""
    _require_open(ticket)
    detail = {"reason": _sentence(reason, "reason"), "alternative": _sentence(alternative, "alternative")}
    tickets.note_event(session, ticket, action="declared_unsolvable", data=detail, actor=actor)
    tickets.add_tags(session, ticket, tags=["unsolvable"], actor=actor)
    key = f"{Status.RESOLVED.value}:{ticket.reopen_count}"
    notify(session, ticket, kind="unsolvable", key=key, detail=detail)
    tickets.change_status(session, ticket, status=Status.RESOLVED, actor=actor)


def install() -> None:
    """Subscribe after the other intake handlers: the SLA sets the due times "received" says,
    and routing may tag the ticket (spam, auto-reply) before a channel looks."""
    events.subscribe_in_transaction(events.TicketCreated, _on_created)
    events.subscribe_in_transaction(events.StatusChanged, _on_status)
