"""The rows of `mail_messages` as an import uses them: claim a mail, settle what became of it,
find an earlier one. The statements are built once (like tickets/numbering.py's): composing
them for every mail cost more than running them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from huiying.channels.email.models import MESSAGE_ID_CHARS, MailMessage
from huiying.tickets.models import Ticket

FLOOD_WINDOW = timedelta(hours=1)


def message_id_key(value: str | None) -> str:
    """A Message-ID as it is stored and compared ("" for a mail without one)."""
    return (value or "")[:MESSAGE_ID_CHARS]


@dataclass(frozen=True)
class Claim:
    message_id: str | None
    digest: str
    source: str
    sender: str | None  # crypto.digest of the From address
    kind: str
    reason: str | None
    sent_at: datetime
    received_at: datetime


def _claim_statement(insert: Any) -> Any:
    return (
        insert(MailMessage)
        .values(
            message_id=bindparam("b_message_id"),
            digest=bindparam("b_digest"),
            source=bindparam("b_source"),
            sender_digest=bindparam("b_sender"),
            kind=bindparam("b_kind"),
            outcome=bindparam("b_outcome"),
            reason=bindparam("b_reason"),
            sent_at=bindparam("b_sent_at"),
            received_at=bindparam("b_received_at"),
        )
        .on_conflict_do_nothing(index_elements=[MailMessage.message_id, MailMessage.digest])
        .returning(MailMessage.id)
    )


_CLAIMS = {"postgresql": _claim_statement(postgresql.insert), "sqlite": _claim_statement(sqlite.insert)}
_SETTLE = (
    update(MailMessage)
    .where(MailMessage.id == bindparam("b_claim"))
    .values(outcome=bindparam("b_outcome"), ticket_id=bindparam("b_ticket"), ticket_message_id=bindparam("b_message"))
)
_EARLIER = (
    select(MailMessage.ticket_id, Ticket.number)
    .outerjoin(Ticket, Ticket.id == MailMessage.ticket_id)
    .where(MailMessage.message_id == bindparam("b_message_id"), MailMessage.digest == bindparam("b_digest"))
)
_OTHER_WITH_ID = (
    select(MailMessage.id)
    .where(MailMessage.message_id == bindparam("b_message_id"), MailMessage.id != bindparam("b_claim"))
    .limit(1)
)
_NEW_TICKETS_BEFORE = (
    select(func.count())
    .select_from(MailMessage)
    .where(
        MailMessage.sender_digest == bindparam("b_sender"),
        MailMessage.sent_at > bindparam("b_since"),
        MailMessage.sent_at <= bindparam("b_until"),
        MailMessage.outcome == "imported",
        MailMessage.id != bindparam("b_claim"),
    )
)


def claim(session: Session, mail: Claim, *, outcome: str = "noise") -> int | None:
    """Claim (Message-ID, digest) with INSERT … ON CONFLICT DO NOTHING: the new row's id, or
    None for a replay. A concurrent replay waits for the first transaction, then finds it.
    `outcome` stands until `settle` says better, in the same transaction."""
    statement = _CLAIMS[session.get_bind().dialect.name]
    params = {
        "b_message_id": message_id_key(mail.message_id),
        "b_digest": mail.digest,
        "b_source": mail.source[:255],
        "b_sender": mail.sender,
        "b_kind": mail.kind,
        "b_reason": mail.reason[:300] if mail.reason else None,
        "b_outcome": outcome,
        "b_sent_at": mail.sent_at,
        "b_received_at": mail.received_at,
    }
    row_id: int | None = session.execute(statement, params).scalar_one_or_none()
    return row_id


def settle(session: Session, row_id: int, *, outcome: str, ticket_id: int | None, message_id: int | None) -> None:
    params = {"b_claim": row_id, "b_outcome": outcome, "b_ticket": ticket_id, "b_message": message_id}
    session.execute(_SETTLE, params)


def earlier(session: Session, *, message_id: str | None, digest: str) -> tuple[int | None, str | None]:
    """The ticket (id, number) the earlier copy of this mail went to; (None, None) for none."""
    row = session.execute(_EARLIER, {"b_message_id": message_id_key(message_id), "b_digest": digest}).first()
    return (row[0], row[1]) if row else (None, None)


def first_with_id(session: Session, *, message_id: str, row_id: int) -> bool:
    """Whether no mail but this one (`row_id`) was taken in with this Message-ID."""
    params = {"b_message_id": message_id_key(message_id), "b_claim": row_id}
    return session.execute(_OTHER_WITH_ID, params).first() is None


def new_tickets_before(session: Session, *, sender: str, sent_at: datetime, row_id: int) -> int:
    """How many new tickets the sender's mails made in the hour before `sent_at` (by their dates)."""
    params = {"b_sender": sender, "b_since": sent_at - FLOOD_WINDOW, "b_until": sent_at, "b_claim": row_id}
    return int(session.execute(_NEW_TICKETS_BEFORE, params).scalar_one())
