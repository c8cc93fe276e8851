"""Hotline calls and call-backs: log a call against the caller's ticket (or a new one), give
every phone ticket a call-back task due 48 hours after it was received, record its outcome.

A new ticket is not written yet while its TicketCreated handlers run, so its call-back row is
written right after it (intake.write_with_new_ticket).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import inspect, or_, select
from sqlalchemy.orm import Session

from huiying import events
from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.calendars import service as calendars
from huiying.calendars.business_time import MissingCalendarData
from huiying.callbacks.models import OUTCOMES, VERDICTS, Callback, CallLog
from huiying.config import Settings
from huiying.errors import Conflict, InvalidInput, NotFound
from huiying.kit.actor import Actor
from huiying.kit.clock import utcnow
from huiying.kit.masking import mask_contact, mask_text
from huiying.kit.sql import dialect_insert
from huiying.privacy import crypto
from huiying.tickets import intake
from huiying.tickets import service as tickets
from huiying.tickets.access import get_ticket_for
from huiying.tickets.enums import Channel, Status
from huiying.tickets.intake_policy import IntakeCaller
from huiying.tickets.models import Ticket
from huiying.tickets.schemas import FeedbackIn

CALLBACK_HOURS = 48
PHONE_CHANNEL = Channel.HOTLINE.value
OPEN_STATUSES = (Status.NEW.value, Status.OPEN.value, Status.PENDING.value)
_PHONE = re.compile(r"\+?[\d\s\-()]{5,32}")

# True: the 48 hours count on the ticket's working calendar (the SLA's); False: wall-clock hours.
_working_hours = False


def configure(*, working_hours: bool) -> None:
    """How the call-back's 48 hours are counted (setting `callback_working_hours`)."""
    global _working_hours
    _working_hours = working_hours


def install() -> None:
    """Subscribe after routing: the working calendar is the ticket's team's."""
    events.subscribe_in_transaction(events.TicketCreated, _on_created)


# --- call-back tasks -------------------------------------------------------------------------------


def due_for(session: Session, ticket: Ticket) -> datetime:
    """When the ticket's call-back is due: 48 hours after it was received, wall-clock or on the
    working calendar. A calendar without data for the dates falls back to wall-clock hours: a
    call-back a little early beats none."""
    start = ticket.received_at
    if _working_hours:
        try:
            return calendars.team_calendar(session, ticket.team).add_minutes(start, CALLBACK_HOURS * 60)
        except MissingCalendarData:
            pass
    return start + timedelta(hours=CALLBACK_HOURS)


def ensure_callback(session: Session, ticket: Ticket) -> None:
    """Give the ticket its call-back task, once (a second call changes nothing)."""
    row = {
        "ticket_id": ticket.id,
        "due_at": due_for(session, ticket),
        "attempts": 0,
        "created_at": utcnow(),
    }
    if inspect(ticket).transient:
        intake.write_with_new_ticket(session, Callback, row)
    else:
        _insert(session, [row])


def _insert(session: Session, rows: list[dict[str, Any]]) -> None:
    statement = dialect_insert(session, Callback).values(rows).on_conflict_do_nothing(index_elements=["ticket_id"])
    session.execute(statement)


def _on_created(session: Session, event_: events.Event) -> None:
    assert isinstance(event_, events.TicketCreated)
    if event_.channel != PHONE_CHANNEL:
        return
    ticket = intake.being_created(session, event_.ticket_id)
    if ticket is not None:
        ensure_callback(session, ticket)


@dataclass(frozen=True)
class CallbackRow:
    """One line of the call-back list."""

    ticket: str
    title: str
    caller: str | None
    due_at: datetime
    overdue: bool
    outcome: str | None
    verdict: str | None
    attempts: int
    done_at: datetime | None


def is_overdue(callback: Callback, now: datetime) -> bool:
    """Past its due time and not done (a done call-back is never overdue, however late)."""
    return callback.done_at is None and callback.due_at < now


def list_callbacks(
    session: Session, *, now: datetime, open_only: bool = True, actor: Actor | None = None
) -> list[CallbackRow]:
    """The call-back list, soonest due first; `actor`: only the tickets they see (None: all)."""
    query = select(Callback, Ticket).join(Ticket, Ticket.id == Callback.ticket_id)
    if open_only:
        query = query.where(Callback.done_at.is_(None))
    teams = access.visible_team_ids(actor) if actor is not None else None
    if teams is not None:
        query = query.where(or_(Ticket.team_id.is_(None), Ticket.team_id.in_(teams)))
    query = query.order_by(Callback.due_at, Callback.id)
    return [
        CallbackRow(
            ticket=ticket.number,
            title=ticket.title,
            caller=ticket.contact_masked,
            due_at=callback.due_at,
            overdue=is_overdue(callback, now),
            outcome=callback.outcome,
            verdict=callback.verdict,
            attempts=callback.attempts,
            done_at=callback.done_at,
        )
        for callback, ticket in session.execute(query)
    ]


def callback_of(session: Session, ticket: Ticket) -> Callback | None:
    return session.scalar(select(Callback).where(Callback.ticket_id == ticket.id))


def record_outcome(
    session: Session,
    callback: Callback,
    *,
    outcome: str,
    verdict: str | None,
    note: str | None,
    actor: Actor,
) -> Callback:
    """Record a call-back attempt. `not_reached` keeps the task open (still due, overdue stays
    visible) and counts the attempt; `reached` closes it with the user's verdict."""
    if outcome not in OUTCOMES:
        raise InvalidInput(f"unknown outcome {outcome!r}", code="unknown_outcome", details={"field": "outcome"})
    if verdict is not None and verdict not in VERDICTS:
        raise InvalidInput(f"unknown verdict {verdict!r}", code="unknown_verdict", details={"field": "verdict"})
    if outcome == "not_reached" and verdict is not None:
        raise InvalidInput(
            "a verdict needs the user reached", code="verdict_without_call", details={"field": "verdict"}
        )
    if callback.done_at is not None:
        raise Conflict("this call-back is already done", code="callback_done")
    ticket = session.get_one(Ticket, callback.ticket_id)
    now = utcnow()
    callback.attempts += 1
    callback.outcome = outcome
    callback.note = note or None
    data: dict[str, Any] = {"outcome": outcome, "attempts": callback.attempts}
    if outcome == "reached":
        callback.verdict = verdict
        callback.done_at = now
        callback.done_by = actor.staff_id
        data.update(verdict=verdict, on_time=now <= callback.due_at)
    if note:
        data["note"] = note
    session.flush()
    action = "callback_done" if outcome == "reached" else "callback_not_reached"
    tickets.note_event(session, ticket, action=action, data=data, actor=actor)
    return callback


@dataclass(frozen=True)
class CallbackOutcome:
    """What QA reads of a ticket's call-back (the "call-back made" item of the score)."""

    due_at: datetime
    done_at: datetime | None
    outcome: str | None
    verdict: str | None
    attempts: int

    @property
    def made_on_time(self) -> bool:
        return self.done_at is not None and self.done_at <= self.due_at


def callback_outcome(session: Session, ticket: Ticket) -> CallbackOutcome | None:
    """The ticket's call-back for QA; None for a ticket that needs none (not a phone ticket)."""
    row = callback_of(session, ticket)
    if row is None:
        return None
    return CallbackOutcome(
        due_at=row.due_at, done_at=row.done_at, outcome=row.outcome, verdict=row.verdict, attempts=row.attempts
    )


# --- call logs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallLogged:
    ticket: Ticket
    call: CallLog
    created: bool


def _check_phone(caller: str) -> str:
    value = caller.strip()
    digits = re.sub(r"\D", "", value)
    if not _PHONE.fullmatch(value) or not 5 <= len(digits) <= 20:
        raise InvalidInput("the caller must be a phone number", code="invalid_phone", details={"field": "caller"})
    return value


def check_recording_url(url: str | None) -> str | None:
    """Only web links: a `javascript:` or `file:` link would run or open on the agent's machine."""
    if not url:
        return None
    if not re.fullmatch(r"https?://[^\s<>\"']+", url, flags=re.IGNORECASE) or len(url) > 500:
        raise InvalidInput(
            "the recording link must be an http or https address",
            code="invalid_recording_url",
            details={"field": "recording_url"},
        )
    return url


def caller_ticket(session: Session, *, caller: str, actor: Actor) -> Ticket | None:
    """The caller's most recently received open ticket among those `actor` sees, by phone digest."""
    query = select(Ticket).where(
        Ticket.contact_digest.in_(crypto.candidate_digests(caller)),
        Ticket.status.in_(OPEN_STATUSES),
    )
    teams = access.visible_team_ids(actor)
    if teams is not None:
        query = query.where(or_(Ticket.team_id.is_(None), Ticket.team_id.in_(teams)))
    return session.scalars(query.order_by(Ticket.received_at.desc(), Ticket.id.desc()).limit(1)).first()


def _minutes(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"


def log_call(
    session: Session,
    *,
    caller: str,
    called_at: datetime,
    duration_seconds: int,
    recording_url: str | None,
    summary: str,
    agent: Actor,
    settings: Settings,
    ticket_number: str | None = None,
) -> CallLogged:
    """Log a hotline call: on ticket `ticket_number`, else on the caller's latest open ticket,
    else as a new hotline ticket (which gets its call-back). The number is kept masked and
    digested only, in the log and in the note; phone numbers in the summary are masked too."""
    access.require(agent, Permission.TICKET_WRITE)
    phone = _check_phone(caller)
    recording = check_recording_url(recording_url)
    if duration_seconds < 0:
        raise InvalidInput("the duration cannot be negative", details={"field": "duration_seconds"})
    text = mask_text(summary.strip())
    if not text:
        raise InvalidInput("the summary is empty", code="empty_summary", details={"field": "summary"})
    masked = mask_contact(phone) or "***"
    created = False
    if ticket_number:
        ticket = get_ticket_for(session, agent, ticket_number, permission=Permission.TICKET_WRITE)
    else:
        found = caller_ticket(session, caller=phone, actor=agent)
        if found is None:
            feedback = FeedbackIn(channel=Channel.HOTLINE, description=text, contact=phone)
            result = intake.receive(
                session, feedback, caller=IntakeCaller.of_actor(agent), settings=settings, limit=None
            )
            ticket, created = result.ticket, result.created
        else:
            ticket = found
    if ticket.status == Status.MERGED:
        raise NotFound(f"ticket {ticket.number} was merged; log the call on the ticket it went into")
    call = CallLog(
        ticket_id=ticket.id,
        agent_id=agent.staff_id,
        caller_masked=masked[:64],
        caller_digest=crypto.digest(phone),
        called_at=called_at,
        duration_seconds=duration_seconds,
        recording_url=recording,
        summary=text,
        created_at=utcnow(),
    )
    session.add(call)
    session.flush()
    if not created:
        body = f"电话记录 / Call: {masked} · {_minutes(duration_seconds)}\n{text}"
        tickets.add_reply(session, ticket, body=body, internal=True, actor=agent, settings=settings)
    data = {"call": call.id, "caller": masked, "duration_seconds": duration_seconds, "new_ticket": created}
    tickets.note_event(session, ticket, action="call_logged", data=data, actor=agent)
    return CallLogged(ticket=ticket, call=call, created=created)
