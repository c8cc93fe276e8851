"""QA scores per agent and ISO week: how many reviews, the mean score and the mean of each
criterion (over the reviews that gave it). This is the QA part of an agent's performance.

A review counts in the week its ticket was sampled for (the week the work was done); a review
of a ticket outside any sample counts in the week it was made. Weeks are the platform's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from huiying.accounts.models import User
from huiying.quality import samples, sampling
from huiying.quality.models import CRITERIA, QAReview, QASample

MAX_WEEKS = 104


@dataclass
class _Sums:
    reviews: int = 0
    score: int = 0
    items: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))


@dataclass(frozen=True)
class AgentWeek:
    """One agent's QA figures in one week (`week` None: over the whole span asked for)."""

    agent: str  # email; "—" for reviews of unassigned tickets
    agent_name: str
    week: str | None
    reviews: int
    score: float
    criteria: dict[str, float | None]


def _figures(agent: str, name: str, week: str | None, total: _Sums) -> AgentWeek:
    return AgentWeek(
        agent=agent,
        agent_name=name,
        week=week,
        reviews=total.reviews,
        score=round(total.score / total.reviews, 1),
        criteria={
            item: round(sum(total.items[item]) / len(total.items[item]), 2) if total.items[item] else None
            for item in CRITERIA
        },
    )


def _add(total: _Sums, review: QAReview) -> None:
    total.reviews += 1
    total.score += review.score
    for item in CRITERIA:
        value = getattr(review, item)
        if value is not None:
            total.items[item].append(value)


def agent_weeks(session: Session, *, weeks: list[str]) -> tuple[list[AgentWeek], list[AgentWeek]]:
    """The figures of `weeks` (ISO weeks, oldest first): per agent and week (by agent, then
    week), and per agent over all of them (by agent)."""
    if not weeks:
        return [], []
    tz = samples.local_zone()
    start, _ = sampling.bounds(weeks[0], tz)
    wanted = set(weeks)
    agent = aliased(User)
    # One review completes every open sample of its ticket; the earliest week is its week.
    query = (
        select(QAReview, agent, QASample.week)
        .outerjoin(agent, agent.id == QAReview.agent_id)
        .outerjoin(QASample, QASample.review_id == QAReview.id)
        .where(QAReview.created_at >= start)  # a review comes after the week it is counted in
        .order_by(QAReview.id, QASample.week)
    )
    per_week: dict[tuple[str, str], _Sums] = defaultdict(_Sums)
    per_agent: dict[str, _Sums] = defaultdict(_Sums)
    names: dict[str, str] = {}
    seen: set[int] = set()
    for review, agent_row, sample_week in session.execute(query):
        if review.id in seen:
            continue
        seen.add(review.id)
        week = sample_week or sampling.week_of(review.created_at, tz)
        if week not in wanted:
            continue
        key = agent_row.email if agent_row else "—"
        names[key] = agent_row.display_name if agent_row else "—"
        _add(per_week[(key, week)], review)
        _add(per_agent[key], review)
    order = {week: index for index, week in enumerate(weeks)}
    weekly = [
        _figures(key, names[key], week, total)
        for (key, week), total in sorted(per_week.items(), key=lambda item: (item[0][0], order[item[0][1]]))
    ]
    overall = [_figures(key, names[key], None, total) for key, total in sorted(per_agent.items())]
    return weekly, overall
