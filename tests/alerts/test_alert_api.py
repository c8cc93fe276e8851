"""The robots API: admins only, bad input refused with a 4xx, the secret never echoed, audited."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alert_robot_server import RobotServer, serve
from fastapi.testclient import TestClient

from conftest import StaffLogin, login
from helpers import feedback, submit
from huiying.db import Database
from huiying.kit.roles import Role
from huiying.worker.runner import run_due

ROBOTS = "/api/v1/alerts/robots"


def test_admins_manage_robots_and_never_see_a_secret(app_client: TestClient, admin: StaffLogin, db: Database) -> None:
    assert app_client.get(ROBOTS, headers=admin.headers).json() == {"items": []}
    body = {
        "kind": "dingtalk",
        "url": "http://10.0.0.5:8080/robot/send?access_token=abc",  # internal gateways are allowed
        "secret": "SECverysecret",
        "teams": ["tech-support", "finance"],
    }
    created = app_client.post(ROBOTS, json=body, headers=admin.headers)
    assert created.status_code == 201, created.text
    robot = created.json()
    assert "SECverysecret" not in created.text and "secret" not in robot
    assert robot["has_secret"] is True and robot["teams"] == ["finance", "tech-support"]
    assert robot["url"] == body["url"] and robot["last_error"] is None and robot["pending"] == 0

    listed = app_client.get(ROBOTS, headers=admin.headers)
    assert "SECverysecret" not in listed.text
    assert [r["id"] for r in listed.json()["items"]] == [robot["id"]]

    patched = app_client.patch(
        f"{ROBOTS}/{robot['id']}", json={"teams": ["security"], "secret": ""}, headers=admin.headers
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["teams"] == ["security"] and patched.json()["has_secret"] is False

    assert app_client.delete(f"{ROBOTS}/{robot['id']}", headers=admin.headers).status_code == 204
    assert app_client.get(ROBOTS, headers=admin.headers).json() == {"items": []}
    assert app_client.delete(f"{ROBOTS}/{robot['id']}", headers=admin.headers).status_code == 404

    auditor = login(app_client, db, email="auditor@example.com", role=Role.AUDITOR)
    entries = app_client.get("/api/v1/audit", headers=auditor.headers).json()["items"]
    actions = [e["action"] for e in entries]
    assert {"alerts.robot_created", "alerts.robot_updated", "alerts.robot_deleted"} <= set(actions)
    assert "SECverysecret" not in str(entries) and "access_token=abc" not in str(entries)


def test_only_admins_may_touch_robots(app_client: TestClient, db: Database) -> None:
    supervisor = login(app_client, db, email="sup@example.com", role=Role.SUPERVISOR, teams=["finance"])
    assert app_client.get(ROBOTS, headers=supervisor.headers).status_code == 403
    body = {"kind": "wecom", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", "teams": []}
    assert app_client.post(ROBOTS, json=body, headers=supervisor.headers).status_code == 403
    assert app_client.get(ROBOTS).status_code == 401


def test_bad_robots_are_refused(app_client: TestClient, admin: StaffLogin) -> None:
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"
    bad = [
        {"kind": "slack", "url": url, "teams": []},
        {"kind": "wecom", "url": "ftp://example.com/x", "teams": []},
        {"kind": "wecom", "url": "not a url at all", "teams": []},
        {"kind": "wecom", "url": url, "secret": "s", "teams": []},  # WeCom has no secret
        {"kind": "wecom", "url": url, "teams": ["no-such-team"]},
        {"kind": "wecom", "url": url, "teams": [], "extra": 1},
        {"kind": "feishu", "teams": []},
    ]
    for body in bad:
        response = app_client.post(ROBOTS, json=body, headers=admin.headers)
        assert 400 <= response.status_code < 500 and response.status_code != 404, (body, response.text)
    assert app_client.get(ROBOTS, headers=admin.headers).json() == {"items": []}
    assert app_client.patch(f"{ROBOTS}/999", json={"teams": []}, headers=admin.headers).status_code == 404


@pytest.fixture
def robot_server() -> Iterator[RobotServer]:
    yield from serve()


def test_a_compliance_escalation_reaches_the_legal_teams_robot(
    app_client: TestClient, admin: StaffLogin, db: Database, robot_server: RobotServer
) -> None:
    body = {"kind": "wecom", "url": f"{robot_server.base}/wecom?key=legal", "teams": ["security"]}
    robot = app_client.post(ROBOTS, json=body, headers=admin.headers).json()
    number = submit(app_client, feedback(category="content", subcategory="privacy-leak"))["number"]
    while run_due(db) > 0:
        pass
    assert len(robot_server.received) == 1 and not robot_server.received[0].problems
    text = robot_server.texts()[0]
    assert number in text and "合规上报" in text and "legal/security" in text
    shown = app_client.get(ROBOTS, headers=admin.headers).json()["items"][0]
    assert shown["id"] == robot["id"] and shown["last_sent_at"] is not None and shown["pending"] == 0
