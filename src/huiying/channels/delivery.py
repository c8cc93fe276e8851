"""Sending public replies: a delivery row per reply and channel, and the job that sends it.

The reply's transaction only writes `queued` rows and enqueues the job (an in-transaction
handler of MessageAdded: `tickets` does not import channels). The job runs after the commit,
reloads each row by id, re-checks it and calls the sender outside any transaction; only then
does it mark the row `sent`. A row that is `sent` or `suppressed` is never sent again, so the
job is safe to run twice. A failure is retried by the job machinery with its backoff; the row
stays `queued` with the error until the last attempt, then turns `failed`; a permanent refusal
(an SMTP 5xx: no such mailbox) turns it `failed` at once, as retrying would only repeat it.

Notices about a ticket that answer no message of its own (the acknowledgement, a status
change, a delay: huiying.notices decides which and when) go the same way: `queue_notice` writes
their rows with the change (once per ticket, channel and key) and enqueues the same job, delayed
past quiet hours where the notice may wait. Staff may `resend` any delivery that is not queued.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from huiying import events, jobs
from huiying.channels import plan, registry
from huiying.channels.base import Delivered, DeliveryFailed, Outgoing
from huiying.channels.models import MessageDelivery
from huiying.db import Database
from huiying.errors import Conflict, NotFound
from huiying.jobs.outbox import MAX_ATTEMPTS
from huiying.kit.actor import SYSTEM, Actor
from huiying.kit.clock import utcnow
from huiying.kit.sql import dialect_insert
from huiying.tickets import history
from huiying.tickets.enums import Delivery, MessageKind
from huiying.tickets.models import Message, Ticket

JOB = "deliver_message"
BUSY: Literal["busy"] = "busy"
# How long one run may take to send before another may try (a sender's own timeouts are shorter).
SENDING_LEASE = timedelta(minutes=5)
STATUSES = ("queued", "sent", "failed", "suppressed")


class PortalPublisher:
    """The reply is on the user's status page once it is committed: publishing is the delivery."""

    name = plan.PORTAL

    def deliver(self, outgoing: Outgoing) -> Delivered:
        return Delivered(external_id=None)


_portal = PortalPublisher()


# --- in the reply's transaction -----------------------------------------------------------------


def _on_message_added(session: Session, event: events.MessageAdded) -> None:
    """A public reply gets one queued delivery per channel and a job to send them after commit."""
    if event.kind != MessageKind.REPLY.value:
        return
    _plan_rows(session, session.get_one(Ticket, event.ticket_id), event.message_id)
    jobs.enqueue(session, JOB, {"message_id": event.message_id})


def _plan_rows(session: Session, ticket: Ticket, message_id: int) -> None:
    contact = ticket.contact_masked or ""  # a masked address keeps its "@"
    now = utcnow()
    ways = plan.channels_for(ticket.channel, contact_is_email="@" in contact, has_user_id=bool(ticket.user_id))
    for channel in ways:
        session.add(
            MessageDelivery(ticket_id=ticket.id, message_id=message_id, channel=channel, kind="reply", created_at=now)
        )
    session.flush()


def queue_notice(
    session: Session,
    *,
    ticket_id: int,
    kind: str,
    key: str,
    channels: list[str],
    detail: dict[str, Any] | None = None,
    not_before: datetime | None = None,
) -> None:
    """Send the user a notice about their ticket (`kind`: "received", "resolved"…) through
    `channels` after this transaction commits (and not before `not_before`: quiet hours); `key`
    makes it once per ticket and channel; `detail` is what it says beyond the ticket's facts.

    A stored ticket gets its rows here, in the transaction of the change they tell of; a new
    ticket is not written yet while its TicketCreated handlers run, so the job makes its rows.
    Either way the same insert makes them, and a key that has them already adds nothing."""
    stored = session.get(Ticket, ticket_id) is not None
    if stored and not _make_notice_rows(session, ticket_id, kind, key, channels, detail, not_before):
        return  # told already: nothing new to send
    # When the change happened: rows the job makes later still sort where the change did.
    payload: dict[str, Any] = {
        "ticket_id": ticket_id,
        "notice": key,
        "kind": kind,
        "channels": channels,
        "at": utcnow().isoformat(),
    }
    if detail:
        payload["detail"] = detail
    if not_before is not None:
        payload["not_before"] = not_before.isoformat()
    delay = not_before - utcnow() if not_before is not None else None
    jobs.enqueue(session, JOB, payload, delay=delay)


def _make_notice_rows(
    session: Session,
    ticket_id: int,
    kind: str,
    key: str,
    channels: list[str],
    detail: dict[str, Any] | None,
    not_before: datetime | None,
    at: datetime | None = None,
) -> int:
    """The notice's rows not made yet (once per ticket, channel and key); how many were made."""
    made, now = 0, at or utcnow()
    for channel in channels:
        values = {"ticket_id": ticket_id, "channel": str(channel), "kind": kind, "notice_key": key}
        result = session.execute(
            dialect_insert(session, MessageDelivery)
            .values(**values, message_id=None, created_at=now, detail=detail, not_before=not_before, resent=0)
            .on_conflict_do_nothing(index_elements=["ticket_id", "channel", "notice_key"])
        )
        made += result.rowcount or 0  # type: ignore[attr-defined]
    return made


def resend(session: Session, ticket: Ticket, delivery_id: int, *, actor: Actor) -> MessageDelivery:
    """Staff send a delivery again (the user says it never came, or it failed): queued anew
    with a fresh push id and Message-ID, so the receiving side does not drop it as a repeat."""
    row = session.get(MessageDelivery, delivery_id, with_for_update=True)
    if row is None or row.ticket_id != ticket.id:
        raise NotFound(f"no delivery {delivery_id} on ticket {ticket.number}", code="unknown_delivery")
    if row.status == "queued":
        raise Conflict("this delivery is still on its way", code="delivery_queued")
    if row.channel != plan.PORTAL and registry.sender_for(row.channel) is None:
        reason, error = plan.reason_without_sender(row.channel)
        raise Conflict(f"cannot resend: {error}", code=reason)
    before = row.status
    row.status, row.attempts, row.error, row.reason = "queued", 0, None, None
    row.sending_until, row.not_before, row.mail_message_id = None, None, None
    row.resent += 1
    session.flush()
    if row.message_id is not None:
        jobs.enqueue(session, JOB, {"message_id": row.message_id})
        _summarise(session, row.message_id)
    else:
        jobs.enqueue(session, JOB, {"ticket_id": ticket.id, "notice": row.notice_key, "kind": row.kind, "channels": []})
    data = {"delivery": row.id, "channel": row.channel, "kind": row.kind, "was": before}
    history.record(session, ticket=ticket, actor=actor, action="delivery_resent", data=data)
    return row


# --- the job ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claimed:
    delivery_id: int
    ticket_id: int
    channel: str
    attempts: int
    outgoing: Outgoing


def deliver_message(db: Database, payload: dict[str, Any]) -> None:
    """Send every unsent delivery of message `payload["message_id"]` (or of the notice
    `payload["notice"]` on ticket `payload["ticket_id"]`); raise if one must retry."""
    if "notice" in payload:
        _deliver_all(db, _notice_rows(db, payload))
        return
    message_id = int(payload["message_id"])
    _plan_if_missing(db, message_id)
    with db.read() as session:
        ids = list(
            session.scalars(
                select(MessageDelivery.id)
                .where(MessageDelivery.message_id == message_id, MessageDelivery.status.in_(("queued", "failed")))
                .order_by(MessageDelivery.id)
            )
        )
    _deliver_all(db, ids)


def _deliver_all(db: Database, ids: list[int]) -> None:
    errors = [error for error in (_deliver_one(db, delivery_id) for delivery_id in ids) if error]
    if errors:
        raise RuntimeError("; ".join(errors))  # the outbox retries with its backoff


def _notice_rows(db: Database, payload: dict[str, Any]) -> list[int]:
    """The notice's unsent rows, made on its first run if the change could not (a new ticket)."""
    ticket_id, key = int(payload["ticket_id"]), str(payload["notice"])
    not_before = datetime.fromisoformat(payload["not_before"]) if payload.get("not_before") else None
    at = datetime.fromisoformat(payload["at"]) if payload.get("at") else None
    with db.write() as session:
        if session.get(Ticket, ticket_id) is None:
            return []  # erased since
        channels = [str(c) for c in payload.get("channels") or []]
        kind, detail = str(payload["kind"]), payload.get("detail")
        _make_notice_rows(session, ticket_id, kind, key, channels, detail, not_before, at)
        query = (
            select(MessageDelivery.id)
            .where(
                MessageDelivery.ticket_id == ticket_id,
                MessageDelivery.notice_key == key,
                MessageDelivery.status.in_(("queued", "failed")),
            )
            .order_by(MessageDelivery.id)
        )
        return list(session.scalars(query))


def _plan_if_missing(db: Database, message_id: int) -> None:
    """A reply queued before deliveries were recorded (migration 0013) gets its rows now."""
    with db.read() as session:
        if session.scalar(select(MessageDelivery.id).where(MessageDelivery.message_id == message_id).limit(1)):
            return
    with db.write() as session:
        message = session.get(Message, message_id, with_for_update=True)
        if message is None or message.kind != MessageKind.REPLY.value or message.delivery != Delivery.QUEUED:
            return
        if session.scalar(select(MessageDelivery.id).where(MessageDelivery.message_id == message_id).limit(1)):
            return
        _plan_rows(session, session.get_one(Ticket, message.ticket_id), message_id)


def _deliver_one(db: Database, delivery_id: int) -> str | None:
    """One delivery: claim it, send outside a transaction, record the outcome; the error if any."""
    claimed = _claim(db, delivery_id)
    if claimed is None:
        return None
    if claimed == BUSY:
        return f"delivery {delivery_id} is being sent by another run"  # retried: it may die
    sender = _portal if claimed.channel == plan.PORTAL else registry.sender_for(claimed.channel)
    if sender is None:
        _suppress(db, claimed)
        return None
    try:
        result = sender.deliver(claimed.outgoing)
    except Exception as exc:  # noqa: BLE001 - any sender failure is recorded and retried
        # A sender's DeliveryFailed says what went wrong in its own words already.
        error = (str(exc) if isinstance(exc, DeliveryFailed) else f"{type(exc).__name__}: {exc}")[:2000]
        permanent = isinstance(exc, DeliveryFailed) and exc.permanent
        _record_failure(db, claimed, error, permanent=permanent)
        return None if permanent else f"{claimed.channel}: {error}"  # a permanent one is not retried
    _record_sent(db, claimed, result, via=sender.name)
    return None


def _claim(db: Database, delivery_id: int) -> _Claimed | Literal["busy"] | None:
    """Count an attempt and take what the sender needs; None if it is sent or suppressed already,
    BUSY while another run is sending it."""
    with db.write() as session:
        row = session.get(MessageDelivery, delivery_id, with_for_update=True, populate_existing=True)
        if row is None or row.status not in ("queued", "failed"):
            return None
        now = utcnow()
        if row.sending_until is not None and row.sending_until > now:
            return BUSY
        row.sending_until = now + SENDING_LEASE
        # A notice has no message: its words are the channel's own (templates), so it goes out
        # with message_id 0 and no text.
        message = session.get(Message, row.message_id) if row.message_id is not None else None
        ticket = session.get(Ticket, row.ticket_id)
        if ticket is None or (message is None and row.message_id is not None):
            return None
        row.attempts += 1
        outgoing = Outgoing(
            delivery_id=row.id,
            message_id=message.id if message else 0,
            number=ticket.number,
            kind=row.kind,
            text=message.body if message else "",
            user_id=ticket.user_id,
            contact=ticket.contact_plain(),
        )
        prepare = registry.preparer_for(row.channel)
        if prepare is not None:
            outgoing = prepare(session, row, outgoing)
        return _Claimed(
            delivery_id=row.id, ticket_id=ticket.id, channel=row.channel, attempts=row.attempts, outgoing=outgoing
        )


def _finish(session: Session, claimed: _Claimed, **values: Any) -> bool:
    """Move the delivery on unless another run did already (then its outcome stands)."""
    result = session.execute(
        update(MessageDelivery)
        .where(MessageDelivery.id == claimed.delivery_id, MessageDelivery.status.in_(("queued", "failed")))
        .values(sending_until=None, **values)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    if claimed.outgoing.message_id:  # a notice has no message to sum up
        _summarise(session, claimed.outgoing.message_id)
    return True


def _suppress(db: Database, claimed: _Claimed) -> None:
    reason, error = plan.reason_without_sender(claimed.channel)
    with db.write() as session:
        if _finish(session, claimed, status="suppressed", reason=reason, error=error):
            _event(session, claimed, "reply_not_sent", {"channel": claimed.channel, "reason": reason, "error": error})


def _record_failure(db: Database, claimed: _Claimed, error: str, *, permanent: bool) -> None:
    final = permanent or claimed.attempts >= MAX_ATTEMPTS
    with db.write() as session:
        # Until the last attempt the row stays queued (with the error): it is still going to be tried.
        status = "failed" if final else "queued"
        if _finish(session, claimed, status=status, error=error) and final:
            data = {"channel": claimed.channel, "error": error[:500], "permanent": permanent}
            _event(session, claimed, "reply_failed", data)


def _record_sent(db: Database, claimed: _Claimed, result: Delivered, *, via: str) -> None:
    with db.write() as session:
        values = {"status": "sent", "sent_at": utcnow(), "error": None, "external_id": result.external_id}
        if _finish(session, claimed, **values):
            data = {"channel": via, "external_id": result.external_id}
            _event(session, claimed, "reply_delivered", data)


# What the timeline says of a notice (the acknowledgement, a status change): it is no reply.
_NOTICE_ACTIONS = {
    "reply_delivered": "notice_delivered",
    "reply_not_sent": "notice_not_sent",
    "reply_failed": "notice_failed",
}


def _event(session: Session, claimed: _Claimed, action: str, data: dict[str, Any]) -> None:
    ticket = session.get_one(Ticket, claimed.ticket_id)
    if not claimed.outgoing.message_id:
        action, data = _NOTICE_ACTIONS[action], {"kind": claimed.outgoing.kind, **data}
    else:
        data = {"message_id": claimed.outgoing.message_id, **data}
    history.record(session, ticket=ticket, actor=SYSTEM, action=action, data=data)


def _summarise(session: Session, message_id: int) -> None:
    """The message's own `delivery` field sums its rows up: anything still queued, else failed,
    else sent (by at least one way), else suppressed."""
    statuses = set(session.scalars(select(MessageDelivery.status).where(MessageDelivery.message_id == message_id)))
    message = session.get(Message, message_id)
    if message is None:
        return
    for status in (Delivery.QUEUED, Delivery.FAILED, Delivery.SENT, Delivery.SUPPRESSED):
        if status.value in statuses:
            message.delivery = status.value
            if status == Delivery.SENT and message.delivered_at is None:
                message.delivered_at = utcnow()
            return


# --- reading ------------------------------------------------------------------------------------


def for_messages(session: Session, message_ids: list[int]) -> dict[int, list[MessageDelivery]]:
    """The deliveries of these messages, by message id, in the order they were planned."""
    if not message_ids:
        return {}
    rows = session.scalars(
        select(MessageDelivery).where(MessageDelivery.message_id.in_(message_ids)).order_by(MessageDelivery.id)
    )
    found: dict[int, list[MessageDelivery]] = {}
    for row in rows:
        if row.message_id is not None:  # always: the query asks for messages' rows
            found.setdefault(row.message_id, []).append(row)
    return found


def notices_of(session: Session, ticket: Ticket) -> list[MessageDelivery]:
    """The ticket's notices (the acknowledgement, status notices), oldest first."""
    query = select(MessageDelivery).where(MessageDelivery.ticket_id == ticket.id, MessageDelivery.message_id.is_(None))
    return list(session.scalars(query.order_by(MessageDelivery.created_at, MessageDelivery.id)))


def for_ticket(session: Session, ticket: Ticket) -> list[MessageDelivery]:
    """Every delivery of the ticket's replies and notices, oldest first."""
    query = (
        select(MessageDelivery)
        .where(MessageDelivery.ticket_id == ticket.id)
        .order_by(MessageDelivery.created_at, MessageDelivery.id)
    )
    return list(session.scalars(query))


def install() -> None:
    events.subscribe_in_transaction(events.MessageAdded, _on_message_added)


def register_jobs() -> None:
    jobs.register(JOB, deliver_message)
