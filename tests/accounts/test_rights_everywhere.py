"""A change to someone's rights takes effect at once in every server process.

Two apps on one database stand for two `huiying serve` processes: each has its own token cache,
so what one process learns the other can only learn from the database. Changes made outside any
app (the CLI, another host) go straight to the database through the service layer.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from conftest import StaffLogin, login
from helpers import feedback, submit
from huiying.accounts import service as accounts
from huiying.app import create_app
from huiying.config import Settings
from huiying.db import Database
from huiying.kit.actor import SYSTEM
from huiying.kit.roles import Role


@pytest.fixture
def other(settings: Settings, db: Database) -> Iterator[TestClient]:
    """A second server process on the same database."""
    with TestClient(create_app(settings, db), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def outside(db: Database) -> Iterator[Database]:
    """The database as another process (the CLI, another host) sees it."""
    database = Database(db.url)
    yield database
    database.dispose()


def _ticket(client: TestClient, admin: StaffLogin, team: str | None = "tech-support") -> str:
    number = str(submit(client, feedback(description=f"rights {uuid.uuid4()}"))["number"])
    if team is not None:
        answer = client.patch(f"/api/v1/tickets/{number}", json={"team": team}, headers=admin.headers)
        assert answer.status_code == 200, answer.text
    return number


@pytest.fixture
def member(app_client: TestClient, db: Database) -> StaffLogin:
    return login(app_client, db, email="member@example.com", role=Role.AGENT, teams=["tech-support"])


def test_removing_a_member_from_a_team_takes_effect_in_the_other_process(
    app_client: TestClient, other: TestClient, admin: StaffLogin, member: StaffLogin
) -> None:
    number = _ticket(app_client, admin)
    assert other.get(f"/api/v1/tickets/{number}", headers=member.headers).status_code == 200

    removed = app_client.delete(f"/api/v1/teams/tech-support/members/{member.email}", headers=admin.headers)
    assert removed.status_code == 200 and removed.json()["teams"] == []

    assert other.get(f"/api/v1/tickets/{number}", headers=member.headers).status_code == 404
    patch = other.patch(f"/api/v1/tickets/{number}", json={"title": "still mine?"}, headers=member.headers)
    assert patch.status_code == 404
    assert app_client.get(f"/api/v1/tickets/{number}", headers=admin.headers).json()["title"] != "still mine?"


def test_changing_teams_through_the_staff_form_takes_effect_in_the_other_process(
    app_client: TestClient, other: TestClient, admin: StaffLogin, member: StaffLogin
) -> None:
    number = _ticket(app_client, admin)
    assert other.get(f"/api/v1/tickets/{number}", headers=member.headers).status_code == 200
    changed = app_client.patch(f"/api/v1/staff/{member.email}", json={"teams": ["finance"]}, headers=admin.headers)
    assert changed.status_code == 200
    assert other.get(f"/api/v1/tickets/{number}", headers=member.headers).status_code == 404


def test_a_role_change_elsewhere_takes_effect_at_once(
    app_client: TestClient, admin: StaffLogin, member: StaffLogin, outside: Database
) -> None:
    number = _ticket(app_client, admin)
    assert app_client.get(f"/api/v1/tickets/{number}", headers=member.headers).status_code == 200
    with outside.write() as session:
        user = accounts.user_by_email(session, member.email)
        accounts.update_user(session, user, role=Role.AUDITOR, actor=SYSTEM)
    assert app_client.get(f"/api/v1/tickets/{number}", headers=member.headers).status_code == 403


def test_deactivation_elsewhere_logs_the_token_out_at_once(
    app_client: TestClient, admin: StaffLogin, member: StaffLogin, outside: Database
) -> None:
    number = _ticket(app_client, admin)
    assert app_client.get(f"/api/v1/tickets/{number}", headers=member.headers).status_code == 200
    with outside.write() as session:
        accounts.update_user(session, accounts.user_by_email(session, member.email), active=False, actor=SYSTEM)
    assert app_client.get(f"/api/v1/tickets/{number}", headers=member.headers).status_code == 401


def test_logout_in_one_process_ends_the_token_in_the_other(
    app_client: TestClient, other: TestClient, member: StaffLogin
) -> None:
    assert other.get("/api/v1/me", headers=member.headers).status_code == 200
    assert app_client.post("/api/v1/auth/logout", headers=member.headers).status_code == 204
    assert other.get("/api/v1/me", headers=member.headers).status_code == 401


def test_a_revoked_api_key_stops_in_the_other_process(
    app_client: TestClient, other: TestClient, admin: StaffLogin
) -> None:
    created = app_client.post(
        "/api/v1/api-keys",
        json={"name": "crm", "user": admin.email, "scopes": ["ticket:read"]},
        headers=admin.headers,
    ).json()
    key = {"Authorization": f"Bearer {created['key']}"}
    assert other.get("/api/v1/tickets", headers=key).status_code == 200
    assert app_client.delete(f"/api/v1/api-keys/{created['id']}", headers=admin.headers).status_code == 200
    assert other.get("/api/v1/tickets", headers=key).status_code == 401


def test_a_new_sub_team_is_visible_to_the_parent_team_at_once(
    app_client: TestClient, other: TestClient, admin: StaffLogin, member: StaffLogin
) -> None:
    assert other.get("/api/v1/tickets", headers=member.headers).status_code == 200
    created = app_client.post(
        "/api/v1/teams",
        json={"slug": "tech-ios", "name_zh": "iOS 组", "name_en": "iOS", "parent": "tech-support"},
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    number = _ticket(app_client, admin, team="tech-ios")
    assert other.get(f"/api/v1/tickets/{number}", headers=member.headers).status_code == 200
