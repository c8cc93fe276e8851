"""What admins do with quarantined mail, each audited: retry it (take it in as if it came now:
a fixed parser, or a flood that was real mail), turn it into a ticket as it is (its raw text),
or drop it (the raw bytes are deleted once the drop commits; the entry stays, so the same mail
fetched again is a replay). Only an open entry can be acted on."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiying.audit import service as audit
from huiying.channels.email import charsets, claims, files, quarantine_store, service
from huiying.channels.email.models import MailQuarantine
from huiying.channels.email.parse import parse_mail
from huiying.config import Settings
from huiying.db import call_after_commit
from huiying.errors import Conflict, NotFound
from huiying.kit.actor import Actor
from huiying.kit.clock import utcnow
from huiying.kit.pagination import CursorValues, RowId, decode_cursor, encode_cursor
from huiying.kit.strings import clean, clean_line, has_visible
from huiying.privacy import crypto
from huiying.tickets import intake
from huiying.tickets.enums import Channel
from huiying.tickets.intake_policy import IntakeCaller
from huiying.tickets.models import Ticket
from huiying.tickets.schemas import FeedbackIn

QUARANTINE_TAG = "mail-quarantine"


def get_entry(session: Session, entry_id: int, *, lock: bool = False) -> MailQuarantine:
    statement = select(MailQuarantine).where(MailQuarantine.id == entry_id)
    entry = session.scalar(statement.with_for_update() if lock else statement)
    if entry is None:
        raise NotFound("no such quarantine entry", code="unknown_quarantine_entry")
    return entry


class EntryCursor(CursorValues):
    id: RowId


def list_entries(
    session: Session, *, status: str | None, cursor: str | None, limit: int
) -> tuple[list[MailQuarantine], str | None]:
    """Entries newest first, optionally of one status; the cursor of the next page."""
    statement = select(MailQuarantine).order_by(MailQuarantine.id.desc()).limit(limit + 1)
    if status is not None:
        statement = statement.where(MailQuarantine.status == status)
    if cursor:
        statement = statement.where(MailQuarantine.id < decode_cursor(cursor, EntryCursor).id)
    rows = list(session.scalars(statement))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor({"id": rows[-1].id}) if more and rows else None


def ticket_numbers(session: Session, entries: list[MailQuarantine]) -> dict[int, str]:
    """Ticket id -> number for the entries that went to a ticket."""
    ids = {entry.ticket_id for entry in entries if entry.ticket_id is not None}
    if not ids:
        return {}
    rows = session.execute(select(Ticket.id, Ticket.number).where(Ticket.id.in_(ids)))
    return {ticket_id: number for ticket_id, number in rows}


def _require_open(entry: MailQuarantine) -> None:
    if entry.status != "open":
        raise Conflict(
            f"this quarantine entry is {entry.status} already",
            code="quarantine_resolved",
            details={"status": entry.status},
        )


def _resolve(entry: MailQuarantine, *, status: str, ticket_id: int | None, actor: Actor) -> None:
    now = utcnow()
    entry.status = status
    entry.ticket_id = ticket_id
    entry.resolved_at = entry.updated_at = now
    entry.resolved_by = actor.name[:100]


def _audit(session: Session, entry: MailQuarantine, *, action: str, actor: Actor, after: dict[str, object]) -> None:
    audit.record(
        session,
        actor=actor,
        action=f"mail.quarantine_{action}",
        object_type="mail_quarantine",
        object_id=str(entry.id),
        before={"status": "open", "reason": entry.reason},
        after=after,
    )


def retry(session: Session, entry: MailQuarantine, *, actor: Actor, settings: Settings) -> service.ImportOutcome:
    """Take the mail in again; still unreadable: the entry stays open with the new reason."""
    _require_open(entry)
    raw = quarantine_store.raw_of(entry, root=settings.quarantine_dir)
    outcome = service.import_mail(session, raw, source=entry.source, settings=settings, retry_of=entry)
    if outcome.result != "quarantined":
        _resolve(entry, status="retried", ticket_id=outcome.ticket_id, actor=actor)
    _audit(session, entry, action="retried", actor=actor, after={"result": outcome.result, "ticket": outcome.number})
    return outcome


def make_ticket(session: Session, entry: MailQuarantine, *, actor: Actor, settings: Settings) -> Ticket:
    """A ticket from the mail as it is: its raw text as the description, the original attached."""
    _require_open(entry)
    raw = quarantine_store.raw_of(entry, root=settings.quarantine_dir)
    mail = parse_mail(raw)
    text = clean(charsets.decode(raw)).strip()
    if len(text) > service.DESCRIPTION_CHARS:
        text = text[: service.DESCRIPTION_CHARS - 1] + "…"
    contact = mail.from_address if mail.from_address and len(mail.from_address) <= 254 else None
    feedback = FeedbackIn(
        channel=Channel.EMAIL,
        title=clean_line(mail.subject)[:200] or f"隔离邮件 / quarantined mail #{entry.id}",
        description=text if has_visible(text) else service.NO_TEXT,
        contact=contact,
        tags=[QUARANTINE_TAG],
    )
    # Claimed like any mail taken in, so the same mail fetched again is a replay of this ticket.
    now = utcnow()
    sender = crypto.digest(mail.from_address) if mail.from_address else None
    sent_at = min(mail.date or now, now)
    claim = claims.claim(
        session,
        claims.Claim(mail.message_id, mail.digest, entry.source, sender, "normal", None, sent_at, now),
        outcome="imported",
    )
    if claim is None:
        raise Conflict("this mail was taken in already; retry the entry to see where", code="mail_taken_already")
    limits = files.Limits(max_bytes=settings.max_attachment_bytes, max_files=settings.max_attachments_per_ticket)
    result = intake.receive(
        session,
        feedback,
        caller=IntakeCaller.channel_adapter(Channel.EMAIL, actor=actor),
        settings=settings,
        limit=None,
        files=lambda s: files.store_mail_files(s, raw=raw, parts=(), root=settings.attachments_dir, limits=limits).ids,
    )
    ticket = result.ticket
    claims.settle(session, claim, outcome="imported", ticket_id=ticket.id, message_id=None)
    _resolve(entry, status="ticketed", ticket_id=ticket.id, actor=actor)
    _audit(session, entry, action="ticketed", actor=actor, after={"status": "ticketed", "ticket": ticket.number})
    return ticket


def drop(session: Session, entry: MailQuarantine, *, actor: Actor, settings: Settings) -> None:
    """Drop the mail: its raw bytes go once the drop is committed (a rollback keeps them)."""
    _require_open(entry)
    _resolve(entry, status="dropped", ticket_id=None, actor=actor)
    _audit(session, entry, action="dropped", actor=actor, after={"status": "dropped"})
    path = settings.quarantine_dir / entry.storage_key
    call_after_commit(session, lambda: path.unlink(missing_ok=True))
