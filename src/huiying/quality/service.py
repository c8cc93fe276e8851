"""Scoring handled tickets."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiying.errors import Conflict
from huiying.kit.actor import Actor
from huiying.kit.clock import utcnow
from huiying.quality.models import QAReview
from huiying.tickets import history
from huiying.tickets.enums import Status
from huiying.tickets.models import Ticket

REVIEWABLE = frozenset({Status.RESOLVED.value, Status.CLOSED.value})


def review(session: Session, ticket: Ticket, *, score: int, comment: str, actor: Actor) -> QAReview:
    """Score a resolved or closed ticket; the score is credited to its assignee."""
    if ticket.status not in REVIEWABLE:
        raise Conflict("only resolved or closed tickets are scored", code="not_reviewable")
    row = QAReview(
        ticket_id=ticket.id,
        reviewer_id=actor.staff_id,
        agent_id=ticket.assignee_id,
        score=score,
        comment=comment,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    history.record(
        session,
        ticket=ticket,
        actor=actor,
        action="qa_reviewed",
        data={"score": score, "review": row.id},
    )
    return row


def reviews_of(session: Session, ticket: Ticket) -> list[QAReview]:
    return list(session.scalars(select(QAReview).where(QAReview.ticket_id == ticket.id).order_by(QAReview.id)))
