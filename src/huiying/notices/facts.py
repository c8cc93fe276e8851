"""What a notice says, gathered from the database while its delivery is claimed (the senders call it)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from huiying.channels.models import MessageDelivery
from huiying.compensation import service as compensation
from huiying.kit.clock import utcnow
from huiying.kit.locale import language_of
from huiying.notices import service, wording
from huiying.tickets.models import Ticket

# The notices that list the compensation given: the resolution, or that it cannot be solved.
LISTS_COMPENSATION = frozenset({"resolved", "unsolvable"})


def compensations_for(session: Session, ticket: Ticket, kind: str) -> tuple[str, ...]:
    """The approved compensation in the ticket's language, for a notice that lists it."""
    if kind not in LISTS_COMPENSATION:
        return ()
    return compensation.phrases_for(session, ticket, language=language_of(ticket.language))


def template_for(session: Session, ticket: Ticket, kind: str) -> wording.Texts | None:
    """The admins' words for this notice in the ticket's language, None for the default."""
    return service.template_for(session, kind, language_of(ticket.language))


def facts_for(session: Session, ticket: Ticket, delivery: MessageDelivery, *, timezone: str) -> wording.Facts:
    return wording.Facts(
        kind=delivery.kind,
        number=ticket.number,
        now=utcnow(),
        language=ticket.language,
        title=ticket.title,
        first_response_due=ticket.first_response_due,
        resolution_due=ticket.resolution_due,
        timezone=timezone,
        detail=dict(delivery.detail or {}),
        compensations=compensations_for(session, ticket, delivery.kind),
    )


def short_text(session: Session, ticket: Ticket, delivery: MessageDelivery, *, timezone: str) -> str:
    """The push or SMS text of a notice delivery; empty for a kind that is no notice."""
    if delivery.kind not in wording.KINDS:
        return ""
    facts = facts_for(session, ticket, delivery, timezone=timezone)
    return wording.rendered(facts, template_for(session, ticket, delivery.kind)).short
