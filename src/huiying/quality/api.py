"""QA over HTTP: scores on tickets (plain or by the form's criteria), the weekly samples, and the
scores per agent and week."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.errors import Forbidden
from huiying.http.deps import DB, Staff
from huiying.http.responses import json_model, json_models
from huiying.kit.actor import Actor
from huiying.kit.clock import utcnow
from huiying.quality import report, samples, sampling, service
from huiying.quality.models import QAReview
from huiying.quality.report import AgentWeek
from huiying.quality.samples import SampleRow
from huiying.quality.schemas import (
    AgentWeekOut,
    QAReport,
    ReviewIn,
    ReviewOut,
    SampleList,
    SampleOut,
    SampleRunIn,
    SampleRunOut,
)
from huiying.tickets.access import get_ticket_for

router = APIRouter(prefix="/api/v1", tags=["quality"])


def _out(row: QAReview) -> ReviewOut:
    return ReviewOut(
        id=row.id,
        score=row.score,
        comment=row.comment,
        created_at=row.created_at,
        accuracy=row.accuracy,
        tone=row.tone,
        timeliness=row.timeliness,
        process=row.process,
        callback=row.callback,
    )


def _sample_out(row: SampleRow) -> SampleOut:
    return SampleOut(
        id=row.id,
        week=row.week,
        ticket=row.ticket,
        agent=row.agent,
        reviewer=row.reviewer,
        scored=row.scored,
        score=row.score,
    )


def _figures(row: AgentWeek) -> AgentWeekOut:
    return AgentWeekOut(agent=row.agent, week=row.week, reviews=row.reviews, score=row.score, **row.criteria)


def require_qa_reader(actor: Actor) -> None:
    """QA and supervisors (and admins) see samples and QA figures."""
    if not (access.has(actor, Permission.QA_SCORE) or access.has(actor, Permission.TEAM_MANAGE)):
        raise Forbidden("only QA and supervisors read quality scores")


@router.post("/tickets/{number}/qa-reviews", status_code=201, response_model=ReviewOut)
def create_review(number: str, body: ReviewIn, db: DB, actor: Staff) -> Response:
    """QA scores a resolved or closed ticket: `score` 0-100, or the form's criteria (1-5) the
    score is computed from; a phone ticket's `callback` item defaults to its call-back's outcome."""
    with db.write() as session:
        ticket = get_ticket_for(session, actor, number, permission=Permission.QA_SCORE)
        callback = body.callback if body.callback_given else service.callback_item(session, ticket)
        criteria = body.form(callback=callback)
        row = service.review(session, ticket, score=body.score, criteria=criteria, comment=body.comment, actor=actor)
        return json_model(_out(row), status_code=201)


@router.get("/tickets/{number}/qa-reviews", response_model=list[ReviewOut])
def list_reviews(number: str, db: DB, actor: Staff) -> Response:
    """QA and supervisors read the scores."""
    require_qa_reader(actor)
    with db.read() as session:
        ticket = get_ticket_for(session, actor, number)
        return json_models([_out(r) for r in service.reviews_of(session, ticket)], ReviewOut)


@router.post("/qa/samples", status_code=201, response_model=SampleRunOut)
def run_sampling(body: SampleRunIn, db: DB, actor: Staff) -> Response:
    """Draw a week's sample now (default: last week); a week sampled already gets nothing new."""
    require_qa_reader(actor)
    with db.write() as session:
        week = samples.check_week(body.week) if body.week else samples.default_week()
        run = samples.sample_week(session, week=week, actor=actor)
        created = {row.id for row in run.created}
        rows = [r for r in samples.list_samples(session, weeks=[run.week], actor=actor) if r.id in created]
        out = SampleRunOut(week=run.week, created=len(created), agents=run.agents, items=[_sample_out(r) for r in rows])
    return json_model(out, status_code=201)


@router.get("/qa/samples", response_model=SampleList)
def list_samples(
    db: DB,
    actor: Staff,
    week: Annotated[str | None, Query(max_length=8)] = None,
    mine: Annotated[bool, Query()] = False,
) -> Response:
    """The samples of `week` (default: this week and last), unscored first; `mine=1`: given to me."""
    require_qa_reader(actor)
    weeks = [samples.check_week(week)] if week else samples.recent_weeks()
    with db.read() as session:
        rows = samples.list_samples(session, weeks=weeks, actor=actor, mine=mine)
    return json_model(SampleList(weeks=weeks, items=[_sample_out(r) for r in rows]))


@router.get("/reports/qa", response_model=QAReport)
def qa_report(db: DB, actor: Staff, weeks: Annotated[int, Query(ge=1, le=report.MAX_WEEKS)] = 12) -> Response:
    """Per agent per week (the last `weeks`, this one included): reviews, mean score, mean of
    each criterion; `agents`: the same per agent over all those weeks."""
    require_qa_reader(actor)
    span = sampling.weeks_back(utcnow(), samples.local_zone(), weeks)
    with db.read() as session:
        weekly, overall = report.agent_weeks(session, weeks=span)
    return json_model(QAReport(weeks=span, items=[_figures(r) for r in weekly], agents=[_figures(r) for r in overall]))
