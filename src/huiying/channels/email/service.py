"""Inbound mail into tickets. `import_mail` takes one raw mail in the caller's transaction;
`import_one` is that transaction, for the importer and the poller: one mail, one commit.

In order, first match wins:
1. unreadable (`parse_mail` set `problem`)  → quarantined with its raw bytes, never an error;
2. a replay (same Message-ID *and* content) → duplicate, nothing written — the (Message-ID,
   digest) row is claimed before anything else, like an intake key, so a concurrent replay
   waits for the first and then finds it;
3. noise (auto-reply, out-of-office, list, bounce) → recorded, never answered: an auto-reply on a
   ticket's thread is put on its timeline, a bounce of a mail we sent fails that delivery;
4. a reply (channels/email/threading.py) → a message on that ticket (a resolved one reopens; a
   closed one gets a new ticket that says whose follow-up it is);
5. anything else, spam included → a new ticket through intake (channel `email`, contact the
   sender): spam is tagged `spam` and closed at once, so it stays out of the queues and no
   acknowledgement is sent; a sender over the flood limit is quarantined instead.
The original mail and its files are attached within the attachment limits; what did not fit is
listed on the ticket's timeline.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from huiying.channels.email import claims, files, quarantine_store
from huiying.channels.email.claims import message_id_key
from huiying.channels.email.importer import Found
from huiying.channels.email.models import MailMessage, MailQuarantine
from huiying.channels.email.noise import Noise, classify
from huiying.channels.email.parse import ParsedMail, parse_mail
from huiying.channels.email.threading import Thread, find_thread
from huiying.channels.models import MessageDelivery
from huiying.config import Settings
from huiying.db import Database
from huiying.kit.actor import SYSTEM, Actor, ActorType
from huiying.kit.clock import utcnow
from huiying.kit.masking import mask_contact
from huiying.kit.strings import clean_line, has_visible
from huiying.privacy import crypto
from huiying.tickets import intake
from huiying.tickets import service as tickets
from huiying.tickets.enums import Channel, Delivery, Status
from huiying.tickets.intake_policy import IntakeCaller
from huiying.tickets.models import Message, Ticket
from huiying.tickets.schemas import FeedbackIn

log = logging.getLogger(__name__)

Result = Literal["imported", "threaded", "quarantined", "duplicate", "failed"]
SPAM_TAG = "spam"
DESCRIPTION_CHARS = 20_000  # FeedbackIn's limit; the whole mail stays in original.eml
NO_TEXT = "（这封邮件没有正文）/ (this mail has no text)"
# Mails to a COMMIT in a bulk import: the COMMIT per mail was a fifth of its cost; a batch holds
# the write lock, and 50 mails take a few hundred milliseconds.
BATCH_SIZE = 50


@dataclass(frozen=True)
class ImportOutcome:
    result: Result
    number: str | None = None  # the ticket it went to, if any
    ticket_id: int | None = None
    kind: str = "normal"  # noise.Kind
    reason: str | None = None  # why quarantined or noise, the error that failed it, what a duplicate repeats
    quarantine_id: int | None = None

    def line(self) -> str:
        """The importer's line for this mail (CONTRACT.md: the ticket number, or `quarantined: <reason>`)."""
        if self.result == "quarantined":
            return f"quarantined: {self.reason}"
        if self.result == "failed":
            return f"failed: {self.reason}"
        if self.result == "duplicate":
            return f"duplicate: {self.number or self.reason or 'taken in before'}"
        if self.kind not in ("normal", "spam"):
            return f"noise: {self.kind} ({self.reason})" + (f" {self.number}" if self.number else "")
        return self.number or "-"


@dataclass
class Tally:
    """The counts of an import run and its last line (CONTRACT.md)."""

    imported: int = 0
    threaded: int = 0
    quarantined: int = 0
    failed: int = 0
    duplicate: int = 0

    def add(self, outcome: ImportOutcome) -> None:
        setattr(self, outcome.result, getattr(self, outcome.result) + 1)

    def line(self) -> str:
        counts = f"imported={self.imported} threaded={self.threaded} quarantined={self.quarantined}"
        return f"{counts} failed={self.failed}" + (f" duplicate={self.duplicate}" if self.duplicate else "")


def import_one(db: Database, raw: bytes, *, source: str, settings: Settings) -> ImportOutcome:
    """`import_mail` in a transaction of its own; anything unexpected rolls it back and is
    `failed` (logged), so one bad mail never stops the mails after it."""
    try:
        with db.write() as session:
            return import_mail(session, raw, source=source, settings=settings)
    except Exception as exc:  # the contract: count it, keep going (log.exception keeps the trace)
        log.exception("importing mail from %s failed", source)
        return ImportOutcome("failed", reason=f"{type(exc).__name__}: {exc}"[:300])


def import_many(
    db: Database, found: Iterable[Found], *, settings: Settings, batch_size: int = BATCH_SIZE
) -> Iterator[tuple[Found, ImportOutcome]]:
    """`import_one` for each mail, in order, `batch_size` mails to a COMMIT (db.batch): a bulk
    import pays for one COMMIT per batch instead of one per mail. Each mail still has a savepoint
    of its own, so one that fails rolls back alone. When a batch's COMMIT fails, none of it was
    stored: its mails are taken in again one by one, each in its own transaction. Outcomes come
    after their batch is committed, so what is printed is what is stored."""
    pending: list[Found] = []
    for item in found:
        pending.append(item)
        if len(pending) >= batch_size:
            yield from _import_batch(db, pending, settings)
            pending = []
    if pending:
        yield from _import_batch(db, pending, settings)


def _import_batch(db: Database, batch: list[Found], settings: Settings) -> list[tuple[Found, ImportOutcome]]:
    try:
        with db.batch():
            outcomes = [(item, _import_found(db, item, settings)) for item in batch]
    except Exception:
        log.exception("a batch of %d mails could not be committed: taking them in one by one", len(batch))
        outcomes = [(item, _import_found(db, item, settings)) for item in batch]
    return outcomes


def _import_found(db: Database, item: Found, settings: Settings) -> ImportOutcome:
    if item.error is not None:
        return ImportOutcome("failed", reason=f"{item.source}: {item.error}")
    return import_one(db, item.raw, source=item.source, settings=settings)


def import_mail(
    session: Session, raw: bytes, *, source: str, settings: Settings, retry_of: MailQuarantine | None = None
) -> ImportOutcome:
    """Take one mail in (see the module docstring); never raises for what the mail contains.
    `retry_of`: an admin's retry of that quarantine entry (it is updated, not added again, and
    the flood limit no longer applies)."""
    mail = parse_mail(raw)
    if mail.problem is not None:
        return _quarantine(session, raw, mail, reason=mail.problem, source=source, settings=settings, entry=retry_of)
    noise = classify(mail, raw)
    now = utcnow()
    sent_at = min(mail.date or now, now)
    sender = crypto.digest(mail.from_address) if mail.from_address else None
    claim = claims.claim(
        session,
        claims.Claim(mail.message_id, mail.digest, source, sender, noise.kind, noise.reason, sent_at, now),
    )
    if claim is None:
        ticket_id, number = claims.earlier(session, message_id=mail.message_id, digest=mail.digest)
        return ImportOutcome("duplicate", number=number, ticket_id=ticket_id)
    if noise.kind in ("auto_reply", "list", "bounce"):
        return _record_noise(session, claim, mail, noise, settings=settings)
    thread = None if noise.kind == "spam" else _thread(session, mail, settings)
    follow_up_of = None
    if thread is not None and thread.ticket.status == Status.CLOSED:
        follow_up_of, thread = thread.ticket.number, None
    if thread is not None:
        return _add_to_thread(session, claim, raw, mail, thread, settings=settings)
    if retry_of is None and sender is not None and _flooding(session, claim, sender, sent_at, settings):
        session.execute(delete(MailMessage).where(MailMessage.id == claim))
        reason = f"flood: more than {settings.mail_flood_per_hour} new tickets from this sender in an hour"
        return _quarantine(session, raw, mail, reason=reason, source=source, settings=settings, entry=None)
    return _new_ticket(session, claim, raw, mail, noise, settings=settings, follow_up_of=follow_up_of)


# --- the claim ----------------------------------------------------------------------------------


def _source_ref(session: Session, mail: ParsedMail, claim: int) -> str | None:
    """The Message-ID as the ticket's or message's own id, unless another mail took it first (a
    reused id: the mail is its own, but the id already names that other one)."""
    if not mail.message_id or len(mail.message_id) > 255:
        return None
    return mail.message_id if claims.first_with_id(session, message_id=mail.message_id, row_id=claim) else None


# --- quarantine and the flood limit -------------------------------------------------------------


def _quarantine(
    session: Session,
    raw: bytes,
    mail: ParsedMail,
    *,
    reason: str,
    source: str,
    settings: Settings,
    entry: MailQuarantine | None,
) -> ImportOutcome:
    if entry is not None:  # a retry that failed again: the same entry says so
        entry.reason = clean_line(reason)[: quarantine_store.REASON_CHARS]
        entry.attempts += 1
        entry.updated_at = utcnow()
        return ImportOutcome("quarantined", reason=entry.reason, quarantine_id=entry.id)
    entry_id = quarantine_store.put(
        session, raw=raw, mail=mail, reason=reason, source=source, root=settings.quarantine_dir
    )
    if entry_id is None:
        return ImportOutcome("duplicate", reason="quarantined before")
    return ImportOutcome(
        "quarantined", reason=clean_line(reason)[: quarantine_store.REASON_CHARS], quarantine_id=entry_id
    )


def _flooding(session: Session, claim: int, sender: str, sent_at: datetime, settings: Settings) -> bool:
    """Whether the sender already had the limit of new tickets in the hour before this mail
    (by the mails' dates, so replaying an old mailbox is not a flood)."""
    limit = settings.mail_flood_per_hour
    return limit > 0 and claims.new_tickets_before(session, sender=sender, sent_at=sent_at, row_id=claim) >= limit


# --- noise --------------------------------------------------------------------------------------


def _record_noise(session: Session, claim: int, mail: ParsedMail, noise: Noise, *, settings: Settings) -> ImportOutcome:
    """Noise is never answered and never a message: a bounce of our mail fails that delivery; an
    auto-reply in a ticket's thread goes on its timeline; the rest is only recorded."""
    ticket: Ticket | None = None
    if noise.kind == "bounce":
        ticket = _fail_bounced_delivery(session, mail, noise)
    else:
        thread = _thread(session, mail, settings)
        if thread is not None:
            ticket = thread.ticket
            data = {"kind": noise.kind, "reason": noise.reason, "subject": clean_line(mail.subject)[:200]}
            tickets.note_event(session, ticket, action="mail_noise", data=data, actor=SYSTEM)
    ticket_id = ticket.id if ticket is not None else None
    claims.settle(session, claim, outcome="noise", ticket_id=ticket_id, message_id=None)
    number = ticket.number if ticket is not None else None
    return ImportOutcome("imported", number=number, ticket_id=ticket_id, kind=noise.kind, reason=noise.reason)


def _fail_bounced_delivery(session: Session, mail: ParsedMail, noise: Noise) -> Ticket | None:
    """The delivery whose Message-ID bounced turns `failed` (a delay only notes it), on its
    ticket's timeline as a failed reply; None when the bounce is not about a mail we sent."""
    bounced = noise.bounced_message_id
    if not bounced:
        return None
    delivery = session.scalar(
        select(MessageDelivery)
        .where(
            or_(
                MessageDelivery.mail_message_id == message_id_key(bounced),
                MessageDelivery.external_id.in_([bounced, f"<{bounced}>"]),
            )
        )
        .order_by(MessageDelivery.id.desc())
        .limit(1)
        .with_for_update()
    )
    if delivery is None:
        return None
    ticket = session.get(Ticket, delivery.ticket_id)
    if ticket is None:
        return None
    error = f"bounced: {noise.reason}" + (f" ({', '.join(noise.failed_recipients)})" if noise.failed_recipients else "")
    data = {"message_id": delivery.message_id, "channel": delivery.channel, "error": error[:500]}
    if not noise.failed_recipients and "delayed" in (noise.reason or ""):
        tickets.note_event(session, ticket, action="mail_delayed", data=data, actor=SYSTEM)
        return ticket
    delivery.status = "failed"
    delivery.reason = "bounced"
    delivery.error = error[:2000]
    # A reply's own `delivery` sums its rows up (channels/delivery.py): failed wins over sent
    # and suppressed, only a row still queued wins over it. A notice has no message.
    message = session.get(Message, delivery.message_id) if delivery.message_id is not None else None
    if message is not None and message.delivery != Delivery.QUEUED.value:
        message.delivery = Delivery.FAILED.value
    tickets.note_event(session, ticket, action="reply_failed", data=data, actor=SYSTEM)
    return ticket


# --- tickets and messages -----------------------------------------------------------------------


def _thread(session: Session, mail: ParsedMail, settings: Settings) -> Thread | None:
    return find_thread(session, mail, prefix=settings.ticket_number_prefix, mail_from=settings.mail_from)


def sender_actor(mail: ParsedMail) -> Actor:
    """Who wrote the mail, as the timeline shows them: the address masked."""
    return Actor(type=ActorType.USER, name=(mask_contact(mail.from_address) or "email")[:100])


def _body(mail: ParsedMail) -> str:
    """What the sender wrote now; the subject for a mail without text; never empty."""
    for text in (mail.text_new, mail.text, mail.subject):
        if has_visible(text):
            text = text.strip()
            return text if len(text) <= DESCRIPTION_CHARS else text[: DESCRIPTION_CHARS - 1] + "…"
    return NO_TEXT


def _limits(settings: Settings) -> files.Limits:
    return files.Limits(max_bytes=settings.max_attachment_bytes, max_files=settings.max_attachments_per_ticket)


def _note_skipped(session: Session, ticket: Ticket, stored: files.Stored, settings: Settings) -> None:
    if stored.skipped:
        data = {"files": stored.skipped, "max_bytes": settings.max_attachment_bytes}
        tickets.note_event(session, ticket, action="mail_attachments_skipped", data=data, actor=SYSTEM)


def _add_to_thread(
    session: Session, claim: int, raw: bytes, mail: ParsedMail, thread: Thread, *, settings: Settings
) -> ImportOutcome:
    ticket = thread.ticket
    actor = sender_actor(mail)
    if ticket.status == Status.RESOLVED:
        # "Resolved" waits for the user's word: a reply means it is not over yet.
        tickets.change_status(session, ticket, status=Status.OPEN, actor=actor)
    stored = files.store_mail_files(
        session, raw=raw, parts=mail.attachments, root=settings.attachments_dir, limits=_limits(settings)
    )
    message = tickets.add_user_message(
        session,
        ticket,
        body=_body(mail),
        actor=actor,
        settings=settings,
        channel=Channel.EMAIL.value,
        source_ref=_source_ref(session, mail, claim),
        attachment_ids=stored.ids,
    )
    _note_skipped(session, ticket, stored, settings)
    claims.settle(session, claim, outcome="threaded", ticket_id=ticket.id, message_id=message.id)
    return ImportOutcome("threaded", number=ticket.number, ticket_id=ticket.id)


def _new_ticket(
    session: Session,
    claim: int,
    raw: bytes,
    mail: ParsedMail,
    noise: Noise,
    *,
    settings: Settings,
    follow_up_of: str | None,
) -> ImportOutcome:
    contact = mail.from_address if mail.from_address and len(mail.from_address) <= 254 else None
    feedback = FeedbackIn(
        channel=Channel.EMAIL,
        title=clean_line(mail.subject)[:200] or None,
        description=_body(mail),
        contact=contact,
        user_name=clean_line(mail.from_name or "")[:100] or None,
        source_ref=_source_ref(session, mail, claim),
        tags=[SPAM_TAG] if noise.kind == "spam" else [],
    )
    stored = files.Stored()

    def store(files_session: Session) -> list[str]:
        nonlocal stored
        stored = files.store_mail_files(
            files_session, raw=raw, parts=mail.attachments, root=settings.attachments_dir, limits=_limits(settings)
        )
        return stored.ids

    result = intake.receive(
        session,
        feedback,
        caller=IntakeCaller.channel_adapter(Channel.EMAIL, actor=sender_actor(mail)),
        settings=settings,
        limit=None,
        files=store,
    )
    ticket = result.ticket
    if not result.created:  # its Message-ID made this ticket by another way in (the API)
        claims.settle(session, claim, outcome="imported", ticket_id=ticket.id, message_id=None)
        return ImportOutcome("duplicate", number=ticket.number, ticket_id=ticket.id)
    if follow_up_of is not None:
        tickets.note_event(session, ticket, action="mail_follow_up", data={"of": follow_up_of}, actor=SYSTEM)
    _note_skipped(session, ticket, stored, settings)
    if noise.kind == "spam":
        # Closed at once: out of every queue (they list active tickets) and never answered.
        note = "上游过滤器标记为垃圾邮件 / flagged as spam by an upstream filter"
        tickets.change_status(session, ticket, status=Status.CLOSED, actor=SYSTEM, note=note)
    claims.settle(session, claim, outcome="imported", ticket_id=ticket.id, message_id=None)
    return ImportOutcome("imported", number=ticket.number, ticket_id=ticket.id, kind=noise.kind, reason=noise.reason)
