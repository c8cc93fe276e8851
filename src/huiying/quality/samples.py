"""The weekly QA sample (质检抽样): for each agent, a seeded draw of the tickets they resolved in
an ISO week, each given to a QA person who did not work on it.

Safe to run again: an agent who has rows for the week gets nothing new, so the hourly job, the
API and the CLI may all ask for the same week. The draw is `sampling.draw` over the agent's
handled tickets with the seed sha256("week:agent"), kept on each row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from huiying import jobs
from huiying.accounts import access
from huiying.accounts.models import User
from huiying.db import Database
from huiying.errors import InvalidInput
from huiying.kit.actor import SYSTEM, Actor
from huiying.kit.clock import utcnow
from huiying.kit.roles import Role
from huiying.kit.sql import dialect_insert
from huiying.quality import sampling
from huiying.quality.models import QAReview, QASample
from huiying.tickets import history
from huiying.tickets.enums import Status
from huiying.tickets.models import Message, Ticket

JOB = "qa_sample"
# Hourly, not weekly: the first run of a week samples the week before, whenever in the week the
# scheduler started; the runs after it find every agent done and write nothing.
EVERY = timedelta(hours=1)
HANDLED = (Status.RESOLVED.value, Status.CLOSED.value)
DEFAULT_PER_AGENT = 5

_per_agent = DEFAULT_PER_AGENT
_tz: tzinfo = ZoneInfo("Asia/Shanghai")


def configure(*, per_agent: int, timezone: str) -> None:
    """How many tickets per agent and week (HUIYING_QA_SAMPLE_PER_AGENT), and the zone weeks are in."""
    global _per_agent, _tz
    _per_agent = per_agent
    _tz = ZoneInfo(timezone)


def local_zone() -> tzinfo:
    """The platform's zone: a week runs from its Monday 00:00 to the next."""
    return _tz


def check_week(week: str) -> str:
    """The week as given, or InvalidInput (422) saying what a week looks like."""
    try:
        sampling.monday_of(week)
    except ValueError as exc:
        raise InvalidInput(str(exc), code="invalid_week", details={"field": "week"}) from None
    return week.strip()


def default_week() -> str:
    """What an on-demand run samples without a week: the last full week."""
    return sampling.previous_week(utcnow(), _tz)


def workers_of(session: Session, ticket_ids: Collection[int]) -> dict[int, set[int]]:
    """Who worked on each ticket: its assignee and every staff member who wrote a reply or note."""
    workers: dict[int, set[int]] = defaultdict(set)
    if not ticket_ids:
        return workers
    ids = list(ticket_ids)
    for ticket_id, assignee_id in session.execute(select(Ticket.id, Ticket.assignee_id).where(Ticket.id.in_(ids))):
        if assignee_id is not None:
            workers[ticket_id].add(assignee_id)
    authors = select(Message.ticket_id, Message.author_id).where(
        Message.ticket_id.in_(ids), Message.author_id.is_not(None)
    )
    for ticket_id, author_id in session.execute(authors.distinct()):
        if author_id is not None:
            workers[ticket_id].add(author_id)
    return workers


def qa_people(session: Session) -> list[int]:
    """The active QA-role staff, by id (the order of the round-robin)."""
    query = select(User.id).where(User.role == Role.QA.value, User.active.is_(True)).order_by(User.id)
    return list(session.scalars(query))


@dataclass(frozen=True)
class SampleRun:
    """What one run drew: the new rows (none when the week was sampled already)."""

    week: str
    created: list[QASample]
    agents: int  # agents with handled tickets in the week


def sample_week(session: Session, *, week: str, actor: Actor, per_agent: int | None = None) -> SampleRun:
    """Draw the week's sample for every agent who has none yet, and give each ticket to a QA
    person in turn; every drawn ticket's timeline says so."""
    week = check_week(week)
    size = _per_agent if per_agent is None else per_agent
    start, end = sampling.bounds(week, _tz)
    handled = select(Ticket.assignee_id, Ticket.id).where(
        Ticket.assignee_id.is_not(None),
        Ticket.status.in_(HANDLED),
        Ticket.resolved_at >= start,
        Ticket.resolved_at < end,
    )
    candidates: dict[int, list[int]] = defaultdict(list)
    for agent_id, ticket_id in session.execute(handled):
        if agent_id is not None:
            candidates[agent_id].append(ticket_id)
    done = set(session.scalars(select(QASample.agent_id).where(QASample.week == week).distinct()))
    drawn: list[tuple[int, int, str]] = []  # agent, ticket, seed
    for agent_id in sorted(set(candidates) - done):
        seed = sampling.seed_for(week, agent_id)
        picked = sampling.draw(candidates[agent_id], size=size, seed=seed)
        drawn.extend((agent_id, ticket_id, seed) for ticket_id in picked)
    if not drawn:
        return SampleRun(week=week, created=[], agents=len(candidates))
    workers = workers_of(session, [ticket_id for _, ticket_id, _ in drawn])
    # The rotation goes on from where this week's earlier runs left it.
    turn = session.scalar(select(func.count()).select_from(QASample).where(QASample.week == week)) or 0
    handout = sampling.hand_out(
        [workers.get(ticket_id, set()) | {agent_id} for agent_id, ticket_id, _ in drawn],
        qa_people=qa_people(session),
        turn=turn,
    )
    now = utcnow()
    created: list[QASample] = []
    for (agent_id, ticket_id, seed), reviewer_id in zip(drawn, handout.reviewers, strict=True):
        row = {
            "week": week,
            "agent_id": agent_id,
            "ticket_id": ticket_id,
            "reviewer_id": reviewer_id,
            "seed": seed,
            "created_at": now,
        }
        # A concurrent run of the same week inserts the same rows: the second one skips them.
        inserted = session.scalar(
            dialect_insert(session, QASample)
            .values(row)
            .on_conflict_do_nothing(index_elements=["week", "ticket_id"])
            .returning(QASample.id)
        )
        if inserted is None:
            continue
        sample = session.get_one(QASample, inserted)
        created.append(sample)
        ticket = session.get_one(Ticket, ticket_id)
        reviewer = session.get(User, reviewer_id) if reviewer_id is not None else None
        history.record(
            session,
            ticket=ticket,
            actor=actor,
            action="qa_sampled",
            data={"week": week, "sample": sample.id, "reviewer": reviewer.email if reviewer else None},
        )
    return SampleRun(week=week, created=created, agents=len(candidates))


def mark_scored(session: Session, ticket: Ticket, review: QAReview) -> None:
    """A review of a sampled ticket completes its open samples."""
    for sample in session.scalars(
        select(QASample).where(QASample.ticket_id == ticket.id, QASample.review_id.is_(None))
    ):
        sample.review_id = review.id
    session.flush()


# --- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleRow:
    """One line of the sample list."""

    id: int
    week: str
    ticket: str
    title: str
    status: str
    channel: str
    agent: str
    agent_name: str
    reviewer: str | None
    reviewer_name: str | None
    scored: bool
    score: int | None


def list_samples(
    session: Session, *, weeks: Collection[str], actor: Actor | None, mine: bool = False
) -> list[SampleRow]:
    """The samples of `weeks` whose tickets `actor` sees (None: all), newest week first,
    unscored first; `mine`: only those given to the actor."""
    agent, reviewer = aliased(User), aliased(User)
    query = (
        select(QASample, Ticket, agent, reviewer, QAReview.score)
        .join(Ticket, Ticket.id == QASample.ticket_id)
        .join(agent, agent.id == QASample.agent_id)
        .outerjoin(reviewer, reviewer.id == QASample.reviewer_id)
        .outerjoin(QAReview, QAReview.id == QASample.review_id)
        .where(QASample.week.in_(list(weeks)))
    )
    if mine and actor is not None:
        query = query.where(QASample.reviewer_id == actor.staff_id)
    teams = access.visible_team_ids(actor) if actor is not None else None
    if teams is not None:
        query = query.where(or_(Ticket.team_id.is_(None), Ticket.team_id.in_(teams)))
    query = query.order_by(QASample.week.desc(), QASample.review_id.is_not(None), QASample.id)
    return [
        SampleRow(
            id=sample.id,
            week=sample.week,
            ticket=ticket.number,
            title=ticket.title,
            status=ticket.status,
            channel=ticket.channel,
            agent=agent_row.email,
            agent_name=agent_row.display_name,
            reviewer=reviewer_row.email if reviewer_row else None,
            reviewer_name=reviewer_row.display_name if reviewer_row else None,
            scored=sample.review_id is not None,
            score=score,
        )
        for sample, ticket, agent_row, reviewer_row, score in session.execute(query)
    ]


def recent_weeks() -> list[str]:
    """This week and the last: the QA queue's span."""
    return sampling.weeks_back(utcnow(), _tz, 2)


# --- the job -----------------------------------------------------------------------------------


def sample_job(db: Database) -> None:
    """Periodic: sample last week (nothing new once it is sampled)."""
    with db.write() as session:
        sample_week(session, week=default_week(), actor=SYSTEM)


def register_jobs() -> None:
    jobs.register_periodic(JOB, sample_job, every=EVERY)
