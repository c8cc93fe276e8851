"""Which ticket a mail answers, strongest sign first:

1. In-Reply-To / References naming a mail we took in (its ticket), a mail we sent (a delivery's
   `mail_message_id`, or the id its sender reported) or an email ticket's own Message-ID. Those
   ids are only known to whoever saw the conversation, so they thread on their own.
2. The reply address we hand out, `<support>+<number>@<domain>` beside HUIYING_MAIL_FROM.
3. A ticket number in the subject ("Re: [#HY261202-0042] …").
Numbers are easy to guess, so 2 and 3 thread only when the sender is the ticket's contact;
otherwise the mail is new feedback. A merged ticket hands the mail on to the one it went into.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiying.channels.email.claims import message_id_key
from huiying.channels.email.models import MailMessage
from huiying.channels.email.parse import ParsedMail
from huiying.channels.models import MessageDelivery
from huiying.privacy import crypto
from huiying.tickets import repository
from huiying.tickets.enums import Channel
from huiying.tickets.models import Ticket
from huiying.tickets.numbering import normalise_number

MERGE_HOPS = 10  # a chain of merges longer than this is a loop


@dataclass(frozen=True)
class Thread:
    ticket: Ticket  # locked for writing
    by: str  # "message_id", "reply_address" or "subject"


def find_thread(session: Session, mail: ParsedMail, *, prefix: str, mail_from: str) -> Thread | None:
    """The ticket `mail` answers, locked for writing, or None for new feedback."""
    ticket_id = _by_message_ids(session, mail)
    if ticket_id is not None:
        return _thread(session, ticket_id, "message_id")
    if not mail.from_address:
        return None
    for by, numbers in (
        ("reply_address", reply_address_numbers(mail, mail_from=mail_from)),
        ("subject", subject_numbers(mail.subject, prefix=prefix)),
    ):
        if not numbers:
            continue
        digests = set(crypto.candidate_digests(mail.from_address))
        for ticket in session.scalars(select(Ticket).where(Ticket.number.in_(numbers))):
            if ticket.contact_digest in digests:
                return _thread(session, ticket.id, by)
    return None


def _by_message_ids(session: Session, mail: ParsedMail) -> int | None:
    ids = list(dict.fromkeys(message_id_key(i) for i in (mail.in_reply_to, *reversed(mail.references)) if i))
    if not ids:
        return None
    found: dict[str, int] = {}
    taken = select(MailMessage.message_id, MailMessage.ticket_id).where(
        MailMessage.message_id.in_(ids), MailMessage.ticket_id.is_not(None)
    )
    # A sender may store our Message-ID with its angle brackets or without.
    bracketed = {f"<{i}>": i for i in ids}
    sent = select(MessageDelivery.mail_message_id, MessageDelivery.ticket_id).where(
        MessageDelivery.mail_message_id.in_(ids)
    )
    # What another sender (a test's, a future channel's) reported as its id of the mail.
    reported = select(MessageDelivery.external_id, MessageDelivery.ticket_id).where(
        MessageDelivery.external_id.in_([*ids, *bracketed])
    )
    own = select(Ticket.source_ref, Ticket.id).where(Ticket.channel == Channel.EMAIL.value, Ticket.source_ref.in_(ids))
    for statement in (taken, sent, reported, own):
        for message_id, ticket_id in session.execute(statement):
            if message_id is not None and ticket_id is not None:
                found.setdefault(bracketed.get(message_id, message_id), ticket_id)
    # The mail it answers directly first, then the newest of its References.
    return next((found[i] for i in ids if i in found), None)


def _thread(session: Session, ticket_id: int, by: str) -> Thread | None:
    """The ticket locked for writing, after following merges to the one that lives on."""
    for _ in range(MERGE_HOPS):
        statement = repository.for_update(select(Ticket).where(Ticket.id == ticket_id))
        ticket = session.scalar(statement)
        if ticket is None:
            return None
        if ticket.merged_into_id is None:
            return Thread(ticket, by)
        ticket_id = ticket.merged_into_id
    return None


def subject_numbers(subject: str, *, prefix: str) -> list[str]:
    """The ticket numbers in a subject, normalised ("[#hy 261202-0042]" counts)."""
    pattern = rf"(?<![A-Za-z0-9]){re.escape(prefix)}\s*(\d{{6}})\s*-?\s*(\d{{4,9}})(?!\d)"
    found = re.findall(pattern, subject, flags=re.IGNORECASE)
    return list(dict.fromkeys(normalise_number(f"{prefix}{day}-{sequence}") for day, sequence in found))


def reply_address_numbers(mail: ParsedMail, *, mail_from: str) -> list[str]:
    """Ticket numbers from `<local>+<number>@<domain>` recipients beside our own address."""
    own_local, _, own_domain = mail_from.strip().lower().rpartition("@")
    numbers = []
    for address in (*mail.to, *mail.cc):
        local, _, domain = address.rpartition("@")
        base, plus, tag = local.partition("+")
        if plus and tag and base == own_local and domain == own_domain:
            numbers.append(normalise_number(tag))
    return list(dict.fromkeys(numbers))
