"""What a user may do with their own ticket: add information, confirm the fix, or reopen."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from huiying.config import Settings
from huiying.errors import Conflict, NotFound
from huiying.kit.actor import Actor
from huiying.portal.links import number_from_token
from huiying.portal.proof import Proofs
from huiying.privacy import crypto
from huiying.tickets import repository, service
from huiying.tickets.enums import Channel, Status
from huiying.tickets.models import Message, Ticket
from huiying.tickets.numbering import normalise_number


def ticket_of_token(session: Session, secret_key: str, token: str, *, lock: bool = False) -> Ticket:
    """The ticket a signed link opens (NotFound for a bad or stale one); `lock` for the user's
    actions, which change it."""
    number = number_from_token(secret_key, token)
    statement = select(Ticket).where(Ticket.number == number)
    ticket = session.scalar(repository.for_update(statement) if lock else statement)
    if ticket is None:
        raise NotFound("this link is not valid", code="bad_portal_link")
    return ticket


def find_by_number_and_contact(session: Session, *, number: str, contact: str) -> Ticket:
    """The ticket if the contact given at intake matches; one vague NotFound otherwise."""
    ticket = session.scalar(select(Ticket).where(Ticket.number == normalise_number(number)))
    if ticket is None or not contact.strip() or ticket.contact_digest not in crypto.candidate_digests(contact):
        raise NotFound("no ticket matches this number and contact", code="unknown_ticket")
    return ticket


def proven_tickets(session: Session, proofs: Proofs, *, limit: int, exclude_id: int | None = None) -> list[Ticket]:
    """The tickets of the user ids and contacts the visitor proved, newest first.

    Only the proofs count: never the user id or contact of the ticket being viewed, which anyone
    could have typed in at intake."""
    conditions = []
    if proofs.user_ids:
        conditions.append(Ticket.user_id.in_(sorted(proofs.user_ids)))
    if proofs.contact_digests:
        conditions.append(Ticket.contact_digest.in_(sorted(proofs.contact_digests)))
    if not conditions:
        return []
    statement = select(Ticket).where(or_(*conditions))
    if exclude_id is not None:
        statement = statement.where(Ticket.id != exclude_id)
    return list(session.scalars(statement.order_by(Ticket.id.desc()).limit(limit)))


def public_messages(session: Session, ticket: Ticket) -> list[Message]:
    """What the user may read: their own messages and public replies, never internal notes."""
    return repository.messages(session, ticket, include_internal=False)


def add_information(
    session: Session,
    ticket: Ticket,
    *,
    text: str,
    attachment_ids: list[str],
    actor: Actor,
    settings: Settings,
    source_ref: str | None = None,
) -> None:
    """The user's words (and files) on their ticket; a form sent twice with one `source_ref`
    adds one message."""
    if ticket.status == Status.CLOSED:
        raise Conflict("this ticket is closed; reopen it to add information", code="ticket_closed")
    service.add_user_message(
        session,
        ticket,
        body=text,
        actor=actor,
        settings=settings,
        channel=Channel.WEB.value,
        source_ref=source_ref,
        attachment_ids=attachment_ids,
    )


def confirm(session: Session, ticket: Ticket, *, actor: Actor) -> None:
    """The user agrees the problem is solved: resolved -> closed."""
    if ticket.status != Status.RESOLVED:
        raise Conflict("only a resolved ticket can be confirmed", code="not_resolved")
    service.change_status(
        session,
        ticket,
        status=Status.CLOSED,
        actor=actor,
        note="用户确认已解决 / confirmed by the user",
    )


def reopen(session: Session, ticket: Ticket, *, reason: str, actor: Actor, settings: Settings) -> None:
    """The user is not satisfied: the ticket goes back to the team, with their reason."""
    if ticket.status not in (Status.RESOLVED, Status.CLOSED):
        raise Conflict("only a resolved or closed ticket can be reopened", code="not_finished")
    service.change_status(session, ticket, status=Status.OPEN, actor=actor)
    if reason.strip():
        service.add_user_message(
            session,
            ticket,
            body=reason.strip(),
            actor=actor,
            settings=settings,
            channel=Channel.WEB.value,
        )
