"""Item 16.16: every role lands on a page it may open; errors on pages are pages, in zh-CN or English."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.testclient import TestClient

from conftest import PASSWORD
from huiying.accounts import service as accounts
from huiying.db import Database
from huiying.kit.roles import Role

LANDING = {
    Role.AGENT: "/tickets",
    Role.SENIOR: "/tickets",
    Role.SUPERVISOR: "/tickets",
    Role.ADMIN: "/tickets",
    Role.QA: "/tickets",
    Role.AUDITOR: "/audit",
}


def _web_login(client: TestClient, db: Database, role: Role, next_url: str | None = None) -> None:
    email = f"{role.value}@example.com"
    with db.write() as session:
        accounts.create_user(session, email=email, password=PASSWORD, role=role, team_slugs=[])
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    data = {"email": email, "password": PASSWORD, "csrf_token": token.group(1)}
    if next_url is not None:
        data["next"] = next_url
    answer = client.post("/login", data=data, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    client.cookies.update(answer.cookies)
    client.headers["x-landing"] = answer.headers["location"]


def _assert_page(answer: httpx.Response, status: int, *texts: str) -> None:
    assert answer.status_code == status
    headers = answer.headers
    assert headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    body = answer.text
    assert '{"error"' not in body
    for text in texts:
        assert text in body, text


@pytest.mark.parametrize("role", list(LANDING))
def test_each_role_lands_on_a_page_it_may_open(app_client: TestClient, db: Database, role: Role) -> None:
    _web_login(app_client, db, role)
    assert app_client.headers["x-landing"] == LANDING[role]
    landed = app_client.get(LANDING[role])
    assert landed.status_code == 200 and landed.headers["content-type"].startswith("text/html")
    home = app_client.get("/", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == LANDING[role]


def test_an_auditor_sent_to_the_workspace_lands_on_the_audit_log(app_client: TestClient, db: Database) -> None:
    _web_login(app_client, db, Role.AUDITOR, next_url="/tickets")
    assert app_client.headers["x-landing"] == "/audit"


def test_a_page_the_role_may_not_open_is_a_403_page_in_the_readers_language(
    app_client: TestClient, db: Database
) -> None:
    _web_login(app_client, db, Role.ADMIN)
    _assert_page(app_client.get("/audit"), 403, "无权访问", "您的角色无权访问此页面", 'lang="zh-CN"')
    _assert_page(app_client.get("/audit?lang=en"), 403, "Not allowed", "Your role may not open this page")
    # The API keeps its JSON.
    api = app_client.get("/api/v1/audit", headers={"Authorization": "Bearer nothing"})
    assert api.status_code == 401 and "error" in api.json()


def test_an_auditor_opening_the_workspace_gets_a_page(app_client: TestClient, db: Database) -> None:
    _web_login(app_client, db, Role.AUDITOR)
    _assert_page(app_client.get("/tickets"), 403, "无权访问")


def test_a_missing_page_is_a_404_page(app_client: TestClient) -> None:
    _assert_page(app_client.get("/no-such-page"), 404, "页面不存在")
    app_client.cookies.set("hy_lang", "en")
    _assert_page(app_client.get("/no-such-page"), 404, "Not found")
    api = app_client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"


def test_a_crash_on_a_page_is_a_500_page_with_the_security_headers(app_client: TestClient) -> None:
    def crash() -> None:
        raise RuntimeError("a bug")

    app = app_client.app
    app.add_api_route("/test-crash", crash, methods=["GET"])  # type: ignore[attr-defined]
    app.add_api_route("/api/v1/test-crash", crash, methods=["GET"])  # type: ignore[attr-defined]
    _assert_page(app_client.get("/test-crash"), 500, "出错了")
    _assert_page(app_client.get("/test-crash?lang=en"), 500, "Something went wrong")
    api = app_client.get("/api/v1/test-crash")
    assert api.status_code == 500 and api.json()["error"]["code"] == "internal_error"
