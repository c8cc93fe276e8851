"""Assignment at intake, under concurrent intake, accept, the lapse back to the pool, and the
endpoints that set availability, skills and a team's mode."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from conftest import PASSWORD, login
from helpers import feedback
from huiying import events
from huiying.accounts import service as accounts
from huiying.accounts import teams
from huiying.accounts.models import User
from huiying.assignment import service as assignment
from huiying.audit.models import AuditEntry
from huiying.config import Settings
from huiying.db import Database
from huiying.jobs.models import OutboxJob
from huiying.kit.actor import SYSTEM
from huiying.kit.clock import utcnow
from huiying.kit.roles import Role
from huiying.tickets import intake
from huiying.tickets.models import Ticket, TicketEvent
from huiying.tickets.schemas import FeedbackIn

TEAM = "tech-support"
AGENTS = ["a1@example.com", "a2@example.com", "a3@example.com"]


def _route_to_team(session: Session, event: events.Event) -> None:
    """Stands in for routing: every new ticket goes to TEAM, whatever the routing rules say."""
    assert isinstance(event, events.TicketCreated)
    ticket = intake.being_created(session, event.ticket_id)
    if ticket is not None:
        ticket.team = teams.active_team(session, TEAM)


@pytest.fixture
def routed() -> Iterator[None]:
    # Routing must run before assignment, as in wiring: re-subscribe assignment after it.
    events.unsubscribe(assignment._on_created)
    events.subscribe_in_transaction(events.TicketCreated, _route_to_team)
    events.subscribe_in_transaction(events.TicketCreated, assignment._on_created)
    yield
    events.unsubscribe(_route_to_team)


def _team_mode(db: Database, mode: str, **more: int | None) -> None:
    with db.write() as session:
        team = teams.team_by_slug(session, TEAM)
        assignment.configure_team(session, team, changes={"assignment_mode": mode, **more}, actor=SYSTEM)


def _agents(db: Database, emails: list[str] = AGENTS) -> dict[str, int]:
    with db.write() as session:
        users = [
            accounts.create_user(session, email=email, password=PASSWORD, role=Role.AGENT, team_slugs=[TEAM])
            for email in emails
        ]
        session.flush()
        return {u.email: u.id for u in users}


def _create(db: Database, settings: Settings, **overrides: object) -> str:
    with db.write() as session:
        body = FeedbackIn.model_validate(feedback(**overrides))
        return intake.create_ticket(session, feedback=body, actor=SYSTEM, settings=settings).ticket.number


def _assignees(db: Database) -> list[str | None]:
    with db.read() as session:
        tickets = session.scalars(select(Ticket).order_by(Ticket.id))
        return [t.assignee.email if t.assignee else None for t in tickets]


def test_round_robin_goes_round_and_skips_the_away(db: Database, settings: Settings, routed: None) -> None:
    ids = _agents(db)
    _team_mode(db, "round_robin")
    for _ in range(3):
        _create(db, settings)
    with db.write() as session:
        assignment.set_availability(
            session, session.get(User, ids["a2@example.com"]), availability="away", actor=SYSTEM
        )
    for _ in range(2):
        _create(db, settings)
    assert _assignees(db) == [*AGENTS, "a1@example.com", "a3@example.com"]
    with db.read() as session:
        ticket = session.scalars(select(Ticket).order_by(Ticket.id)).first()
        assert ticket is not None and ticket.assigned_at is not None and ticket.accepted_at is None
        actions = [e.action for e in session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id))]
        assert "assigned_round_robin" in actions


def test_manual_team_assigns_nobody_and_the_cap_holds(db: Database, settings: Settings, routed: None) -> None:
    _agents(db, AGENTS[:1])
    _create(db, settings)
    assert _assignees(db) == [None]  # manual: the default
    _team_mode(db, "least_loaded", max_open_per_agent=1)
    _create(db, settings)
    _create(db, settings)
    assert _assignees(db) == [None, "a1@example.com", None]  # the third would pass the cap
    with db.read() as session:
        last = session.scalars(select(Ticket).order_by(Ticket.id.desc())).first()
        assert last is not None
        actions = [e.action for e in session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == last.id))]
        assert "assignment_nobody_available" in actions


def test_skill_falls_back_to_least_loaded_and_says_so(db: Database, settings: Settings, routed: None) -> None:
    ids = _agents(db, AGENTS[:2])
    _team_mode(db, "skill")
    with db.write() as session:
        assignment.set_skills(
            session, session.get(User, ids["a2@example.com"]), skills=["payment-failure"], actor=SYSTEM
        )
    _create(db, settings)  # sub-category payment-failure (language unset): a2 has the skill
    _create(db, settings, subcategory="crash")  # nobody knows crashes: least loaded, a1
    assert _assignees(db) == ["a2@example.com", "a1@example.com"]
    with db.read() as session:
        actions = [e.action for e in session.scalars(select(TicketEvent))]
        assert "assigned_skill" in actions and "assigned_skill_fallback" in actions


def test_round_robin_under_concurrent_intake(db: Database, settings: Settings, routed: None, backend: str) -> None:
    """30 creates from 6 threads, 3 agents: exactly 10 each — nobody skipped or doubled."""
    if backend != "postgresql":
        pytest.skip("SQLite has one writer: nothing runs concurrently to test")
    _agents(db)
    _team_mode(db, "round_robin")
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda _: _create(db, settings), range(30)))
    assert Counter(_assignees(db)) == {email: 10 for email in AGENTS}


def test_accept_only_by_the_assignee_idempotent(
    app_client: TestClient, db: Database, settings: Settings, routed: None
) -> None:
    _team_mode(db, "round_robin")
    mine = login(app_client, db, email="a1@example.com", role=Role.AGENT, teams=[TEAM])
    other = login(app_client, db, email="other@example.com", role=Role.SUPERVISOR, teams=[TEAM])
    number = _create(db, settings)
    assert _assignees(db) == ["a1@example.com"]  # supervisors are not in the pool
    refused = app_client.post(f"/api/v1/tickets/{number}/accept", headers=other.headers)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_assignee"
    first = app_client.post(f"/api/v1/tickets/{number}/accept", headers=mine.headers)
    assert first.status_code == 200, first.text
    again = app_client.post(f"/api/v1/tickets/{number}/accept", headers=mine.headers)
    assert again.status_code == 200
    with db.read() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.accepted_at is not None
        accepted = session.scalars(select(TicketEvent).where(TicketEvent.action == "accepted")).all()
        assert len(accepted) == 1


def test_unaccepted_work_goes_back_to_the_pool(db: Database, settings: Settings, routed: None) -> None:
    _agents(db, AGENTS[:2])
    _team_mode(db, "round_robin", accept_within_minutes=15)
    _create(db, settings)
    assert _assignees(db) == ["a1@example.com"]
    with db.read() as session:
        assert assignment.lapsed(session, now=utcnow()) == []
    with db.write() as session:
        session.execute(update(Ticket).values(assigned_at=utcnow() - timedelta(minutes=16)))
    with db.read() as session:
        due = assignment.lapsed(session, now=utcnow())
    assert len(due) == 1
    for _ in range(2):  # a second run (a repeated job) changes nothing more
        with db.write() as session:
            returned = assignment.return_unaccepted(
                session, ticket_id=due[0][0], assignee_id=due[0][1], assigned_at=due[0][2]
            )
        assert returned is (_ == 0)
    assert _assignees(db) == ["a2@example.com"]
    with db.read() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert "returned_to_pool" in ticket.tags and ticket.accepted_at is None
        alerts = [j.payload for j in session.scalars(select(OutboxJob).where(OutboxJob.job == "staff_alert"))]
        assert [a["kind"] for a in alerts] == ["unaccepted"]
        assert alerts[0]["ticket_id"] == ticket.id


def test_availability_skills_and_team_settings_over_http(app_client: TestClient, db: Database, admin: object) -> None:
    me = login(app_client, db, email="a1@example.com", role=Role.AGENT, teams=[TEAM])
    boss = login(app_client, db, email="boss@example.com", role=Role.SUPERVISOR, teams=[TEAM])
    outsider = login(app_client, db, email="out@example.com", role=Role.SUPERVISOR, teams=["finance"])
    answer = app_client.put("/api/v1/me/availability", json={"availability": "away"}, headers=me.headers)
    assert answer.status_code == 200 and answer.json()["availability"] == "away"
    bad = app_client.put("/api/v1/me/availability", json={"availability": "asleep"}, headers=me.headers)
    assert bad.status_code == 422
    url = "/api/v1/staff/a1@example.com/availability"
    assert app_client.put(url, json={"availability": "available"}, headers=me.headers).status_code == 403
    assert app_client.put(url, json={"availability": "available"}, headers=outsider.headers).status_code == 403
    assert (
        app_client.put(url, json={"availability": "off_shift"}, headers=boss.headers).json()["availability"]
        == "off_shift"
    )
    skills = app_client.put(
        "/api/v1/staff/a1@example.com/skills", json={"skills": ["EN", "crash", "en"]}, headers=boss.headers
    )
    assert skills.json()["skills"] == ["crash", "en"]
    team = app_client.patch(
        f"/api/v1/teams/{TEAM}",
        json={"assignment_mode": "round_robin", "max_open_per_agent": 5, "accept_within_minutes": 10},
        headers=admin.headers,  # type: ignore[attr-defined]
    )
    assert team.status_code == 200, team.text
    assert (team.json()["assignment_mode"], team.json()["max_open_per_agent"]) == ("round_robin", 5)
    wrong = app_client.patch(f"/api/v1/teams/{TEAM}", json={"assignment_mode": "lottery"}, headers=admin.headers)  # type: ignore[attr-defined]
    assert wrong.status_code == 422
    with db.read() as session:
        actions = {e.action for e in session.scalars(select(AuditEntry))}
        assert {"staff.availability_changed", "staff.skills_changed", "team.assignment_changed"} <= actions
