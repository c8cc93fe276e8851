"""A ticket goes only to someone who can work it: a role that works tickets (not qa or auditor)
who sees the ticket's team — a member of it or of a team above it (issue 16, item 14)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import PASSWORD, StaffLogin, login
from helpers import feedback, submit
from huiying.accounts import service as accounts
from huiying.db import Database
from huiying.kit.roles import Role

STAFF: list[tuple[str, Role, list[str]]] = [
    ("tech@example.com", Role.AGENT, ["tech-support"]),
    ("client@example.com", Role.AGENT, ["tech-client"]),  # a sub-team of tech-support
    ("finance@example.com", Role.AGENT, ["finance"]),
    ("lead@example.com", Role.SUPERVISOR, ["tech-support"]),
    ("qa@example.com", Role.QA, []),
    ("auditor@example.com", Role.AUDITOR, []),
    ("boss@example.com", Role.ADMIN, []),
]


@pytest.fixture
def staff(db: Database) -> None:
    with db.write() as session:
        for email, role, teams in STAFF:
            accounts.create_user(session, email=email, password=PASSWORD, role=role, team_slugs=teams)


def _ticket_of(client: TestClient, admin: StaffLogin, team: str | None) -> str:
    number = str(submit(client, feedback())["number"])
    # Routing gives a new ticket a team of its own: set the case's team (None: unrouted) by hand.
    answer = client.patch(f"/api/v1/tickets/{number}", json={"team": team}, headers=admin.headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["team"] == team
    return number


def _patch(client: TestClient, who: StaffLogin, number: str, **patch: Any) -> Any:
    return client.patch(f"/api/v1/tickets/{number}", json=patch, headers=who.headers)


# (ticket's team, assignee, accepted)
CASES: list[tuple[str | None, str, bool]] = [
    ("tech-support", "tech@example.com", True),
    ("tech-support", "lead@example.com", True),
    ("tech-support", "boss@example.com", True),  # admins read every team
    ("tech-client", "tech@example.com", True),  # members of a team work its sub-teams' tickets
    ("tech-client", "client@example.com", True),
    ("tech-support", "client@example.com", False),  # a sub-team does not see its parent's tickets
    ("tech-support", "finance@example.com", False),
    ("tech-support", "qa@example.com", False),
    ("tech-support", "auditor@example.com", False),
    (None, "finance@example.com", True),  # unrouted: everyone on duty sees it
    (None, "qa@example.com", False),
]


@pytest.mark.usefixtures("staff")
@pytest.mark.parametrize(("team", "assignee", "accepted"), CASES)
def test_only_people_who_can_work_the_ticket_are_accepted(
    app_client: TestClient, admin: StaffLogin, team: str | None, assignee: str, accepted: bool
) -> None:
    number = _ticket_of(app_client, admin, team)
    answer = _patch(app_client, admin, number, assignee=assignee)
    if accepted:
        assert answer.status_code == 200, answer.text
        assert answer.json()["assignee"] == assignee
        return
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "assignee_not_eligible" and assignee in error["message"]
    after = app_client.get(f"/api/v1/tickets/{number}", headers=admin.headers).json()
    assert (after["team"], after["assignee"]) == (team, None)


@pytest.mark.usefixtures("staff")
def test_team_and_assignee_are_checked_together(app_client: TestClient, admin: StaffLogin) -> None:
    number = _ticket_of(app_client, admin, "tech-support")
    refused = _patch(app_client, admin, number, team="finance", assignee="tech@example.com")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "assignee_not_eligible"
    moved = _patch(app_client, admin, number, team="finance", assignee="finance@example.com")
    assert moved.status_code == 200 and (moved.json()["team"], moved.json()["assignee"]) == (
        "finance",
        "finance@example.com",
    )


@pytest.mark.usefixtures("staff")
def test_moving_a_ticket_to_another_team_lets_an_assignee_of_the_old_one_go(
    app_client: TestClient, admin: StaffLogin
) -> None:
    number = _ticket_of(app_client, admin, "tech-support")
    assert _patch(app_client, admin, number, assignee="tech@example.com").status_code == 200
    moved = _patch(app_client, admin, number, team="finance")
    assert moved.status_code == 200 and (moved.json()["team"], moved.json()["assignee"]) == ("finance", None)


@pytest.mark.usefixtures("staff")
def test_an_agent_cannot_hand_a_ticket_outside_its_team(app_client: TestClient, db: Database) -> None:
    agent = login(app_client, db, email="agent@example.com", role=Role.AGENT, teams=["tech-support"])
    admin = login(app_client, db, email="admin@example.com", role=Role.ADMIN)
    number = _ticket_of(app_client, admin, "tech-support")
    answer = _patch(app_client, agent, number, assignee="finance@example.com")
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "assignee_not_eligible"


# --- the pages ------------------------------------------------------------------------------------


def _web_login(client: TestClient, email: str) -> str:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    answer = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    page = re.search(r'data-csrf="([^"]+)"', client.get("/tickets").text)
    assert page
    return page.group(1)


def _assignee_options(html: str) -> set[str]:
    select = re.search(r'<select name="assignee">(.*?)</select>', html, re.S)
    assert select, "the page has no assignee list"
    return {value for value in re.findall(r'<option value="([^"]*)"', select.group(1)) if value}


@pytest.mark.usefixtures("staff")
def test_the_ticket_page_offers_only_people_who_can_work_it(app_client: TestClient, admin: StaffLogin) -> None:
    number = _ticket_of(app_client, admin, "tech-support")
    _web_login(app_client, "lead@example.com")
    page = app_client.get(f"/tickets/{number}")
    assert page.status_code == 200
    expected = {"tech@example.com", "lead@example.com", "boss@example.com", admin.email}  # admins see every team
    assert _assignee_options(page.text) == expected


@pytest.mark.usefixtures("staff")
def test_bulk_assignment_refuses_someone_outside_the_team(app_client: TestClient, admin: StaffLogin) -> None:
    number = _ticket_of(app_client, admin, "tech-support")
    csrf = _web_login(app_client, "lead@example.com")
    listing = app_client.get("/tickets").text
    bulk = re.search(r'<datalist id="bulk-values">(.*?)</datalist>', listing, re.S)
    offered = set(re.findall(r'<option value="([^"]+)"', bulk.group(1))) if bulk else set()
    assert "tech@example.com" in offered and not offered & {"qa@example.com", "auditor@example.com"}
    answer = app_client.post(
        "/tickets-bulk",
        data={"csrf_token": csrf, "numbers": [number], "action": "assign", "value": "finance@example.com"},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and "error" in answer.headers["location"]
    assert app_client.get(f"/api/v1/tickets/{number}", headers=admin.headers).json()["assignee"] is None
    done = app_client.post(
        "/tickets-bulk",
        data={"csrf_token": csrf, "numbers": [number], "action": "assign", "value": "tech@example.com"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and "error" not in done.headers["location"]
    assert app_client.get(f"/api/v1/tickets/{number}", headers=admin.headers).json()["assignee"] == "tech@example.com"
