"""A person correcting or confirming a category routes the ticket to that category's team, as
triage does on intake, unless a person chose the team (issue 16, item 12)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import PASSWORD, StaffLogin, login
from huiying.accounts import service as accounts
from huiying.db import Database
from huiying.kit.roles import Role

pytestmark = pytest.mark.usefixtures("triage_on")

UNCLEAR = "qwrt zxcv 嗯嗯 ……"  # no rule understands it: needs refinement, no team
HOST = "这个主播的直播间怎么回事"  # only the generic rule: content/host-behavior, needs refinement
CRASH = "更新以后一打开消息页面就闪退，重装了也没用"  # technical/crash, routed to the client group


def _submit(client: TestClient, description: str) -> str:
    answer = client.post("/api/v1/feedback", json={"channel": "app", "description": description})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["number"])


def _get(client: TestClient, who: StaffLogin, number: str) -> dict[str, Any]:
    answer = client.get(f"/api/v1/tickets/{number}", headers=who.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def _patch(client: TestClient, who: StaffLogin, number: str, **patch: Any) -> dict[str, Any]:
    answer = client.patch(f"/api/v1/tickets/{number}", json=patch, headers=who.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def _queue(client: TestClient, who: StaffLogin, **filters: str) -> list[str]:
    answer = client.get("/api/v1/tickets", params=filters, headers=who.headers)
    assert answer.status_code == 200, answer.text
    return [t["number"] for t in answer.json()["items"]]


def test_correcting_an_unclear_ticket_routes_it_to_the_categorys_team(
    app_client: TestClient, db: Database, admin: StaffLogin
) -> None:
    number = _submit(app_client, UNCLEAR)
    before = _get(app_client, admin, number)
    assert (before["needs_refinement"], before["team"]) == (True, None)
    after = _patch(app_client, admin, number, category="commercial", subcategory="refund")
    assert (after["needs_refinement"], after["team"]) == (False, "finance")  # the sub-category's team
    finance = login(app_client, db, email="finance@example.com", role=Role.AGENT, teams=["finance"])
    assert number in _queue(app_client, finance, team="finance", assignee="none", status="new")


def test_a_category_change_re_routes_unless_a_person_chose_the_team(app_client: TestClient, admin: StaffLogin) -> None:
    number = _submit(app_client, CRASH)
    assert _get(app_client, admin, number)["team"] == "tech-client"
    assert _patch(app_client, admin, number, category="content", subcategory="harassment")["team"] == "content-review"
    assert _patch(app_client, admin, number, team="general")["team"] == "general"
    moved = _patch(app_client, admin, number, category="technical", subcategory="crash")
    assert (moved["category"], moved["team"]) == ("technical", "general")  # the person's choice stays


def test_a_team_given_with_the_category_wins(app_client: TestClient, admin: StaffLogin) -> None:
    number = _submit(app_client, UNCLEAR)
    after = _patch(app_client, admin, number, category="technical", subcategory="crash", team="general")
    assert after["team"] == "general"
    events = app_client.get(f"/api/v1/tickets/{number}/timeline", headers=admin.headers).json()["events"]
    assert [e["new"] for e in events if e["field"] == "team"] == ["general"]  # one move, not two


def test_a_re_route_takes_the_ticket_from_an_assignee_of_the_old_team(
    app_client: TestClient, db: Database, admin: StaffLogin
) -> None:
    login(app_client, db, email="tech@example.com", role=Role.AGENT, teams=["tech-support"])
    number = _submit(app_client, CRASH)
    assert _patch(app_client, admin, number, assignee="tech@example.com")["assignee"] == "tech@example.com"
    moved = _patch(app_client, admin, number, category="content", subcategory="harassment")
    assert (moved["team"], moved["assignee"]) == ("content-review", None)


# --- the ticket page ------------------------------------------------------------------------------


def _web_login(client: TestClient, db: Database, email: str) -> str:
    """Log in through the form; returns the session's CSRF token."""
    with db.write() as session:
        accounts.create_user(session, email=email, password=PASSWORD, role=Role.ADMIN)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    answer = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    page = re.search(r'data-csrf="([^"]+)"', client.get("/tickets").text)
    assert page
    return page.group(1)


def test_confirming_the_category_on_the_page_routes_the_ticket(
    app_client: TestClient, db: Database, admin: StaffLogin
) -> None:
    number = _submit(app_client, HOST)
    before = _get(app_client, admin, number)
    assert (before["category"], before["needs_refinement"], before["team"]) == ("content", True, None)
    csrf = _web_login(app_client, db, "web.admin@example.com")
    answer = app_client.post(f"/tickets/{number}/confirm-category", data={"csrf_token": csrf}, follow_redirects=False)
    assert answer.status_code == 303 and "error" not in answer.headers["location"]
    after = _get(app_client, admin, number)
    assert (after["needs_refinement"], after["team"]) == (False, "content-review")


def test_correcting_the_category_in_the_properties_form_routes_the_ticket(
    app_client: TestClient, db: Database, admin: StaffLogin
) -> None:
    number = _submit(app_client, UNCLEAR)
    csrf = _web_login(app_client, db, "web.admin@example.com")
    form = {
        "csrf_token": csrf,
        "category": "technical",
        "subcategory": "technical:crash",
        "priority": "medium",
        "team": "",  # the form sends the team it showed: none yet
        "assignee": "",
        "tags": "",
    }
    answer = app_client.post(f"/tickets/{number}/update", data=form, follow_redirects=False)
    assert answer.status_code == 303 and "error" not in answer.headers["location"], answer.headers["location"]
    after = _get(app_client, admin, number)
    assert (after["category"], after["needs_refinement"], after["team"]) == ("technical", False, "tech-client")
