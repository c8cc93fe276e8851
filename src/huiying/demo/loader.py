"""`huiying demo`: teams, agents and a few hundred tickets spread over the last four weeks.

Everything goes through the service layer with the clock set back, so the timeline of every
demo ticket looks as if people had worked on it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huiying.accounts import service as accounts
from huiying.accounts.models import User
from huiying.bootstrap import ensure_defaults
from huiying.config import Settings
from huiying.demo import samples
from huiying.kit.actor import SYSTEM, platform_user
from huiying.kit.clock import frozen, utcnow
from huiying.kit.roles import Role
from huiying.tickets import intake, service
from huiying.tickets.enums import Channel, Priority, Status
from huiying.tickets.intake_policy import IntakeCaller
from huiying.tickets.models import Ticket
from huiying.tickets.schemas import DeviceIn, FeedbackIn, LinksIn

DEMO_PASSWORD = "huiying-demo-2026"
TICKETS = 300

STAFF = [
    ("li.na@huiying.local", "李娜", Role.AGENT, ["tech-support", "tech-client"]),
    ("wang.lei@huiying.local", "王磊", Role.AGENT, ["tech-support", "tech-network"]),
    ("zhao.min@huiying.local", "赵敏", Role.SENIOR, ["tech-support", "tech-server"]),
    ("chen.jing@huiying.local", "陈静", Role.AGENT, ["content-review"]),
    ("sun.tao@huiying.local", "孙涛", Role.AGENT, ["merchant"]),
    ("zhou.fang@huiying.local", "周芳", Role.AGENT, ["finance"]),
    ("guo.jie@huiying.local", "郭杰", Role.SENIOR, ["security"]),
    ("he.yan@huiying.local", "何艳", Role.AGENT, ["general"]),
    (
        "lin.chao@huiying.local",
        "林超",
        Role.SUPERVISOR,
        ["tech-support", "content-review", "general"],
    ),
    ("qa.xu@huiying.local", "徐质检", Role.QA, []),
    ("audit.ma@huiying.local", "马审计", Role.AUDITOR, []),
]

CATEGORY_TEAM = {
    "technical": "tech-support",
    "content": "content-review",
    "commercial": "merchant",
    "suggestion": "general",
    "other": "general",
}
SUBCATEGORY_TEAM = {
    "account-security": "security",
    "privacy-leak": "security",
    "illegal-content": "security",
    "refund": "finance",
    "recharge": "finance",
}


def is_empty(session: Session) -> bool:
    return session.scalar(select(func.count()).select_from(Ticket)) == 0


def _ensure_staff(session: Session) -> dict[str, list[User]]:
    by_team: dict[str, list[User]] = {}
    for email, name, role, teams in STAFF:
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            user = accounts.create_user(
                session,
                email=email,
                password=DEMO_PASSWORD,
                role=role,
                display_name=name,
                team_slugs=teams,
            )
        for team in teams:
            by_team.setdefault(team, []).append(user)
    return by_team


def _feedback(rng: random.Random, sample: samples.Sample, index: int) -> FeedbackIn:
    os_name, model = rng.choice(samples.DEVICES)
    english = sample.description.isascii()
    name = rng.choice(samples.SURNAMES) + rng.choice(samples.GIVEN)
    contact = rng.choice([f"1{rng.choice('3589')}{rng.randrange(10**8, 10**9)}", f"user{index}@example.com", None])
    links = None
    if sample.category == "commercial" or sample.subcategory == "payment-failure":
        links = LinksIn(order_no=f"DD{rng.randrange(10**11, 10**12)}")
    elif sample.subcategory in ("stream-lag", "host-behavior", "violation-report"):
        links = LinksIn(room_id=str(rng.randrange(100000, 999999)))
    return FeedbackIn(
        channel=rng.choice([Channel.APP, Channel.APP, Channel.APP, Channel.WEB, Channel.EMAIL, Channel.HOTLINE]),
        title=sample.title,
        description=sample.description,
        user_id=f"u{rng.randrange(10**7, 10**8)}",
        user_name=None if english else name,
        contact=contact,
        category=sample.category,
        subcategory=sample.subcategory or None,
        priority=Priority(sample.priority),
        device=DeviceIn(os=os_name, model=model),
        app_version=rng.choice(samples.APP_VERSIONS),
        city=rng.choice(samples.CITIES),
        links=links,
        vip=rng.random() < 0.1,
    )


def load(session: Session, *, settings: Settings, tickets: int = TICKETS, seed: int = 2026) -> str:
    """Add the demo data set; returns a one-line summary."""
    rng = random.Random(seed)
    ensure_defaults(session)
    staff_by_team = _ensure_staff(session)
    now = utcnow()
    statuses: dict[str, int] = {}
    for index in range(tickets):
        sample = rng.choice(samples.SAMPLES)
        created = now - timedelta(minutes=rng.randrange(10, 28 * 24 * 60))
        with frozen(created):
            ticket = intake.receive(
                session, _feedback(rng, sample, index), caller=IntakeCaller.system(), settings=settings, limit=None
            ).ticket
        _work_on(session, rng, ticket, sample, staff_by_team, _Story(created, now), settings)
        statuses[ticket.status] = statuses.get(ticket.status, 0) + 1
    session.flush()
    counts = ", ".join(f"{status}={n}" for status, n in sorted(statuses.items()))
    return f"tickets={tickets} ({counts}), staff={len(STAFF)}"


class _Story:
    """Moves a ticket's clock forward step by step, never past the present."""

    def __init__(self, start: datetime, now: datetime) -> None:
        self.moment = start
        self.now = now

    def advance(self, minutes: int) -> datetime | None:
        self.moment += timedelta(minutes=minutes)
        return self.moment if self.moment < self.now else None


def _work_on(
    session: Session,
    rng: random.Random,
    ticket: Ticket,
    sample: samples.Sample,
    staff_by_team: dict[str, list[User]],
    story: _Story,
    settings: Settings,
) -> None:
    """Play a plausible history forward: routing, replies, notes, a final status."""
    team_slug = SUBCATEGORY_TEAM.get(sample.subcategory, CATEGORY_TEAM[sample.category])
    team = accounts.team_by_slug(session, team_slug)
    agent = rng.choice(staff_by_team.get(team_slug) or staff_by_team["general"])
    actor = accounts.actor_for(session, agent)
    replies = (samples.REPLIES_EN if sample.description.isascii() else samples.REPLIES_ZH)[sample.category]
    fate = rng.random()
    steps: list[tuple[float, int, Callable[[], object]]] = [
        (
            0.15,
            90,
            lambda: service.assign(session, ticket, team=team, assignee=agent, actor=SYSTEM),
        ),
        (
            0.30,
            240,
            lambda: service.add_reply(
                session,
                ticket,
                body=rng.choice(replies),
                internal=False,
                actor=actor,
                settings=settings,
            ),
        ),
        (
            0.45,
            120,
            lambda: service.add_reply(
                session,
                ticket,
                body=rng.choice(samples.NOTES),
                internal=True,
                actor=actor,
                settings=settings,
            ),
        ),
    ]
    if fate < 0.55:
        steps.append(
            (
                0.45,
                600,
                lambda: service.change_status(session, ticket, status=Status.PENDING, actor=actor),
            )
        )
    else:
        steps.append(
            (
                0.55,
                2000,
                lambda: service.change_status(session, ticket, status=Status.RESOLVED, actor=actor),
            )
        )
        if fate < 0.75:
            user = platform_user(ticket.user_id)
            steps.append(
                (
                    0.70,
                    1440,
                    lambda: service.change_status(session, ticket, status=Status.OPEN, actor=user),
                )
            )
        else:
            steps.append(
                (
                    0.75,
                    4320,
                    lambda: service.change_status(session, ticket, status=Status.CLOSED, actor=SYSTEM),
                )
            )
    for threshold, max_minutes, action in steps:
        moment = story.advance(rng.randrange(3, max_minutes))
        if fate < threshold or moment is None:
            return
        with frozen(moment):
            action()
