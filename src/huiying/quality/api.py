"""QA scores on tickets."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.errors import Forbidden
from huiying.http.deps import DB, Staff
from huiying.http.responses import json_model, json_models
from huiying.kit.strings import CleanText, InputModel
from huiying.quality import service
from huiying.quality.models import QAReview
from huiying.tickets.access import get_ticket_for

router = APIRouter(prefix="/api/v1", tags=["quality"])


class ReviewIn(InputModel):
    score: Annotated[int, Field(ge=0, le=100)]
    comment: Annotated[CleanText, Field(max_length=5000)] = ""


class ReviewOut(BaseModel):
    id: int
    score: int
    comment: str
    created_at: datetime


def _out(row: QAReview) -> ReviewOut:
    return ReviewOut(id=row.id, score=row.score, comment=row.comment, created_at=row.created_at)


@router.post("/tickets/{number}/qa-reviews", status_code=201, response_model=ReviewOut)
def create_review(number: str, body: ReviewIn, db: DB, actor: Staff) -> Response:
    """QA scores a resolved or closed ticket (0-100)."""
    with db.write() as session:
        ticket = get_ticket_for(session, actor, number, permission=Permission.QA_SCORE)
        row = service.review(session, ticket, score=body.score, comment=body.comment, actor=actor)
        return json_model(_out(row), status_code=201)


@router.get("/tickets/{number}/qa-reviews", response_model=list[ReviewOut])
def list_reviews(number: str, db: DB, actor: Staff) -> Response:
    """QA and supervisors read the scores."""
    if not (access.has(actor, Permission.QA_SCORE) or access.has(actor, Permission.TEAM_MANAGE)):
        raise Forbidden("only QA and supervisors read quality scores")
    with db.read() as session:
        ticket = get_ticket_for(session, actor, number)
        return json_models([_out(r) for r in service.reviews_of(session, ticket)], ReviewOut)
