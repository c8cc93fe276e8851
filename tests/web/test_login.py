"""Web login: sessions in the database, CSRF on forms, cookie flags, throttling, lock-out."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from conftest import PASSWORD, login
from huiying.db import Database
from huiying.kit.roles import Role


def _form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the form has no CSRF token"
    return match.group(1)


def _login(client: TestClient, email: str, password: str = PASSWORD, token: str | None = None):  # type: ignore[no-untyped-def]
    page = client.get("/login")
    return client.post(
        "/login",
        data={
            "email": email,
            "password": password,
            "csrf_token": token or _form_token(page.text),
            "next": "/tickets",
        },
        follow_redirects=False,
    )


@pytest.fixture
def staff_email(app_client: TestClient, db: Database) -> str:
    return login(app_client, db, email="web@example.com", role=Role.AGENT).email


def test_login_sets_a_hardened_session_cookie(app_client: TestClient, staff_email: str) -> None:
    page = app_client.get("/login")
    assert page.status_code == 200 and "员工登录" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    answer = _login(app_client, staff_email)
    assert answer.status_code == 303 and answer.headers["location"] == "/tickets"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("hy_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=" in cookie


def test_login_without_the_form_token_is_refused(app_client: TestClient, staff_email: str) -> None:
    app_client.get("/login")
    answer = app_client.post(
        "/login",
        data={"email": staff_email, "password": PASSWORD, "csrf_token": "forged"},
        follow_redirects=False,
    )
    assert answer.status_code == 403
    assert "hy_session" not in answer.headers.get("set-cookie", "")


def test_logout_needs_the_session_csrf_token(app_client: TestClient, staff_email: str) -> None:
    assert _login(app_client, staff_email).status_code == 303
    refused = app_client.post("/logout", data={}, follow_redirects=False)
    assert refused.status_code == 403
    # The page's token comes from the session; fetch it through a page that shows it.
    from huiying.web import sessions

    with app_client.app.state.db.read() as session:  # type: ignore[attr-defined]
        row = sessions.find(session, app_client.cookies.get(sessions.COOKIE))
        assert row is not None
        token = row.csrf_token
    done = app_client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/login"
    assert app_client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert app_client.get("/tickets", follow_redirects=False).headers["location"].startswith("/login")


def test_open_redirects_are_not_followed(app_client: TestClient, staff_email: str) -> None:
    page = app_client.get("/login?next=//evil.example/steal")
    assert 'name="next" value="/"' in page.text  # the role's own first page, after login
    answer = app_client.post(
        "/login",
        data={
            "email": staff_email,
            "password": PASSWORD,
            "csrf_token": _form_token(page.text),
            "next": "https://evil.example",
        },
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/tickets"


def test_five_wrong_passwords_lock_the_account(app_client: TestClient, staff_email: str) -> None:
    for _ in range(5):
        assert _login(app_client, staff_email, password="not the password").status_code == 401
    locked = _login(app_client, staff_email)  # even the right password now
    assert locked.status_code == 429
    assert "锁定" in locked.text
    api = app_client.post("/api/v1/auth/token", json={"email": staff_email, "password": PASSWORD})
    assert api.status_code == 429 and api.json()["error"]["code"] == "account_locked"
    assert int(api.headers["Retry-After"]) > 600


def test_english_switch(app_client: TestClient) -> None:
    page = app_client.get("/login?lang=en")
    assert "Staff login" in page.text
    assert "hy_lang=en" in page.headers["set-cookie"]
    assert "Staff login" in app_client.get("/login").text
