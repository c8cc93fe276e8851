"""The alert robots admin page: add a robot, see its (masked) address and last error, change its
teams, remove it; zh and en; admins only."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from conftest import PASSWORD
from huiying.accounts import service as accounts
from huiying.alerts.models import AlertRobot
from huiying.db import Database
from huiying.kit.roles import Role


def _web_login(client: TestClient, db: Database, role: Role) -> None:
    with db.write() as session:
        accounts.create_user(session, email=f"{role.value}@example.com", password=PASSWORD, role=role)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    data = {"email": f"{role.value}@example.com", "password": PASSWORD, "csrf_token": token.group(1)}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


@pytest.fixture(autouse=True)
def _one_database(backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("the page is the same on both databases; the service tests run on both")


def test_admins_add_see_and_remove_robots_on_the_page(app_client: TestClient, db: Database) -> None:
    _web_login(app_client, db, Role.ADMIN)
    page = app_client.get("/admin/alerts?lang=zh")
    assert page.status_code == 200, page.text
    assert "告警机器人" in page.text and "尚未配置机器人" in page.text
    data = {
        "csrf_token": _csrf(page.text),
        "kind": "dingtalk",
        "url": "https://oapi.dingtalk.com/robot/send?access_token=tok123",
        "secret": "SECpage",
        "teams": ["finance", "security"],
    }
    added = app_client.post("/admin/alerts", data=data, follow_redirects=False)
    assert added.status_code == 303 and "notice=done" in added.headers["location"]
    with db.write() as session:
        robot = session.query(AlertRobot).one()
        robot.last_error = "robot error 310000: sign not match"
        robot_id = robot.id
    shown = app_client.get("/admin/alerts?lang=en").text
    assert "Alert robots" in shown and "DingTalk" in shown and "signed" in shown
    assert "access_token=…" in shown and "tok123" not in shown and "SECpage" not in shown
    assert "robot error 310000: sign not match" in shown
    changed = app_client.post(
        f"/admin/alerts/{robot_id}",
        data={"csrf_token": _csrf(shown), "action": "teams", "teams": ["general"]},
        follow_redirects=False,
    )
    assert changed.status_code == 303 and "notice=done" in changed.headers["location"]
    bad = app_client.post(
        "/admin/alerts",
        data={"csrf_token": _csrf(shown), "kind": "wecom", "url": "https://h/x?key=k", "secret": "s"},
        follow_redirects=False,
    )
    assert "error=" in bad.headers["location"]
    removed = app_client.post(
        f"/admin/alerts/{robot_id}", data={"csrf_token": _csrf(shown), "action": "delete"}, follow_redirects=False
    )
    assert removed.status_code == 303
    with db.read() as session:
        assert session.query(AlertRobot).count() == 0


def test_the_page_is_for_admins(app_client: TestClient, db: Database) -> None:
    _web_login(app_client, db, Role.SUPERVISOR)
    assert app_client.get("/admin/alerts").status_code == 403
