"""The ticket page offers only what the service accepts: status moves of the status flow, and a
reply form only where a reply can be sent."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from conftest import PASSWORD, StaffLogin
from helpers import feedback, submit
from huiying.accounts import service as accounts
from huiying.db import Database
from huiying.kit.roles import Role
from huiying.tickets.enums import Status
from huiying.tickets.lifecycle import ALLOWED


def web_login(client: TestClient, db: Database, *, email: str, role: Role = Role.ADMIN) -> None:
    """A staff account logged in through the login form (the session cookie stays on `client`)."""
    with db.write() as session:
        accounts.create_user(session, email=email, password=PASSWORD, role=role)
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token
    answer = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def _status_options(html: str) -> list[str]:
    form = re.search(r'<form[^>]*id="status-form".*?</form>', html, re.S)
    assert form, "the page has no status form"
    return re.findall(r'<option value="([^"]+)"', form.group(0))


def _move(client: TestClient, admin: StaffLogin, number: str, status: str) -> None:
    answer = client.post(f"/api/v1/tickets/{number}/status", json={"status": status}, headers=admin.headers)
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("path", [[], ["open"], ["pending"], ["resolved"], ["resolved", "closed"]])
def test_the_status_menu_offers_only_moves_the_flow_allows(
    app_client: TestClient, db: Database, admin: StaffLogin, path: list[str]
) -> None:
    number = submit(app_client)["number"]
    for status in path:
        _move(app_client, admin, number, status)
    current = Status(path[-1] if path else "new")
    web_login(app_client, db, email="menu@example.com")
    html = app_client.get(f"/tickets/{number}").text
    offered = _status_options(html)
    assert set(offered) == {s.value for s in ALLOWED[current]}
    assert current.value not in offered  # shown as where the menu stands, not as a move


def test_a_closed_ticket_has_no_reply_form_and_says_why(
    app_client: TestClient, db: Database, admin: StaffLogin
) -> None:
    number = submit(app_client)["number"]
    _move(app_client, admin, number, "resolved")
    _move(app_client, admin, number, "closed")
    web_login(app_client, db, email="closed@example.com")
    html = app_client.get(f"/tickets/{number}").text
    assert 'id="reply-form"' not in html and 'id="send-reply"' not in html
    assert 'id="reply-closed"' in html and "重新打开" in html
    # Internal notes are still possible on a closed ticket (the service accepts them).
    assert 'id="note-form"' in html


def test_a_merged_ticket_has_no_reply_form_and_points_to_the_other(
    app_client: TestClient, db: Database, admin: StaffLogin
) -> None:
    source = submit(app_client)["number"]
    target = submit(app_client, feedback(description="另一个反馈"))["number"]
    answer = app_client.post(f"/api/v1/tickets/{source}/merge", json={"into": target}, headers=admin.headers)
    assert answer.status_code == 200, answer.text
    web_login(app_client, db, email="merged@example.com")
    html = app_client.get(f"/tickets/{source}").text
    assert 'id="reply-form"' not in html and 'id="note-form"' not in html
    assert 'id="reply-closed"' in html and f'href="/tickets/{target}"' in html
