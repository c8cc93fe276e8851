"""Intake: one ticket per piece of feedback, whatever the channel, and never two for a retry.

Two keys make intake idempotent, both claimed before anything else is written:
- the client's `Idempotency-Key` (a retry of the same request gets the same ticket; the same key
  with a different body is refused), kept for `idempotency_ttl_hours`;
- the channel's own id of the message (`source_ref`, e.g. an email Message-ID), kept for good.
A key is claimed with INSERT .. ON CONFLICT DO NOTHING: a concurrent duplicate waits for the
first transaction and then finds its key, so no savepoint or retry loop is needed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import insert, inspect, select, update
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from huiying import events
from huiying.categories import service as categories
from huiying.config import Settings
from huiying.db import Base
from huiying.errors import Conflict, InvalidInput
from huiying.kit.actor import Actor
from huiying.kit.clock import utcnow
from huiying.kit.sql import dialect_insert
from huiying.kit.text import document, search_tokens
from huiying.tickets import attachments, history, numbering
from huiying.tickets.enums import Priority, Status
from huiying.tickets.intake_policy import IntakeCaller, admit
from huiying.tickets.models import IntakeKey, Ticket, TicketTag
from huiying.tickets.schemas import FeedbackIn

TITLE_FROM_DESCRIPTION = 30
_BEING_CREATED = "huiying_tickets_being_created"
_WITH_NEW_TICKET = "huiying_rows_with_new_ticket"


@dataclass(frozen=True)
class IntakeResult:
    ticket: Ticket
    created: bool


def request_fingerprint(feedback: FeedbackIn) -> str:
    """A digest of what was asked, independent of JSON key order and spacing."""
    canonical = json.dumps(feedback.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def title_from(description: str) -> str:
    """A title for feedback that came without one: its first line, shortened."""
    first_line = next((line.strip() for line in description.splitlines() if line.strip()), "")
    if len(first_line) <= TITLE_FROM_DESCRIPTION:
        return first_line or "(无标题)"
    return first_line[:TITLE_FROM_DESCRIPTION].rstrip() + "…"


class IntakeLimit(Protocol):
    """The public intake limit (api/ratelimit.py): raises RateLimited when one is exhausted."""

    def check(self, *, ip: str | None, user_id: str | None) -> None: ...


def receive(
    session: Session,
    submission: FeedbackIn,
    *,
    caller: IntakeCaller,
    settings: Settings,
    limit: IntakeLimit | None,
    idempotency_key: str | None = None,
    files: Callable[[Session], list[str]] | None = None,
) -> IntakeResult:
    """The one way in: every adapter (API, web form, CLI, channels) hands feedback in here.

    The policy (tickets/intake_policy.py) decides what `caller` may set and whether the public
    limit applies, per IP (which the adapter knows) and per user id. `files` stores uploads that
    came with the submission, called only once it is admitted, so a refused one leaves no files."""
    feedback = admit(caller, submission)
    if caller.limited:
        if limit is None:
            raise ValueError("intake from a visitor needs the public intake limit")
        limit.check(ip=caller.actor.ip, user_id=feedback.user_id)
    if files is not None:
        feedback = feedback.model_copy(update={"attachments": [*feedback.attachments, *files(session)]})
    return create_ticket(
        session,
        feedback=feedback,
        actor=caller.actor,
        settings=settings,
        idempotency_key=idempotency_key,
        source_ref_must_match=caller.replays_must_match,
    )


def claim_key(session: Session, *, key: str, fingerprint: str, expires_at: datetime | None) -> IntakeKey | None:
    """Claim `key` for this request; None if claimed now, else the earlier claim."""
    statement = (
        dialect_insert(session, IntakeKey)
        .values(key=key, request_hash=fingerprint, created_at=utcnow(), expires_at=expires_at)
        .on_conflict_do_nothing(index_elements=[IntakeKey.key])
        .returning(IntakeKey.key)
    )
    if session.execute(statement).scalar_one_or_none() is not None:
        return None
    return session.get(IntakeKey, key)


def _earlier_ticket(session: Session, claim: IntakeKey, *, compare: bool, fingerprint: str, source: bool) -> Ticket:
    if compare and claim.request_hash != fingerprint:
        if source:
            raise InvalidInput(
                "this source_ref was already used for different feedback; send a new one for new feedback",
                code="source_ref_reused",
                details={"field": "source_ref"},
            )
        raise InvalidInput(
            "this Idempotency-Key was already used with a different request body; "
            "use a new key for a new piece of feedback",
            code="idempotency_key_reused",
        )
    ticket = session.get(Ticket, claim.ticket_id) if claim.ticket_id else None
    if ticket is None:
        raise Conflict("the earlier request with this key is still being processed; retry")
    return ticket


def create_ticket(
    session: Session,
    *,
    feedback: FeedbackIn,
    actor: Actor,
    settings: Settings,
    idempotency_key: str | None = None,
    received_at: datetime | None = None,
    source_ref_must_match: bool = False,
) -> IntakeResult:
    """Turn feedback into a new ticket, or find the ticket an earlier delivery of it created.

    No policy here: adapters call `receive`; this is for it and for code that is the platform.
    `source_ref_must_match`: a source_ref seen before answers its ticket only for the same
    submission (for callers who could otherwise fish for other people's tickets)."""
    now = utcnow()
    fingerprint = request_fingerprint(feedback) if idempotency_key is not None or feedback.source_ref else ""
    claimed: list[str] = []
    if idempotency_key is not None:
        key = f"idem:{idempotency_key}"
        expires = now + timedelta(hours=settings.idempotency_ttl_hours)
        earlier = claim_key(session, key=key, fingerprint=fingerprint, expires_at=expires)
        if earlier is not None:
            ticket = _earlier_ticket(session, earlier, compare=True, fingerprint=fingerprint, source=False)
            return IntakeResult(ticket, created=False)
        claimed.append(key)
    if feedback.source_ref:
        key = f"src:{feedback.channel.value}:{feedback.source_ref}"
        earlier = claim_key(session, key=key, fingerprint=fingerprint, expires_at=None)
        if earlier is not None:
            ticket = _earlier_ticket(
                session, earlier, compare=source_ref_must_match, fingerprint=fingerprint, source=True
            )
            return IntakeResult(ticket, created=False)
        claimed.append(key)

    categories.check(session, feedback.category, feedback.subcategory)
    title = feedback.title or title_from(feedback.description)
    links = feedback.links.model_dump(exclude_none=True) if feedback.links else {}
    device = feedback.device
    ticket_id, number = numbering.next_id_and_number(
        session, moment=now, tz=settings.tz, prefix=settings.ticket_number_prefix
    )
    ticket = Ticket(
        id=ticket_id,
        number=number,
        channel=feedback.channel.value,
        source_ref=feedback.source_ref,
        user_id=feedback.user_id,
        user_name=feedback.user_name,
        title=title,
        description=feedback.description,
        category=feedback.category,
        subcategory=feedback.subcategory,
        priority=(feedback.priority or Priority.MEDIUM).value,
        status=Status.NEW.value,
        active=True,
        # Column defaults apply only at INSERT; the handlers read these before it.
        needs_refinement=False,
        team_chosen=False,
        escalation_level=0,
        reopen_count=0,
        device_os=device.os if device else None,
        device_model=device.model if device else None,
        app_version=feedback.app_version,
        city=feedback.city,
        links=links,
        vip=feedback.vip,
        special_group=feedback.special_group.value if feedback.special_group else None,
        occurred_at=feedback.occurred_at,
        frequency=feedback.frequency.value if feedback.frequency else None,
        received_at=received_at or now,
        created_at=now,
        updated_at=now,
        search_tokens=search_tokens(document(title, feedback.description)),
        tag_rows=[TicketTag(tag=tag) for tag in dict.fromkeys(feedback.tags)],
    )
    ticket.set_contact(feedback.contact)
    created: dict[str, Any] = {
        "channel": ticket.channel,
        "priority": ticket.priority,
        "category": ticket.category,
        "attachments": [],
    }
    history.record(session, ticket=ticket, actor=actor, action="created", data=created, at=now)
    given = frozenset(
        name for name, value in (("category", feedback.category), ("priority", feedback.priority)) if value
    )
    # Triage and the other in-transaction handlers shape the ticket before it is written, so it
    # is inserted once, triaged, instead of inserted and then updated. They find it with `being_created`.
    session.info.setdefault(_BEING_CREATED, {})[ticket.id] = ticket
    try:
        with session.no_autoflush:
            events.publish(
                session,
                events.TicketCreated(ticket_id=ticket.id, number=ticket.number, channel=ticket.channel, given=given),
            )
    finally:
        session.info[_BEING_CREATED].pop(ticket.id, None)
    _insert(session, ticket)
    _insert_waiting_rows(session, ticket.id)

    if feedback.attachments:
        claimed_files = attachments.claim(
            session,
            ids=feedback.attachments,
            ticket_id=ticket.id,
            message_id=None,
            limit=settings.max_attachments_per_ticket,
        )
        # The "created" event is written at commit; it lists what was really attached.
        created["attachments"] = [a.id for a in claimed_files]
    if claimed:
        session.execute(update(IntakeKey).where(IntakeKey.key.in_(claimed)).values(ticket_id=ticket.id))
    return IntakeResult(ticket, created=True)


_TICKET_COLUMNS = [(attr.key, attr.columns[0]) for attr in inspect(Ticket).column_attrs]
_TICKETS, _TAGS = Ticket.metadata.tables["tickets"], Ticket.metadata.tables["ticket_tags"]
_REFERENCES = {"team_id": "team", "assignee_id": "assignee", "merged_into_id": "merged_into"}


def _insert(session: Session, ticket: Ticket) -> None:
    """Write the new ticket (and its tags) with plain INSERTs, then hand it to the session as a
    stored, unchanged entity: the ORM's unit of work for this 40-column row was the largest single
    cost of a create (py-spy). What was never set is left to the column's default if it has one
    (loaded when first read), else written and kept as NULL."""
    values = ticket.__dict__
    row: dict[str, Any] = {}
    for key, column in _TICKET_COLUMNS:
        if key in values:
            row[column.name] = values[key]
        elif column.default is None and column.server_default is None:
            row[column.name] = None
            set_committed_value(ticket, key, None)
    for foreign_key, relation in _REFERENCES.items():
        related = values.get(relation)
        if related is not None:
            row[foreign_key] = related.id
            set_committed_value(ticket, foreign_key, related.id)
    session.execute(insert(_TICKETS), row)
    tags = values.get("tag_rows") or []
    for tag in tags:
        tag.ticket_id = ticket.id
        make_transient_to_detached(tag)
    if tags:
        session.execute(insert(_TAGS), [{"ticket_id": ticket.id, "tag": tag.tag} for tag in tags])
    make_transient_to_detached(ticket)
    session.add(ticket)


def being_created(session: Session, ticket_id: int) -> Ticket | None:
    """The ticket `ticket_id` for a handler of its events: the one being created in this session
    (not yet written nor in the session, so `session.get` cannot find it), else the stored one."""
    pending: dict[int, Ticket] = session.info.get(_BEING_CREATED, {})
    return pending.get(ticket_id) or session.get(Ticket, ticket_id)


def write_with_new_ticket(session: Session, model: type[Base], row: dict[str, Any]) -> None:
    """Write `row` of `model`, which refers to a ticket being created (row["ticket_id"]), right
    after the ticket itself: a TicketCreated handler cannot insert it earlier (no ticket to refer
    to yet). Once per model and ticket: a later row replaces it, and a stored one wins."""
    session.info.setdefault(_WITH_NEW_TICKET, {})[(model, row["ticket_id"])] = row


def waiting_row(session: Session, model: type[Base], ticket_id: int) -> dict[str, Any] | None:
    """The row of `model` still waiting for ticket `ticket_id` to be written, if any."""
    found: dict[str, Any] | None = session.info.get(_WITH_NEW_TICKET, {}).get((model, ticket_id))
    return found


def drop_waiting_row(session: Session, model: type[Base], ticket_id: int) -> bool:
    """Forget the row of `model` waiting for ticket `ticket_id`; whether there was one."""
    return session.info.get(_WITH_NEW_TICKET, {}).pop((model, ticket_id), None) is not None


def _insert_waiting_rows(session: Session, ticket_id: int) -> None:
    waiting: dict[tuple[type[Base], int], dict[str, Any]] = session.info.get(_WITH_NEW_TICKET, {})
    for model, owner in [key for key in waiting if key[1] == ticket_id]:
        row = waiting.pop((model, owner))
        statement = dialect_insert(session, model).values(row)
        session.execute(statement.on_conflict_do_nothing(index_elements=["ticket_id"]))


def is_being_created(session: Session, ticket_id: int) -> bool:
    """Whether ticket `ticket_id` is being created in this session (its TicketCreated handlers run)."""
    return ticket_id in session.info.get(_BEING_CREATED, {})


def purge_expired_keys(session: Session, *, now: datetime | None = None) -> int:
    """Forget Idempotency-Keys past their lifetime (source ids are kept for good)."""
    moment = now or utcnow()
    rows = list(
        session.scalars(select(IntakeKey).where(IntakeKey.expires_at.is_not(None), IntakeKey.expires_at < moment))
    )
    for row in rows:
        session.delete(row)
    return len(rows)
