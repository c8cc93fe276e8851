"""Privacy leaks and illegal content reach legal/security at once; freezes are audited."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import pytest
from fastapi.testclient import TestClient

from conftest import StaffLogin, login
from helpers import feedback, submit
from huiying.config import get_settings
from huiying.db import Database
from huiying.kit.roles import Role
from huiying.moderation import compliance
from huiying.worker.runner import run_due


class Robot(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Robot.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"errcode":0}')

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def robot(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """A real HTTP server standing in for a WeCom / DingTalk / Feishu robot."""
    server = HTTPServer(("127.0.0.1", 0), Robot)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Robot.received = []
    url = f"http://127.0.0.1:{server.server_port}/hook"
    monkeypatch.setenv("HUIYING_COMPLIANCE_WEBHOOK_URL", url)
    get_settings.cache_clear()
    compliance.configure(webhook_url=url)  # the app of this test may be made before this fixture
    yield Robot.received
    server.shutdown()
    get_settings.cache_clear()
    compliance.configure(webhook_url=None)


def test_a_privacy_leak_goes_to_security_urgent_within_two_hours(
    app_client: TestClient, admin: StaffLogin, db: Database, robot: list[dict[str, Any]]
) -> None:
    body = feedback(
        category="content",
        subcategory="privacy-leak",
        description="有人把我的照片和电话发到了动态里",
    )
    number = submit(app_client, body)["number"]
    ticket = app_client.get(f"/api/v1/tickets/{number}", headers=admin.headers).json()
    assert ticket["team"] == "security"
    assert ticket["priority"] == "urgent"
    assert "compliance" in ticket["tags"]
    assert ticket["escalation_level"] >= 1
    due = datetime.fromisoformat(ticket["resolution_due"])
    created = datetime.fromisoformat(ticket["created_at"])
    assert timedelta(hours=1, minutes=59) < due - created <= timedelta(hours=2, seconds=5)

    assert run_due(db) == 1
    assert len(robot) == 1 and number in json.dumps(robot[0], ensure_ascii=False)
    actions = [
        e["action"]
        for e in app_client.get(f"/api/v1/tickets/{number}/timeline", headers=admin.headers).json()["events"]
    ]
    assert "compliance_escalated" in actions and "compliance_alert_sent" in actions


def test_tagging_illegal_content_later_escalates_once(app_client: TestClient, admin: StaffLogin, db: Database) -> None:
    number = submit(app_client)["number"]
    app_client.patch(f"/api/v1/tickets/{number}", json={"tags": ["illegal-content"]}, headers=admin.headers)
    app_client.patch(
        f"/api/v1/tickets/{number}",
        json={"tags": ["illegal-content", "compliance", "again"]},
        headers=admin.headers,
    )
    events = app_client.get(f"/api/v1/tickets/{number}/timeline", headers=admin.headers).json()["events"]
    assert [e["action"] for e in events].count("compliance_escalated") == 1


def test_ordinary_feedback_is_not_escalated(app_client: TestClient, admin: StaffLogin) -> None:
    number = submit(app_client)["number"]
    ticket = app_client.get(f"/api/v1/tickets/{number}", headers=admin.headers).json()
    # Routing gives it its category's team; compliance leaves it there and adds nothing.
    assert ticket["team"] != "security" and ticket["priority"] != "urgent"
    assert "compliance" not in ticket["tags"]


def test_freeze_and_lift_are_audited(app_client: TestClient, db: Database, admin: StaffLogin) -> None:
    senior = login(app_client, db, email="sec@example.com", role=Role.SENIOR, teams=["security"])
    number = submit(app_client, feedback(category="content", subcategory="illegal-content"))["number"]
    frozen = app_client.post(
        "/api/v1/moderation/freezes",
        json={
            "target_type": "account",
            "target_id": "u999",
            "reason": "出售违禁品",
            "ticket": number,
        },
        headers=senior.headers,
    )
    assert frozen.status_code == 201, frozen.text
    assert frozen.json()["active"] is True and frozen.json()["ticket"] == number
    again = app_client.post(
        "/api/v1/moderation/freezes",
        json={"target_type": "account", "target_id": "u999", "reason": "x"},
        headers=senior.headers,
    )
    assert again.status_code == 409
    active = app_client.get("/api/v1/moderation/freezes", headers=senior.headers).json()
    assert [f["target_id"] for f in active] == ["u999"]
    lifted = app_client.post(
        f"/api/v1/moderation/freezes/{frozen.json()['id']}/lift",
        json={"reason": "误判"},
        headers=senior.headers,
    )
    assert lifted.json()["active"] is False
    assert app_client.get("/api/v1/moderation/freezes", headers=senior.headers).json() == []

    auditor = login(app_client, db, email="a@example.com", role=Role.AUDITOR)
    actions = [e["action"] for e in app_client.get("/api/v1/audit", headers=auditor.headers).json()["items"]]
    assert "moderation.frozen" in actions and "moderation.lifted" in actions
    timeline = app_client.get(f"/api/v1/tickets/{number}/timeline", headers=admin.headers).json()["events"]
    assert "target_frozen" in [e["action"] for e in timeline]


def test_escalation_changes_due_and_level_through_the_ticket_service(app_client: TestClient, admin: StaffLogin) -> None:
    """Like every other change, the new due time and level are field changes on the timeline (by
    the service, which records and publishes them), not columns set behind its back."""
    body = feedback(category="content", subcategory="privacy-leak", description="我的身份证照片被人发出来了")
    number = submit(app_client, body)["number"]
    ticket = app_client.get(f"/api/v1/tickets/{number}", headers=admin.headers).json()
    events = app_client.get(f"/api/v1/tickets/{number}/timeline", headers=admin.headers).json()["events"]
    changed = {e["field"]: e for e in events if e["action"] == "field_changed"}
    assert changed["escalation_level"]["old"] == "0" and changed["escalation_level"]["new"] == "1"
    due = changed["resolution_due"]
    assert due["actor_type"] == "system"
    assert datetime.fromisoformat(due["new"]) == datetime.fromisoformat(ticket["resolution_due"])
