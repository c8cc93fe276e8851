"""The satisfaction survey: answered once per ticket after its resolution, by the signed link
(the portal page the resolution message opens). A low answer — 一般 or 不满意, or an NPS of 6 or
less (a detractor) — reopens the ticket for a second handling by the team's supervisor, with the
user's comment on the timeline.

One answer per ticket: a second is refused (409 `survey_answered`). A ticket reopened by a low
score keeps that first answer; what the second handling achieved shows in its timeline and in QA,
not in a second score that would let a bad first experience be written over.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from huiying.accounts.models import Team, User
from huiying.errors import Conflict, InvalidInput
from huiying.kit.actor import SYSTEM, Actor
from huiying.kit.clock import utcnow
from huiying.kit.roles import Role
from huiying.sla import escalation
from huiying.surveys.models import CSAT_VALUES, SurveyResponse
from huiying.tickets import service as tickets
from huiying.tickets.enums import Status
from huiying.tickets.models import Ticket

COMMENT_CHARS = 2000
LOW_CSAT = frozenset({"neutral", "dissatisfied"})
SATISFIED = frozenset({"very_satisfied", "satisfied"})
DETRACTOR_MAX = 6  # NPS: 0–6 detractors, 7–8 passives, 9–10 promoters
PROMOTER_MIN = 9
# The four answers as the user reads them; the score a mean is taken of (4 best).
LABELS = {
    "very_satisfied": ("非常满意", "Very satisfied"),
    "satisfied": ("满意", "Satisfied"),
    "neutral": ("一般", "Neutral"),
    "dissatisfied": ("不满意", "Dissatisfied"),
}
POINTS = {"very_satisfied": 4, "satisfied": 3, "neutral": 2, "dissatisfied": 1}
SECOND_HANDLING_TAG = "second_handling"

By = Literal["agent", "team", "category", "channel"]
BY_VALUES: tuple[By, ...] = ("agent", "team", "category", "channel")


def is_open(ticket: Ticket) -> bool:
    """Whether the ticket's survey may be answered now."""
    return ticket.status in (Status.RESOLVED, Status.CLOSED) and ticket.csat is None


def is_low(csat: str, nps: int | None) -> bool:
    return csat in LOW_CSAT or (nps is not None and nps <= DETRACTOR_MAX)


def answer(
    session: Session, ticket: Ticket, *, csat: str, nps: int | None, comment: str | None, actor: Actor
) -> SurveyResponse:
    """Record the user's answer (the ticket locked by the caller); a low one starts the second handling."""
    if csat not in CSAT_VALUES:
        raise InvalidInput(f"csat must be one of {', '.join(CSAT_VALUES)}", code="invalid_csat")
    if nps is not None and not 0 <= nps <= 10:
        raise InvalidInput("nps must be 0 to 10", code="invalid_nps")
    if ticket.csat is not None:
        raise Conflict("this ticket's survey was answered already", code="survey_answered")
    if ticket.status not in (Status.RESOLVED, Status.CLOSED):
        raise Conflict("the survey opens once the ticket is resolved", code="survey_not_open")
    text = (comment or "").strip()[:COMMENT_CHARS] or None
    low = is_low(csat, nps)
    row = SurveyResponse(
        ticket_id=ticket.id,
        csat=csat,
        nps=nps,
        comment=text,
        low=low,
        agent_id=ticket.assignee_id,
        team_id=ticket.team_id,
        category=ticket.category,
        channel=ticket.channel,
        created_at=utcnow(),
    )
    session.add(row)
    ticket.csat, ticket.nps = csat, nps
    session.flush()
    data = {"csat": csat, "nps": nps, "comment": text, "low": low}
    tickets.note_event(session, ticket, action="survey_answered", data=data, actor=actor)
    if low:
        _second_handling(session, ticket, csat=csat, nps=nps, comment=text, actor=actor)
    return row


def _second_handling(
    session: Session, ticket: Ticket, *, csat: str, nps: int | None, comment: str | None, actor: Actor
) -> None:
    """Back to open, with the team's supervisor as its assignee (the team's pool when it has none)."""
    zh, en = LABELS[csat]
    said = f"满意度回访：{zh}" + (f"，NPS {nps}" if nps is not None else "") + (f"。{comment}" if comment else "")
    tickets.change_status(session, ticket, status=Status.OPEN, actor=actor, note=f"{said} / {en}")
    supervisors = escalation.members(session, ticket.team_id, Role.SUPERVISOR)
    if supervisors and ticket.team is not None:
        tickets.assign(session, ticket, team=ticket.team, assignee=supervisors[0], actor=SYSTEM)
    tickets.add_tags(session, ticket, tags=[SECOND_HANDLING_TAG], actor=SYSTEM)
    data = {"supervisor": supervisors[0].email if supervisors else None}
    tickets.note_event(session, ticket, action="survey_second_handling", data=data, actor=SYSTEM)


# --- the figures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """One group's answers: CSAT as the share satisfied or very satisfied, the mean of 1–4, and
    NPS as promoters minus detractors in points of the answers that gave one."""

    key: str
    responses: int
    satisfied: int
    points: int
    nps_responses: int
    promoters: int
    detractors: int

    @property
    def csat_share(self) -> float | None:
        return self.satisfied / self.responses if self.responses else None

    @property
    def mean(self) -> float | None:
        return self.points / self.responses if self.responses else None

    @property
    def nps(self) -> float | None:
        if not self.nps_responses:
            return None
        return 100.0 * (self.promoters - self.detractors) / self.nps_responses


def figures(session: Session, *, by: By, since: datetime | None = None, until: datetime | None = None) -> list[Figures]:
    """CSAT and NPS per agent (email), team (slug), category or channel, most answers first."""
    key: Any = {
        "agent": func.coalesce(User.email, "—"),
        "team": func.coalesce(Team.slug, "—"),
        "category": func.coalesce(SurveyResponse.category, "—"),
        "channel": SurveyResponse.channel,
    }[by]
    points = func.sum(case(*((SurveyResponse.csat == value, score) for value, score in POINTS.items()), else_=0))
    statement = (
        select(
            key.label("key"),
            func.count().label("responses"),
            func.sum(case((SurveyResponse.csat.in_(SATISFIED), 1), else_=0)).label("satisfied"),
            points.label("points"),
            func.count(SurveyResponse.nps).label("nps_responses"),
            func.sum(case((SurveyResponse.nps >= PROMOTER_MIN, 1), else_=0)).label("promoters"),
            func.sum(case((SurveyResponse.nps <= DETRACTOR_MAX, 1), else_=0)).label("detractors"),
        )
        .select_from(SurveyResponse)
        .outerjoin(User, User.id == SurveyResponse.agent_id)
        .outerjoin(Team, Team.id == SurveyResponse.team_id)
        .group_by(key)
        .order_by(func.count().desc(), key)
    )
    if since is not None:
        statement = statement.where(SurveyResponse.created_at >= since)
    if until is not None:
        statement = statement.where(SurveyResponse.created_at < until)
    return [
        Figures(
            key=str(row.key),
            responses=int(row.responses),
            satisfied=int(row.satisfied or 0),
            points=int(row.points or 0),
            nps_responses=int(row.nps_responses),
            promoters=int(row.promoters or 0),
            detractors=int(row.detractors or 0),
        )
        for row in session.execute(statement)
    ]


def all_figures(
    session: Session, *, since: datetime | None = None, until: datetime | None = None
) -> dict[By, Sequence[Figures]]:
    return {by: figures(session, by=by, since=since, until=until) for by in BY_VALUES}
