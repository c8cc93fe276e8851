"""Assignment on the pages: the availability switch in the header, the accept button on the
ticket page (assignee only, until accepted), a team's mode/cap/deadline and an agent's skills
on the admin page; CSRF required, rights respected."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from conftest import PASSWORD
from helpers import feedback
from huiying.accounts import service as accounts
from huiying.accounts import teams
from huiying.accounts.models import User
from huiying.config import Settings
from huiying.db import Database
from huiying.kit.actor import SYSTEM
from huiying.kit.roles import Role
from huiying.tickets import intake
from huiying.tickets import service as tickets
from huiying.tickets.models import Ticket
from huiying.tickets.schemas import FeedbackIn

TEAM = "tech-support"


@pytest.fixture(autouse=True)
def _one_database(backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("the pages are the same on both databases; the service tests run on both")


def _user(db: Database, email: str, role: Role, team_slugs: list[str] | None = None) -> None:
    with db.write() as session:
        accounts.create_user(session, email=email, password=PASSWORD, role=role, team_slugs=team_slugs or [TEAM])


def _web_login(client: TestClient, email: str) -> None:
    client.cookies.clear()
    token = _csrf(client.get("/login").text)
    data = {"email": email, "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def _ticket_for(db: Database, settings: Settings, assignee: str) -> str:
    with db.write() as session:
        body = FeedbackIn.model_validate(feedback())
        ticket = intake.create_ticket(session, feedback=body, actor=SYSTEM, settings=settings).ticket
        team = teams.team_by_slug(session, TEAM)
        tickets.assign(session, ticket, team=team, assignee=accounts.user_by_email(session, assignee), actor=SYSTEM)
        return ticket.number


def _availability(db: Database, email: str) -> str:
    with db.read() as session:
        return accounts.user_by_email(session, email).availability


def test_the_header_switch_sets_availability_with_csrf(app_client: TestClient, db: Database) -> None:
    _user(db, "agent@example.com", Role.AGENT)
    _web_login(app_client, "agent@example.com")
    page = app_client.get("/tickets?lang=zh")
    assert page.status_code == 200
    assert 'id="availability"' in page.text and "暂离" in page.text and "下班" in page.text
    no_token = app_client.post("/me/availability", data={"availability": "away"}, follow_redirects=False)
    assert no_token.status_code == 403 and _availability(db, "agent@example.com") == "available"
    away = app_client.post(
        "/me/availability",
        data={"csrf_token": _csrf(page.text), "availability": "away", "back": "/tickets?queue=mine"},
        follow_redirects=False,
    )
    assert away.status_code == 303 and away.headers["location"] == "/tickets?notice=saved"
    assert _availability(db, "agent@example.com") == "away"
    shown = app_client.get("/tickets?lang=en").text
    assert re.search(r'value="away" class="link active" aria-pressed="true">Away<', shown)
    bad = app_client.post(
        "/me/availability",
        data={"csrf_token": _csrf(shown), "availability": "asleep", "back": "//evil.example/"},
        follow_redirects=False,
    )
    assert bad.headers["location"].startswith("/tickets?error=")
    assert _availability(db, "agent@example.com") == "away"


def test_an_auditor_sees_no_switch_and_may_not_use_it(app_client: TestClient, db: Database) -> None:
    _user(db, "auditor@example.com", Role.AUDITOR, [])
    _web_login(app_client, "auditor@example.com")
    page = app_client.get("/audit")
    assert page.status_code == 200 and 'id="availability"' not in page.text
    refused = app_client.post(
        "/me/availability", data={"csrf_token": _csrf(page.text), "availability": "away"}, follow_redirects=False
    )
    assert refused.status_code == 403
    assert _availability(db, "auditor@example.com") == "available"


def test_accept_button_only_for_the_assignee_until_accepted(
    app_client: TestClient, db: Database, settings: Settings
) -> None:
    _user(db, "mine@example.com", Role.AGENT)
    _user(db, "boss@example.com", Role.SUPERVISOR)
    number = _ticket_for(db, settings, "mine@example.com")

    _web_login(app_client, "boss@example.com")
    other = app_client.get(f"/tickets/{number}?lang=zh")
    assert other.status_code == 200 and 'id="accept-form"' not in other.text
    # Not the assignee: the service refuses, nothing changes.
    refused = app_client.post(
        f"/tickets/{number}/accept", data={"csrf_token": _csrf(other.text)}, follow_redirects=False
    )
    assert refused.status_code == 303 and "error=" in refused.headers["location"]

    _web_login(app_client, "mine@example.com")
    page = app_client.get(f"/tickets/{number}?lang=zh")
    assert 'id="accept-form"' in page.text and "确认接收" in page.text
    no_token = app_client.post(f"/tickets/{number}/accept", data={}, follow_redirects=False)
    assert no_token.status_code == 403
    with db.read() as session:
        assert session.query(Ticket).one().accepted_at is None
    done = app_client.post(f"/tickets/{number}/accept", data={"csrf_token": _csrf(page.text)}, follow_redirects=False)
    assert done.status_code == 303 and "notice=saved" in done.headers["location"]
    with db.read() as session:
        assert session.query(Ticket).one().accepted_at is not None
    after = app_client.get(f"/tickets/{number}?lang=zh").text
    assert 'id="accept-form"' not in after and re.search(r'id="accepted">已确认接收 \d\d-\d\d \d\d:\d\d<', after)
    assert "Accepted " in app_client.get(f"/tickets/{number}?lang=en").text


def test_admin_sets_team_assignment_and_skills(app_client: TestClient, db: Database) -> None:
    _user(db, "admin@example.com", Role.ADMIN, [])
    _user(db, "agent@example.com", Role.AGENT)
    _web_login(app_client, "admin@example.com")
    page = app_client.get("/admin/teams?lang=zh")
    assert page.status_code == 200 and "轮流" in page.text and "最少负载" in page.text and "按技能" in page.text
    data = {
        "csrf_token": _csrf(page.text),
        "assignment_mode": "round_robin",
        "max_open_per_agent": "5",
        "accept_within_minutes": "15",
    }
    saved = app_client.post(f"/admin/teams/{TEAM}/assignment", data=data, follow_redirects=False)
    assert saved.status_code == 303 and "notice=done" in saved.headers["location"]
    with db.read() as session:
        team = teams.team_by_slug(session, TEAM)
        assert (team.assignment_mode, team.max_open_per_agent, team.accept_within_minutes) == ("round_robin", 5, 15)
    shown = app_client.get("/admin/teams?lang=en").text
    assert '<option value="round_robin" selected>Round robin</option>' in shown
    # Empty clears the cap; an unknown mode and a zero cap are refused.
    cleared = {**data, "max_open_per_agent": "", "csrf_token": _csrf(shown)}
    answer = app_client.post(f"/admin/teams/{TEAM}/assignment", data=cleared, follow_redirects=False)
    assert "notice=done" in answer.headers["location"]
    for bad in ({"assignment_mode": "lottery"}, {"accept_within_minutes": "0"}):
        answer = app_client.post(f"/admin/teams/{TEAM}/assignment", data={**cleared, **bad}, follow_redirects=False)
        assert "error=" in answer.headers["location"]
    with db.read() as session:
        team = teams.team_by_slug(session, TEAM)
        assert (team.assignment_mode, team.max_open_per_agent, team.accept_within_minutes) == ("round_robin", None, 15)

    staff = app_client.get("/admin/staff?lang=zh")
    assert "技能（逗号分隔）" in staff.text
    skilled = app_client.post(
        "/admin/staff/agent@example.com/skills",
        data={"csrf_token": _csrf(staff.text), "skills": "Billing， en, billing ,zh"},
        follow_redirects=False,
    )
    assert "notice=done" in skilled.headers["location"]
    with db.read() as session:
        assert accounts.user_by_email(session, "agent@example.com").skills == ["billing", "en", "zh"]
    assert 'value="billing, en, zh"' in app_client.get("/admin/staff").text


def test_rights_on_team_settings_and_skills(app_client: TestClient, db: Database) -> None:
    _user(db, "boss@example.com", Role.SUPERVISOR)
    _user(db, "mine@example.com", Role.AGENT)
    _user(db, "elsewhere@example.com", Role.AGENT, ["finance"])
    _user(db, "agent@example.com", Role.AGENT)
    _web_login(app_client, "agent@example.com")
    token = _csrf(app_client.get("/tickets").text)
    answer = app_client.post(f"/admin/teams/{TEAM}/assignment", data={"csrf_token": token, "assignment_mode": "skill"})
    assert answer.status_code == 403
    assert (
        app_client.post("/admin/staff/mine@example.com/skills", data={"csrf_token": token, "skills": "x"}).status_code
        == 403
    )

    _web_login(app_client, "boss@example.com")
    token = _csrf(app_client.get("/tickets").text)
    answer = app_client.post(f"/admin/teams/{TEAM}/assignment", data={"csrf_token": token, "assignment_mode": "skill"})
    assert answer.status_code == 403  # a team's mode is configuration: admins only
    # A supervisor sets the skills of their own team's members, not anyone else's.
    mine = app_client.post(
        "/admin/staff/mine@example.com/skills", data={"csrf_token": token, "skills": "refund"}, follow_redirects=False
    )
    assert "notice=done" in mine.headers["location"]
    theirs = app_client.post(
        "/admin/staff/elsewhere@example.com/skills",
        data={"csrf_token": token, "skills": "refund"},
        follow_redirects=False,
    )
    assert "error=" in theirs.headers["location"]
    with db.read() as session:
        skills = {u.email: u.skills for u in session.query(User)}
    assert skills["mine@example.com"] == ["refund"] and not skills["elsewhere@example.com"]
    with db.read() as session:
        assert teams.team_by_slug(session, TEAM).assignment_mode != "skill"
