"""Routing through the product: intake routes by the rules, says why on the timeline, a person's
re-categorisation routes again, and admins edit the rules over HTTP (bad input is a JSON 4xx)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from conftest import StaffLogin
from helpers import feedback, submit
from huiying.db import Database
from huiying.tickets.models import Ticket


def _ticket(db: Database, number: str) -> dict[str, Any]:
    with db.read() as session:
        t = session.query(Ticket).filter_by(number=number).one()
        return {"team": t.team.slug if t.team else None, "sla_policy": t.sla_policy, "triage": t.triage, "tags": t.tags}


def test_intake_routes_by_the_rules_and_the_timeline_says_why(
    app_client: TestClient, db: Database, admin: StaffLogin
) -> None:
    plain = submit(app_client, feedback())  # technical / payment-failure
    vip = submit(app_client, feedback(vip=True, subcategory="crash"), Authorization=admin.headers["Authorization"])
    assert _ticket(db, plain["number"])["team"] == "tech-server"
    stored = _ticket(db, vip["number"])
    assert (stored["team"], stored["sla_policy"], "vip" in stored["tags"]) == ("vip-lane", "vip", True)
    events = app_client.get(f"/api/v1/tickets/{plain['number']}/timeline", headers=admin.headers).json()["events"]
    routed = [e for e in events if e["action"] == "routed"]
    assert len(routed) == 1, events
    words = routed[0]["data"]["rules"]
    assert [r["id"] for r in words] == ["tech-server"]
    assert (
        words[0]["zh"] == "规则「登录与支付 → 服务端组 / Login and payments → server group」：分派到 技术支持-服务端组"
    )
    assert "routed to Tech support-Server group" in words[0]["en"]
    assert _ticket(db, plain["number"])["triage"]["routing"]["rules"] == ["tech-server", "technical"]

    # A person re-categorises: the rules route it again; a team a person chose then stays.
    patched = app_client.patch(
        f"/api/v1/tickets/{plain['number']}",
        json={"category": "commercial", "subcategory": "refund"},
        headers=admin.headers,
    )
    assert patched.status_code == 200, patched.text
    assert _ticket(db, plain["number"])["team"] == "finance"
    app_client.patch(f"/api/v1/tickets/{plain['number']}", json={"team": "general"}, headers=admin.headers)
    app_client.patch(
        f"/api/v1/tickets/{plain['number']}", json={"category": "content", "subcategory": None}, headers=admin.headers
    )
    assert _ticket(db, plain["number"])["team"] == "general"


def test_admin_edits_rules_over_http(
    app_client: TestClient, db: Database, admin: StaffLogin, agent: StaffLogin
) -> None:
    base = "/api/v1/routing/rules"
    assert app_client.get(base, headers=agent.headers).status_code == 403
    listed = app_client.get(base, headers=admin.headers).json()["items"]
    assert [r["id"] for r in listed][:3] == ["vip-lane", "special-group", "urgent-senior"]

    submit(app_client, feedback(title="夜里直播间卡死", description="主播直播间一直卡"))
    draft = {"name": "卡死", "when": {"keywords": ["卡死"]}, "then": {"team": "tech-client", "tags": ["freeze"]}}
    tried = app_client.post(f"{base}/test", json=draft, headers=admin.headers).json()
    assert (tried["tried"], tried["matched"]) == (1, 1)
    assert tried["hits"][0]["would_set"] == {"team": "tech-client", "tags": ["freeze"]}

    for bad, code in (
        ({"id": "x", "name": "x", "then": {"team": "nowhere"}}, "unknown_team"),
        ({"id": "x", "name": "x", "when": {"local_time": "late"}, "then": {"team": "general"}}, "invalid_rule"),
        ({"id": "x", "name": "x", "then": {}}, "invalid_rule"),
        ({"id": "vip-lane", "name": "again", "then": {"team": "general"}}, "duplicate_rule"),
    ):
        answer = app_client.post(base, json=bad, headers=admin.headers)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == code

    created = app_client.post(base, json={"id": "freeze", **draft}, headers=admin.headers)
    assert created.status_code == 201, created.text
    assert created.json()["body"]["then"] == {"team": "tech-client", "tags": ["freeze"]}
    changed = app_client.patch(f"{base}/freeze", json={"enabled": False}, headers=admin.headers)
    assert changed.status_code == 200 and changed.json()["body"]["enabled"] is False
    assert app_client.patch(f"{base}/missing", json={"enabled": False}, headers=admin.headers).status_code == 404

    ids = [r["id"] for r in app_client.get(base, headers=admin.headers).json()["items"]]
    assert ids[-1] == "freeze"
    wrong = app_client.put(f"{base}/order", json={"ids": ids[:-1]}, headers=admin.headers)
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "invalid_order"
    order = ["freeze", *ids[:-1]]
    assert app_client.put(f"{base}/order", json={"ids": order}, headers=admin.headers).status_code == 200
    assert [r["id"] for r in app_client.get(base, headers=admin.headers).json()["items"]] == order
    assert app_client.delete(f"{base}/freeze", headers=admin.headers).status_code == 204
    assert "freeze" not in [r["id"] for r in app_client.get(base, headers=admin.headers).json()["items"]]
    audit = app_client.get("/api/v1/audit", headers=admin.headers)
    if audit.status_code == 200:
        actions = {e.get("action") for e in audit.json().get("items", [])}
        assert {"routing.rule_saved", "routing.rules_reordered", "routing.rule_deleted"} <= actions
