"""Who may mark feedback VIP at intake (issue 16, item 4): staff, an API key with ticket:create,
or the platform's signed user token that says so — never an anonymous caller."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from conftest import PASSWORD, StaffLogin
from helpers import counts, feedback
from huiying.accounts import service as accounts
from huiying.config import Settings
from huiying.db import Database
from huiying.kit.actor import SYSTEM
from huiying.kit.roles import Role
from huiying.portal import user_token

PLATFORM_SECRET = "platform-shared-secret-for-tests"
HEADER = "X-Huiying-User-Token"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"platform_user_secret": PLATFORM_SECRET})


def _token(user_id: str, *, vip: bool) -> str:
    return user_token.sign(PLATFORM_SECRET, user_id, vip=vip, issued_at=int(time.time()))


def _vip_of(client: TestClient, admin: StaffLogin, number: str) -> bool:
    answer = client.get(f"/api/v1/tickets/{number}", headers=admin.headers)
    return bool(answer.json()["vip"])


def test_an_anonymous_caller_may_not_set_vip(app_client: TestClient, db: Database) -> None:
    answer = app_client.post("/api/v1/feedback", json=feedback(description="建议增加夜间模式", vip=True))
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "forbidden"
    assert "vip" in answer.json()["error"]["message"]
    assert counts(db) == (0, 0)


def test_a_token_without_the_vip_claim_or_for_another_user_does_not_allow_vip(
    app_client: TestClient, db: Database
) -> None:
    plain = app_client.post(
        "/api/v1/feedback", json=feedback(user_id="u1", vip=True), headers={HEADER: _token("u1", vip=False)}
    )
    assert plain.status_code == 403
    other = app_client.post(
        "/api/v1/feedback", json=feedback(user_id="u1", vip=True), headers={HEADER: _token("u2", vip=True)}
    )
    assert other.status_code == 403
    assert other.json()["error"]["code"] == "invalid_user_token"
    assert counts(db) == (0, 0)


def test_the_platforms_signed_vip_claim_marks_the_ticket_vip(app_client: TestClient, admin: StaffLogin) -> None:
    asked = app_client.post(
        "/api/v1/feedback", json=feedback(user_id="u1", vip=True), headers={HEADER: _token("u1", vip=True)}
    )
    assert asked.status_code == 201, asked.text
    assert _vip_of(app_client, admin, asked.json()["number"])
    # The claim alone is the platform saying so: the ticket is VIP without `vip` in the body.
    implied = app_client.post("/api/v1/feedback", json=feedback(user_id="u1"), headers={HEADER: _token("u1", vip=True)})
    assert implied.status_code == 201, implied.text
    assert _vip_of(app_client, admin, implied.json()["number"])


def test_staff_and_api_keys_with_ticket_create_may_set_vip(
    app_client: TestClient, db: Database, admin: StaffLogin
) -> None:
    by_staff = app_client.post("/api/v1/feedback", json=feedback(vip=True), headers=admin.headers)
    assert by_staff.status_code == 201, by_staff.text
    assert _vip_of(app_client, admin, by_staff.json()["number"])
    with db.write() as session:
        user = accounts.create_user(session, email="ios-app@example.com", password=PASSWORD, role=Role.AGENT)
        key, _ = accounts.create_api_key(
            session, user=user, name="iOS app", scopes=["ticket:create"], ttl=None, actor=SYSTEM
        )
    by_key = app_client.post("/api/v1/feedback", json=feedback(vip=True), headers={"Authorization": f"Bearer {key}"})
    assert by_key.status_code == 201, by_key.text
    assert _vip_of(app_client, admin, by_key.json()["number"])


def test_the_web_form_marks_vip_only_from_a_signed_claim(app_client: TestClient, admin: StaffLogin) -> None:
    def send(**extra: str) -> str:
        form = app_client.get("/feedback", params={"user_id": "u9", **extra})
        token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
        data = {"description": "会员权益没有到账", "user_id": "u9", "csrf_token": token, "vip": "true", **extra}
        answer = app_client.post("/feedback", data=data, follow_redirects=False)
        assert answer.status_code == 303, answer.text
        done = app_client.get(answer.headers["location"])
        return done.text.split('id="ticket-number">')[1].split("<")[0]

    assert not _vip_of(app_client, admin, send())
    assert _vip_of(app_client, admin, send(user_token=_token("u9", vip=True)))
