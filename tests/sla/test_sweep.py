"""The SLA sweep: which rows each kind finds, claim-once under two concurrent sweeps, the jobs'
warnings and breach escalations, and `huiying sla sweep --now`."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from conftest import PASSWORD, StaffLogin
from helpers import submit
from huiying import wiring
from huiying.accounts import service as accounts
from huiying.config import Settings, get_settings
from huiying.db import Database
from huiying.jobs.models import OutboxJob
from huiying.kit.clock import frozen
from huiying.kit.roles import Role
from huiying.sla import escalation, sweep
from huiying.tickets.models import Ticket, TicketEvent

NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


@pytest.fixture(autouse=True)
def _wired(settings: Settings) -> None:
    wiring.configure(settings)


def _ticket(client: TestClient, db: Database, **fields: Any) -> int:
    number = submit(client)["number"]
    with db.write() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
        for name, value in fields.items():
            setattr(ticket, name, value)
        session.flush()
        return ticket.id


# (row fields, kinds the sweep finds at NOW)
CASES: list[tuple[dict[str, Any], set[str]]] = [
    ({"first_response_due": NOW + 10 * MIN}, {"response_warning"}),
    ({"first_response_due": NOW + 40 * MIN}, set()),
    ({"first_response_due": NOW - MIN}, {"response_breach"}),
    ({"first_response_due": NOW - MIN, "first_responded_at": NOW - 2 * MIN}, set()),
    ({"first_response_due": NOW + 10 * MIN, "response_warned_at": NOW - MIN}, set()),
    ({"first_response_due": NOW - MIN, "response_breached_at": NOW - MIN}, set()),
    ({"resolution_due": NOW + 29 * MIN, "status": "open"}, {"resolution_warning"}),
    ({"resolution_due": NOW, "status": "open"}, {"resolution_breach"}),
    ({"resolution_due": NOW - MIN, "status": "pending"}, set()),
    ({"resolution_due": NOW - MIN, "status": "resolved", "active": False}, set()),
    (
        {"first_response_due": NOW - MIN, "resolution_due": NOW + 5 * MIN, "status": "open"},
        {"response_breach", "resolution_warning"},
    ),
]


def test_the_sweep_query_finds_exactly_the_due_running_rows(app_client: TestClient, db: Database) -> None:
    ids = [_ticket(app_client, db, **fields) for fields, _ in CASES]
    with db.read() as session:
        found = {kind.name: set(sweep.find_due(session, kind, NOW)) for kind in sweep.KINDS}
    for ticket_id, (fields, expected) in zip(ids, CASES, strict=True):
        got = {name for name, rows in found.items() if ticket_id in rows}
        assert got == expected, fields


def test_two_concurrent_sweeps_claim_each_ticket_once(app_client: TestClient, db: Database) -> None:
    ids = [_ticket(app_client, db, first_response_due=NOW + 5 * MIN) for _ in range(12)]
    results: list[sweep.SweepResult] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        barrier.wait()
        results.append(sweep.sweep(db))

    with frozen(NOW):
        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sum(r.warned for r in results) == len(ids)
    with db.read() as session:
        jobs = session.scalars(select(OutboxJob).where(OutboxJob.job == sweep.WARNING_JOB)).all()
        assert sorted(job.payload["ticket_id"] for job in jobs) == sorted(ids)
    with frozen(NOW + MIN):
        assert sweep.sweep(db).warned == 0  # claimed already


def _staff(db: Database, email: str, role: Role, team: str = "tech-support") -> int:
    with db.write() as session:
        user = accounts.create_user(session, email=email, password=PASSWORD, role=role, team_slugs=[team])
        session.flush()
        return user.id


def test_a_warning_alerts_assignee_and_supervisor_and_goes_on_the_timeline(
    app_client: TestClient, db: Database
) -> None:
    supervisor = _staff(db, "boss@example.com", Role.SUPERVISOR)
    agent = _staff(db, "first@example.com", Role.AGENT)
    with db.write() as session:
        team = accounts.team_by_slug(session, "tech-support").id
    ticket_id = _ticket(app_client, db, team_id=team, assignee_id=agent, first_response_due=NOW + 5 * MIN)
    with frozen(NOW):
        result = sweep.sweep(db, inline=True)
        assert (result.warned, result.breached, result.escalated) == (1, 0, 0)
        # The job run again (its process died before it was marked done) does nothing more.
        payload = {"ticket_id": ticket_id, "kind": "response_warning", "at": NOW.isoformat()}
        sweep.act(db, payload)
    with db.read() as session:
        alerts = session.scalars(select(OutboxJob).where(OutboxJob.job == "staff_alert")).all()
        assert [a.payload["kind"] for a in alerts] == ["sla_warning"]
        assert set(alerts[0].payload["user_ids"]) == {agent, supervisor}
        warned = session.scalar(
            select(func.count()).where(TicketEvent.ticket_id == ticket_id, TicketEvent.action == "sla_warning")
        )
        assert warned == 1


def test_breaches_climb_the_ladder_senior_then_supervisor(app_client: TestClient, db: Database) -> None:
    supervisor = _staff(db, "boss@example.com", Role.SUPERVISOR)
    senior = _staff(db, "senior@example.com", Role.SENIOR)
    with db.write() as session:
        team = accounts.team_by_slug(session, "tech-support").id
    ticket_id = _ticket(
        app_client, db, team_id=team, status="open", first_response_due=NOW - MIN, resolution_due=NOW + 60 * MIN
    )
    with frozen(NOW):
        assert sweep.sweep(db, inline=True).line() == "warned=0 breached=1 escalated=1"
    with db.read() as session:
        ticket = session.get_one(Ticket, ticket_id)
        assert (ticket.escalation_level, ticket.assignee_id) == (1, senior)
    with frozen(NOW + 61 * MIN):
        assert sweep.sweep(db, inline=True).line() == "warned=0 breached=1 escalated=1"
    with db.read() as session:
        ticket = session.get_one(Ticket, ticket_id)
        assert (ticket.escalation_level, ticket.assignee_id) == (2, supervisor)
        kinds = [j.payload["kind"] for j in session.scalars(select(OutboxJob).where(OutboxJob.job == "staff_alert"))]
        assert kinds == ["sla_breach", "sla_breach"]


def test_a_breach_in_a_team_without_seniors_goes_to_the_pool(app_client: TestClient, db: Database) -> None:
    agent = _staff(db, "first@example.com", Role.AGENT)
    with db.write() as session:
        team = accounts.team_by_slug(session, "tech-support").id
    ticket_id = _ticket(app_client, db, team_id=team, assignee_id=agent, first_response_due=NOW - MIN)
    with frozen(NOW):
        sweep.sweep(db, inline=True)
    with db.read() as session:
        ticket = session.get_one(Ticket, ticket_id)
        assert (ticket.escalation_level, ticket.assignee_id, ticket.team_id) == (1, None, team)


@pytest.mark.parametrize(("level", "role"), [(1, Role.SENIOR), (2, Role.SUPERVISOR), (3, Role.SUPERVISOR)])
def test_the_ladder(level: int, role: Role) -> None:
    assert escalation.role_for_level(level) == role


def test_cli_sweep_now_prints_the_counts(
    app_client: TestClient, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _ticket(app_client, db, first_response_due=NOW + 5 * MIN)
    _ticket(app_client, db, first_response_due=NOW - 5 * MIN)
    from huiying.cli import app

    monkeypatch.setenv("HUIYING_DATABASE_URL", db.url)
    monkeypatch.setenv("HUIYING_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        answer = runner.invoke(app, ["sla", "sweep", "--now", "2026-12-02T10:00:00+08:00"])
        assert answer.exit_code == 0, answer.output
        assert answer.output.strip().splitlines()[-1] == "warned=1 breached=1 escalated=1"
        again = runner.invoke(app, ["sla", "sweep", "--now", "2026-12-02T10:00:00+08:00"])
        assert again.output.strip().splitlines()[-1] == "warned=0 breached=0 escalated=0"
        bad = runner.invoke(app, ["sla", "sweep", "--now", "tomorrow"])
        assert bad.exit_code == 2
    finally:
        get_settings.cache_clear()


def test_escalate_endpoint(app_client: TestClient, admin: StaffLogin, db: Database) -> None:
    number = submit(app_client)["number"]
    url = f"/api/v1/tickets/{number}/escalate"
    ok = app_client.post(url, json={"reason": "用户多次投诉"}, headers=admin.headers)
    assert ok.status_code == 200, ok.text
    assert ok.json()["escalation_level"] == 1
    timeline = app_client.get(f"/api/v1/tickets/{number}/timeline", headers=admin.headers).json()
    assert "用户多次投诉" in str(timeline)
    to_team = app_client.post(url, json={"reason": "转安全组", "team": "security"}, headers=admin.headers)
    assert to_team.status_code == 200, to_team.text
    assert (to_team.json()["escalation_level"], to_team.json()["team"]) == (2, "security")
    major = app_client.post(url, json={"reason": "大面积故障", "major_incident": True}, headers=admin.headers)
    assert major.status_code == 200, major.text
    assert "major_incident" in major.json()["tags"] and major.json()["priority"] == "urgent"
    for body, status in [
        ({"reason": ""}, 422),
        ({}, 422),
        ({"reason": "x", "team": "no-such-team"}, 422),
        ({"reason": "x", "major_incident": True}, 409),
    ]:
        answer = app_client.post(url, json=body, headers=admin.headers)
        assert answer.status_code == status, (body, answer.text)
        assert "error" in answer.json()
    missing = app_client.post("/api/v1/tickets/HY-0/escalate", json={"reason": "x"}, headers=admin.headers)
    assert missing.status_code == 404
