"""The survey over HTTP: the user's answer by the signed link (for apps that show the survey
themselves; the portal page has its own form), and the CSAT/NPS figures for supervisors and QA."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.errors import Forbidden
from huiying.http.deps import DB, AppSettings, Staff, client_ip
from huiying.http.ratelimit import limits_of
from huiying.http.responses import json_model
from huiying.kit.actor import platform_user
from huiying.kit.strings import CleanText, InputModel
from huiying.portal import service as portal
from huiying.surveys import service
from huiying.surveys.service import By, Figures

router = APIRouter(prefix="/api/v1", tags=["surveys"])


class SurveyIn(InputModel):
    csat: Literal["very_satisfied", "satisfied", "neutral", "dissatisfied"]
    nps: Annotated[int | None, Field(ge=0, le=10)] = None
    comment: Annotated[CleanText, Field(max_length=service.COMMENT_CHARS)] = ""


class SurveyOut(BaseModel):
    number: str
    csat: str
    nps: int | None
    second_handling: bool  # a low answer reopened the ticket for the supervisor


class FiguresOut(BaseModel):
    key: str
    responses: int
    csat: float | None  # share satisfied or very satisfied, 0–1
    mean: float | None  # 1 (不满意) to 4 (非常满意)
    nps: float | None  # promoters minus detractors, -100 to 100
    nps_responses: int


class FiguresList(BaseModel):
    by: str
    items: list[FiguresOut]


def figures_out(row: Figures) -> FiguresOut:
    return FiguresOut(
        key=row.key,
        responses=row.responses,
        csat=row.csat_share,
        mean=row.mean,
        nps=row.nps,
        nps_responses=row.nps_responses,
    )


@router.post("/surveys/{token}", status_code=201, response_model=SurveyOut)
def answer_survey(token: str, body: SurveyIn, request: Request, db: DB, settings: AppSettings) -> Response:
    """The user's answer, by the ticket's signed link (no login); once per ticket (409 after)."""
    limits_of(request).portal.check(ip=client_ip(request), user_id=None)
    with db.write() as session:
        ticket = portal.ticket_of_token(session, settings.resolved_secret_key, token, lock=True)
        actor = platform_user(ticket.user_id, ip=client_ip(request))
        row = service.answer(session, ticket, csat=body.csat, nps=body.nps, comment=body.comment, actor=actor)
        out = SurveyOut(number=ticket.number, csat=row.csat, nps=row.nps, second_handling=row.low)
    return json_model(out, status_code=201)


def require_figures_reader(actor: Staff) -> None:
    if not (access.has(actor, Permission.TEAM_MANAGE) or access.has(actor, Permission.QA_SCORE)):
        raise Forbidden("satisfaction figures are for supervisors, QA and admins")


@router.get("/reports/satisfaction", response_model=FiguresList)
def satisfaction(
    db: DB,
    actor: Staff,
    by: Annotated[By, Query()] = "agent",
    since: Annotated[datetime | None, Query()] = None,
    until: Annotated[datetime | None, Query()] = None,
) -> Response:
    """CSAT and NPS per agent, team, category or channel (answers given in [since, until))."""
    require_figures_reader(actor)
    with db.read() as session:
        rows = service.figures(session, by=by, since=since, until=until)
    return json_model(FiguresList(by=by, items=[figures_out(r) for r in rows]))
