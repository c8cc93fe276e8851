"""Scoring handled tickets: a plain 0-100 score, or the QA form's criteria it is computed from."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiying.callbacks import service as callbacks
from huiying.errors import Conflict, InvalidInput
from huiying.kit.actor import Actor
from huiying.kit.clock import utcnow
from huiying.quality import samples, scoring
from huiying.quality.models import QAReview
from huiying.quality.scoring import Criteria
from huiying.tickets import history
from huiying.tickets.enums import Status
from huiying.tickets.models import Ticket

REVIEWABLE = frozenset({Status.RESOLVED.value, Status.CLOSED.value})


def callback_item(session: Session, ticket: Ticket) -> int | None:
    """The call-back criterion the form starts with: from the ticket's call-back (phone tickets),
    None when it has none or none is due yet."""
    outcome = callbacks.callback_outcome(session, ticket)
    if outcome is None:
        return None
    return scoring.callback_item(
        due_at=outcome.due_at, done_at=outcome.done_at, attempts=outcome.attempts, now=utcnow()
    )


def review(
    session: Session,
    ticket: Ticket,
    *,
    score: int | None = None,
    criteria: Criteria | None = None,
    comment: str,
    actor: Actor,
) -> QAReview:
    """Score a resolved or closed ticket; the score is credited to its assignee. Without `score`
    it is computed from `criteria` (scoring.score_of). A QA person never scores their own work
    (409 own_work), and the review completes the ticket's open QA samples."""
    if score is None:
        if criteria is None:
            raise InvalidInput("give a score or the criteria", code="score_missing", details={"field": "score"})
        score = scoring.score_of(criteria)
    if not 0 <= score <= 100:
        raise InvalidInput("the score must be 0 to 100", code="invalid_score", details={"field": "score"})
    if ticket.status not in REVIEWABLE:
        raise Conflict("only resolved or closed tickets are scored", code="not_reviewable")
    if actor.staff_id is not None and actor.staff_id in samples.workers_of(session, [ticket.id]).get(ticket.id, set()):
        raise Conflict("a QA person does not score a ticket they worked on", code="own_work")
    items = criteria.as_dict() if criteria is not None else {}
    row = QAReview(
        ticket_id=ticket.id,
        reviewer_id=actor.staff_id,
        agent_id=ticket.assignee_id,
        score=score,
        comment=comment,
        created_at=utcnow(),
        **items,
    )
    session.add(row)
    session.flush()
    samples.mark_scored(session, ticket, row)
    data: dict[str, object] = {"score": score, "review": row.id}
    data.update({k: v for k, v in items.items() if v is not None})
    history.record(session, ticket=ticket, actor=actor, action="qa_reviewed", data=data)
    return row


def reviews_of(session: Session, ticket: Ticket) -> list[QAReview]:
    return list(session.scalars(select(QAReview).where(QAReview.ticket_id == ticket.id).order_by(QAReview.id)))


def callback_items(session: Session, numbers: list[str]) -> dict[str, int | None]:
    """The call-back item each ticket's form starts with, by ticket number."""
    if not numbers:
        return {}
    tickets = session.scalars(select(Ticket).where(Ticket.number.in_(numbers)))
    return {ticket.number: callback_item(session, ticket) for ticket in tickets}
