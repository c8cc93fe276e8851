"""What happens to a ticket when nobody acts: reopened ones go to review, resolved ones close,
pending ones remind the user.

- A reopen (resolved/closed → open) is tagged `supervisor_review`, put on the timeline and the
  team's supervisors are alerted. The assignee keeps it (they know the case); the tag puts it
  in front of the supervisor without taking it away.
- A resolved ticket the user did not answer for AUTO_CLOSE (7 days) closes, with a last public
  message so delivery tells the user.
- A pending ticket reminds the user after REMIND_AFTER (48 h) pending, once per 48 h, at most
  MAX_REMINDERS (3) times, by a public message.

Both periodic jobs find candidates in one query, then lock, re-check and act per ticket in its
own transaction; counting what was done from the committed timeline makes them safe twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiying import events
from huiying.alerts.service import alert_staff
from huiying.config import Settings
from huiying.db import Database
from huiying.jobs.registry import register_periodic
from huiying.kit.actor import SYSTEM
from huiying.kit.clock import utcnow
from huiying.sla import escalation
from huiying.tickets import repository
from huiying.tickets import service as tickets
from huiying.tickets.enums import Status
from huiying.tickets.models import Ticket, TicketEvent

REVIEW_TAG = "supervisor_review"
AUTO_CLOSE = timedelta(days=7)
REMIND_AFTER = timedelta(hours=48)
MAX_REMINDERS = 3
EVERY = timedelta(minutes=5)
REMINDER_ACTION = "pending_reminder"

CLOSE_TEXT = {
    "zh": "您的问题已解决，7 天内未收到您的回复，本工单已自动关闭。如仍有问题，直接回复即可重新打开。",
    "en": "Your issue was resolved and we have not heard back in 7 days, so this ticket is now closed. "
    "Reply if anything is still wrong and it opens again.",
}
REMIND_TEXT = {
    "zh": "我们仍在等待您补充信息，以便继续处理您的反馈。回复本消息即可。",
    "en": "We are still waiting for the information we asked for, so we can go on with your feedback. "
    "Just reply to this message.",
}

_settings: Settings | None = None


def configure(settings: Settings) -> None:
    global _settings
    _settings = settings


def _text(texts: dict[str, str], ticket: Ticket) -> str:
    return texts["en"] if (ticket.language or "").startswith("en") else texts["zh"]


def _lock(session: Session, ticket_id: int) -> Ticket | None:
    ticket: Ticket | None = session.scalar(repository.for_update(select(Ticket).where(Ticket.id == ticket_id)))
    return ticket


# --- reopen → supervisor review ------------------------------------------------------------------


def on_status_changed(session: Session, event: events.StatusChanged) -> None:
    if event.old not in (Status.RESOLVED.value, Status.CLOSED.value) or event.new != Status.OPEN.value:
        return
    ticket = session.get_one(Ticket, event.ticket_id)
    if REVIEW_TAG not in ticket.tags:
        tickets.add_tags(session, ticket, tags=[REVIEW_TAG], actor=SYSTEM)
    tickets.note_event(
        session, ticket, action="review_requested", data={"reopen_count": ticket.reopen_count}, actor=SYSTEM
    )
    alert_staff(
        session,
        kind="reopened",
        text_zh=f"工单 {ticket.number} 被重新打开（第 {ticket.reopen_count} 次），请主管复核。",
        text_en=f"Ticket {ticket.number} was reopened (time {ticket.reopen_count}); a supervisor's review is needed.",
        team_id=ticket.team_id,
        user_ids=escalation.supervisor_ids(session, ticket.team_id),
        ticket_id=ticket.id,
    )


# --- auto-close ----------------------------------------------------------------------------------


def auto_close(db: Database) -> int:
    """Close resolved tickets unanswered for AUTO_CLOSE; returns how many closed."""
    assert _settings is not None, "sla.followups.configure was not called"
    cutoff = utcnow() - AUTO_CLOSE
    with db.read() as session:
        query = select(Ticket.id).where(Ticket.status == Status.RESOLVED.value, Ticket.resolved_at <= cutoff)
        ids = list(session.scalars(query.order_by(Ticket.resolved_at).limit(500)))
    closed = 0
    for ticket_id in ids:
        with db.write() as session:
            ticket = _lock(session, ticket_id)
            if ticket is None or ticket.status != Status.RESOLVED or ticket.resolved_at is None:
                continue
            if ticket.resolved_at > cutoff:
                continue
            tickets.add_reply(
                session, ticket, body=_text(CLOSE_TEXT, ticket), internal=False, actor=SYSTEM, settings=_settings
            )
            tickets.change_status(session, ticket, status=Status.CLOSED, actor=SYSTEM)
            closed += 1
    return closed


# --- pending reminders ---------------------------------------------------------------------------


def _pending_history(session: Session, ticket: Ticket) -> tuple[datetime | None, int, datetime | None]:
    """(when it last became pending, reminders since, when the last reminder went)."""
    rows = session.execute(
        select(TicketEvent.action, TicketEvent.new_value, TicketEvent.created_at)
        .where(TicketEvent.ticket_id == ticket.id)
        .order_by(TicketEvent.id)
    ).all()
    since: datetime | None = None
    count = 0
    last: datetime | None = None
    for action, new, at in rows:
        if action == "status_changed" and new == Status.PENDING.value:
            since, count, last = at, 0, None
        elif action == REMINDER_ACTION and since is not None:
            count, last = count + 1, at
    return since, count, last


def remind_pending(db: Database) -> int:
    """Remind users of tickets waiting on them; returns how many reminders went."""
    assert _settings is not None, "sla.followups.configure was not called"
    now = utcnow()
    with db.read() as session:
        query = select(Ticket.id).where(Ticket.status == Status.PENDING.value, Ticket.updated_at <= now - REMIND_AFTER)
        ids = list(session.scalars(query.limit(500)))
    sent = 0
    for ticket_id in ids:
        with db.write() as session:
            ticket = _lock(session, ticket_id)
            if ticket is None or ticket.status != Status.PENDING:
                continue
            since, count, last = _pending_history(session, ticket)
            start = last or since
            if start is None or count >= MAX_REMINDERS or now - start < REMIND_AFTER:
                continue
            tickets.add_reply(
                session, ticket, body=_text(REMIND_TEXT, ticket), internal=False, actor=SYSTEM, settings=_settings
            )
            tickets.note_event(session, ticket, action=REMINDER_ACTION, data={"number": count + 1}, actor=SYSTEM)
            sent += 1
    return sent


def _auto_close_job(db: Database) -> None:
    auto_close(db)


def _remind_job(db: Database) -> None:
    remind_pending(db)


def install() -> None:
    events.subscribe_in_transaction(events.StatusChanged, on_status_changed)


def register_jobs() -> None:
    register_periodic("sla_auto_close", _auto_close_job, every=EVERY)
    register_periodic("sla_pending_reminders", _remind_job, every=EVERY)
