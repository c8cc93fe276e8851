"""Data-subject requests (PIPL): export everything about one platform user, or erase it.

Erasure anonymises rather than deletes: the tickets stay, with their category, priority,
channel, status and times, so volumes, SLA attainment and trends are unchanged; what could
identify the person (contact, free text, device, city, links, files, user id) is removed.
The email channel's own records of their mails, and any of their mails still in quarantine, go
with it (channels/email/personal_data.py); so do addresses quoted in delivery errors, their
survey comments and what their logged calls said.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from huiying.alerts.models import AlertRobot
from huiying.audit import service as audit
from huiying.callbacks.models import CallLog
from huiying.channels.email import personal_data as mail_data
from huiying.channels.email.models import MailAccount
from huiying.channels.models import MessageDelivery
from huiying.kit.actor import Actor
from huiying.kit.clock import utcnow
from huiying.kit.masking import mask_text
from huiying.privacy import crypto
from huiying.suggestions import service as suggestions
from huiying.surveys.models import SurveyResponse
from huiying.tickets import repository
from huiying.tickets.models import Attachment, Message, Ticket, TicketEvent

ERASED = "[已按用户要求删除 erased at the user's request]"


def _tickets_of(session: Session, *, user_id: str | None, contact: str | None, lock: bool = False) -> list[Ticket]:
    """The person's tickets by id; `lock`: for writing, in id order like every multi-ticket writer."""
    conditions = []
    if user_id:
        conditions.append(Ticket.user_id == user_id)
    if contact:
        conditions.append(Ticket.contact_digest.in_(crypto.candidate_digests(contact)))
    if not conditions:
        return []
    statement = select(Ticket).where(or_(*conditions)).order_by(Ticket.id)
    return list(session.scalars(repository.for_update(statement) if lock else statement))


def _sender_digests(contact: str | None) -> list[str]:
    return list(crypto.candidate_digests(contact)) if contact else []


def export(session: Session, *, user_id: str | None, contact: str | None, actor: Actor) -> dict[str, Any]:
    """Everything stored about the person, in the clear (the requester is entitled to it)."""
    tickets = _tickets_of(session, user_id=user_id, contact=contact)
    ids = [t.id for t in tickets]
    mails = mail_data.export(session, ticket_ids=ids, sender_digests=_sender_digests(contact))
    messages = session.scalars(select(Message).where(Message.ticket_id.in_(ids)).order_by(Message.id))
    files = session.scalars(select(Attachment).where(Attachment.ticket_id.in_(ids)))
    number = {t.id: t.number for t in tickets}
    data = {
        "user_id": user_id,
        "exported_at": utcnow().isoformat(),
        "tickets": [
            {
                "number": t.number,
                "channel": t.channel,
                "created_at": t.created_at.isoformat(),
                "status": t.status,
                "category": t.category,
                "title": t.title,
                "description": t.description,
                "contact": t.contact_plain(),
                "name": t.user_name,
                "device": {"os": t.device_os, "model": t.device_model},
                "app_version": t.app_version,
                "city": t.city,
                "links": t.links,
            }
            for t in tickets
        ],
        "messages": [
            {
                "ticket": number[m.ticket_id],
                "from": "you" if m.author_type == "user" else m.author_type,
                "body": m.body,
                "created_at": m.created_at.isoformat(),
            }
            for m in messages
            if m.kind != "note"
        ],
        "attachments": [
            {
                "ticket": number[a.ticket_id or 0],
                "filename": a.filename,
                "size": a.size,
                "type": a.content_type,
            }
            for a in files
        ],
        **mails,
        "surveys": [
            {
                "ticket": number[r.ticket_id],
                "answer": r.csat,
                "nps": r.nps,
                "comment": r.comment,
                "at": r.created_at.isoformat(),
            }
            for r in session.scalars(select(SurveyResponse).where(SurveyResponse.ticket_id.in_(ids)))
        ],
        "calls": [
            {
                "ticket": number[c.ticket_id],
                "at": c.called_at.isoformat(),
                "duration_seconds": c.duration_seconds,
                "summary": c.summary,
            }
            for c in session.scalars(select(CallLog).where(CallLog.ticket_id.in_(ids)).order_by(CallLog.id))
        ],
    }
    audit.record(
        session,
        actor=actor,
        action="privacy.exported",
        object_type="platform_user",
        object_id=_subject(user_id, contact),
        after={"tickets": len(tickets), "mails": len(mails["mails"]) + len(mails["quarantined_mails"])},
    )
    return data


def _subject(user_id: str | None, contact: str | None) -> str:
    # The audit log must not keep the very identifiers that were erased.
    raw = f"{user_id or ''}|{crypto.normalise_contact(contact) if contact else ''}"
    return "subject:" + hashlib.sha256(raw.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Erasure:
    tickets: int
    messages: int
    files: int
    mails: int = 0  # mail records and quarantined mails


def erase(
    session: Session,
    *,
    user_id: str | None,
    contact: str | None,
    actor: Actor,
    attachments_root: Path,
    quarantine_root: Path,
) -> Erasure:
    """Anonymise every ticket of the person; statistics-relevant fields are kept."""
    tickets = _tickets_of(session, user_id=user_id, contact=contact, lock=True)
    ids = [t.id for t in tickets]
    pseudonym = _subject(user_id, contact)
    for ticket in tickets:
        ticket.set_contact(None)
        ticket.user_id = pseudonym
        ticket.user_name = None
        ticket.title = ERASED
        ticket.description = ERASED
        ticket.search_tokens = ""
        ticket.device_os = ticket.device_model = ticket.city = None
        ticket.links = {}
        ticket.source_ref = None
    user_messages = session.execute(
        update(Message).where(Message.ticket_id.in_(ids), Message.author_type == "user").values(body=ERASED)
    ).rowcount  # type: ignore[attr-defined]
    # Staff replies stay (they are the platform's record) but lose any personal data quoted in them.
    for message in session.scalars(select(Message).where(Message.ticket_id.in_(ids), Message.author_type != "user")):
        message.body = mask_text(message.body)
    for event in session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id.in_(ids), TicketEvent.field == "title")
    ):
        event.old_value = event.new_value = ERASED
    files = list(session.scalars(select(Attachment).where(Attachment.ticket_id.in_(ids))))
    for attachment in files:
        (attachments_root / attachment.storage_key[:2] / attachment.storage_key).unlink(missing_ok=True)
        session.delete(attachment)
    for delivery in session.scalars(
        select(MessageDelivery).where(MessageDelivery.ticket_id.in_(ids), MessageDelivery.error.is_not(None))
    ):
        delivery.error = mask_text(delivery.error or "")  # "550 <li.lei@…>: no such user"
    # What the person said in the survey, and the calls they made (a recording link, the
    # summary of what they said, their number's digest), go with the tickets' free text.
    session.execute(update(SurveyResponse).where(SurveyResponse.ticket_id.in_(ids)).values(comment=None))
    session.execute(
        update(CallLog)
        .where(CallLog.ticket_id.in_(ids))
        .values(summary=ERASED, recording_url=None, caller_masked="", caller_digest="")
    )
    # Their suggestions leave the pool (a group may be titled in their words).
    suggestions.forget(session, ticket_ids=ids)
    mail = mail_data.erase(
        session,
        ticket_ids=ids,
        sender_digests=_sender_digests(contact),
        quarantine_root=quarantine_root,
        by=actor.name,
    )
    audit.record(
        session,
        actor=actor,
        action="privacy.erased",
        object_type="platform_user",
        object_id=pseudonym,
        after={
            "tickets": len(tickets),
            "messages": user_messages,
            "files": len(files) + mail.files,
            "mails": mail.mails + mail.quarantined,
        },
    )
    return Erasure(
        tickets=len(tickets),
        messages=user_messages,
        files=len(files) + mail.files,
        mails=mail.mails + mail.quarantined,
    )


def rotate_keys(session: Session, *, actor: Actor, batch: int = 1000) -> int:
    """Re-encrypt every stored contact with the current key and refresh its digest, and the
    mailbox passwords and alert-robot addresses sealed with the same key; the contacts' count."""
    done = 0
    last = 0
    while True:
        rows = list(
            session.scalars(
                select(Ticket)
                .where(Ticket.id > last, Ticket.contact_encrypted.is_not(None))
                .order_by(Ticket.id)
                .limit(batch)
            )
        )
        if not rows:
            break
        for ticket in rows:
            plain = ticket.contact_plain()
            ticket.contact_encrypted = crypto.rotate(ticket.contact_encrypted or "")
            ticket.contact_digest = crypto.digest(plain) if plain else None
        done += len(rows)
        last = rows[-1].id
        session.flush()
    # The other secrets sealed with the same key: without this, retiring the old key would leave
    # the mailboxes unable to log in and the alert robots without their addresses.
    secrets = 0
    for account in session.scalars(select(MailAccount)):
        account.password_encrypted = crypto.rotate(account.password_encrypted)
        secrets += 1
    for robot in session.scalars(select(AlertRobot)):
        robot.url_encrypted = crypto.rotate(robot.url_encrypted)
        if robot.secret_encrypted:
            robot.secret_encrypted = crypto.rotate(robot.secret_encrypted)
        secrets += 1
    audit.record(
        session,
        actor=actor,
        action="privacy.keys_rotated",
        object_type="system",
        after={"contacts": done, "secrets": secrets},
    )
    return done
