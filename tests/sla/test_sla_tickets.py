"""The SLA clock on real tickets, through the API: targets at intake, the pause while pending,
recomputing, the first and next response, a year the calendar lacks; the policy table."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import PASSWORD, StaffLogin
from helpers import feedback, submit
from huiying.db import Database
from huiying.jobs.models import OutboxJob
from huiying.kit.actor import Actor, ActorType
from huiying.kit.clock import frozen
from huiying.tickets import repository
from huiying.tickets import service as tickets
from huiying.tickets.models import TicketEvent

CST = timezone(timedelta(hours=8))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CST)


def moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _ticket(client: TestClient, admin: StaffLogin, number: str) -> dict[str, object]:
    answer = client.get(f"/api/v1/tickets/{number}", headers=admin.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def test_pending_pauses_the_clock_and_reopening_moves_the_targets(
    app_client: TestClient, admin: StaffLogin, db: Database
) -> None:
    with frozen(at("2026-12-01 09:00")):  # a Tuesday
        number = submit(app_client, feedback())["number"]
    before = _ticket(app_client, admin, number)
    assert before["sla_policy"] == "technical" and before["sla_paused"] is False and before["sla_note"] is None
    assert moment(before["first_response_due"]) == at("2026-12-01 14:30")  # type: ignore[arg-type]
    assert moment(before["resolution_due"]) == at("2026-12-03 18:00")  # type: ignore[arg-type]

    with frozen(at("2026-12-01 10:00")):
        paused = app_client.post(f"/api/v1/tickets/{number}/status", json={"status": "pending"}, headers=admin.headers)
        assert paused.status_code == 200, paused.text
    assert _ticket(app_client, admin, number)["sla_paused"] is True

    with frozen(at("2026-12-01 11:00")):
        resumed = app_client.post(f"/api/v1/tickets/{number}/status", json={"status": "open"}, headers=admin.headers)
        assert resumed.status_code == 200, resumed.text
    after = _ticket(app_client, admin, number)
    assert after["sla_paused"] is False
    # One business hour pending: both targets one business hour later.
    assert moment(after["first_response_due"]) == at("2026-12-01 15:30")  # type: ignore[arg-type]
    assert moment(after["resolution_due"]) == at("2026-12-04 10:00")  # type: ignore[arg-type]
    with db.read() as session:
        reasons = {
            (e.field, (e.data or {}).get("reason"))
            for e in session.scalars(select(TicketEvent).where(TicketEvent.field.is_not(None)))
        }
    assert {("sla_paused_at", "paused"), ("sla_paused_at", "resumed"), ("resolution_due", "resumed")} <= reasons


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_missing_calendar_year_leaves_due_null_says_why_and_alerts(
    app_client: TestClient, admin: StaffLogin, db: Database
) -> None:
    with frozen(at("2026-12-31 17:00")):  # 4 working hours reach into 2027, not loaded
        answer = app_client.post("/api/v1/feedback", json=feedback(), headers={"Idempotency-Key": "k-2027"})
    assert answer.status_code == 201, answer.text
    ticket = _ticket(app_client, admin, answer.json()["number"])
    assert ticket["first_response_due"] is None and ticket["resolution_due"] is None
    assert "2027" in str(ticket["sla_note"]) and "工作日历" in str(ticket["sla_note"])
    with db.read() as session:
        alerts = [j.payload for j in session.scalars(select(OutboxJob).where(OutboxJob.job == "staff_alert"))]
    assert [a["kind"] for a in alerts] == ["calendar_missing"]
    assert alerts[0]["user_ids"]  # the admins


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_priority_change_first_reply_and_follow_up(app_client: TestClient, admin: StaffLogin, db: Database) -> None:
    with frozen(at("2026-12-01 09:00")):
        number = submit(app_client, feedback(category="suggestion", subcategory="feature-request"))["number"]
    assert _ticket(app_client, admin, number)["sla_policy"] == "medium"
    with frozen(at("2026-12-01 09:30")):
        patched = app_client.patch(f"/api/v1/tickets/{number}", json={"priority": "urgent"}, headers=admin.headers)
        assert patched.status_code == 200, patched.text
    urgent = _ticket(app_client, admin, number)
    # Recomputed from receipt on the 24×7 calendar.
    assert urgent["sla_policy"] == "urgent"
    assert moment(urgent["first_response_due"]) == at("2026-12-01 09:10")  # type: ignore[arg-type]
    assert moment(urgent["resolution_due"]) == at("2026-12-01 11:00")  # type: ignore[arg-type]

    with frozen(at("2026-12-01 09:40")):
        reply = app_client.post(f"/api/v1/tickets/{number}/replies", json={"body": "正在处理"}, headers=admin.headers)
        assert reply.status_code in (200, 201), reply.text
    replied = _ticket(app_client, admin, number)
    assert moment(replied["first_responded_at"]) == at("2026-12-01 09:40")  # type: ignore[arg-type]
    assert replied["next_response_due"] is None

    user = Actor(type=ActorType.USER, name="u10001")
    with frozen(at("2026-12-01 10:00")), db.write() as session:
        ticket = repository.get_by_number(session, number, lock=True)
        tickets.add_user_message(session, ticket, body="还是不行", actor=user, settings=app_client.app.state.settings)  # type: ignore[attr-defined]
    assert moment(_ticket(app_client, admin, number)["next_response_due"]) == at("2026-12-01 10:30")  # type: ignore[arg-type]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_policies_api_admin_only_and_audited(
    app_client: TestClient, admin: StaffLogin, agent: StaffLogin, db: Database
) -> None:
    listed = app_client.get("/api/v1/sla/policies", headers=admin.headers)
    assert listed.status_code == 200
    slugs = [p["slug"] for p in listed.json()["items"]]
    assert slugs[0] == "urgent" and {"medium", "vip", "complaint", "content"} <= set(slugs)
    assert app_client.get("/api/v1/sla/policies", headers=agent.headers).status_code == 403

    body = {"slug": "tech-high", "name_zh": "技术高", "name_en": "Technical high", "priority": "high",
            "category": "technical", "first_response_minutes": 30, "resolution_minutes": 240}  # fmt: skip
    created = app_client.post("/api/v1/sla/policies", json=body, headers=admin.headers)
    assert created.status_code == 201, created.text
    assert app_client.post("/api/v1/sla/policies", json=body, headers=admin.headers).status_code == 409
    bad = app_client.patch(
        "/api/v1/sla/policies/tech-high", json={"first_response_minutes": 999}, headers=admin.headers
    )
    assert bad.status_code == 422
    changed = app_client.patch(
        "/api/v1/sla/policies/tech-high", json={"resolution_minutes": 300}, headers=admin.headers
    )
    assert changed.status_code == 200 and changed.json()["resolution_minutes"] == 300

    from huiying.audit.models import AuditEntry

    with db.read() as session:
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "sla_policy")))
    assert actions == ["sla_policy.created", "sla_policy.updated"]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_ticket_page_shows_breach_and_pause(app_client: TestClient, admin: StaffLogin, db: Database) -> None:
    with frozen(at("2026-12-01 09:00")):
        number = submit(app_client, feedback())["number"]
    form = app_client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token
    data = {"email": admin.email, "password": PASSWORD, "csrf_token": token.group(1)}
    assert app_client.post("/login", data=data, follow_redirects=False).status_code == 303
    with frozen(at("2026-12-01 10:00")):
        page = app_client.get(f"/tickets/{number}").text
    assert "sla-breached" not in page
    with frozen(at("2026-12-01 16:00")):  # the first response was due at 14:30
        page = app_client.get(f"/tickets/{number}").text
        assert page.count("sla-breached") == 1 and "已超时" in page
        moved = app_client.post(f"/api/v1/tickets/{number}/status", json={"status": "pending"}, headers=admin.headers)
        assert moved.status_code == 200
        page = app_client.get(f"/tickets/{number}").text
    assert 'id="sla-paused"' in page and "sla-breached" not in page


def test_reopening_restarts_the_resolution_clock(app_client: TestClient, admin: StaffLogin, db: Database) -> None:
    with frozen(at("2026-12-01 09:00")):  # a Tuesday: due Thursday 18:00 (3 working days)
        number = submit(app_client, feedback())["number"]
    with frozen(at("2026-12-01 10:00")):
        done = app_client.post(f"/api/v1/tickets/{number}/status", json={"status": "resolved"}, headers=admin.headers)
        assert done.status_code == 200, done.text
    with frozen(at("2026-12-01 20:00")):  # after hours: the new clock starts Wednesday 09:00
        again = app_client.post(f"/api/v1/tickets/{number}/status", json={"status": "open"}, headers=admin.headers)
        assert again.status_code == 200, again.text
    reopened = _ticket(app_client, admin, number)
    assert moment(reopened["resolution_due"]) == at("2026-12-04 18:00")  # type: ignore[arg-type]
    with db.read() as session:
        reasons = {(e.field, (e.data or {}).get("reason")) for e in session.scalars(select(TicketEvent))}
    assert ("resolution_due", "reopened") in reasons


def test_a_recomputation_keeps_the_time_spent_paused(app_client: TestClient, admin: StaffLogin) -> None:
    with frozen(at("2026-12-01 09:00")):  # a Tuesday
        number = submit(app_client, feedback())["number"]
    for when, status in (("2026-12-01 10:00", "pending"), ("2026-12-01 11:00", "open")):
        with frozen(at(when)):
            moved = app_client.post(f"/api/v1/tickets/{number}/status", json={"status": status}, headers=admin.headers)
            assert moved.status_code == 200, moved.text
    with frozen(at("2026-12-01 11:30")):  # a new sub-category, the same policy: targets counted again
        patched = app_client.patch(f"/api/v1/tickets/{number}", json={"subcategory": "crash"}, headers=admin.headers)
        assert patched.status_code == 200, patched.text
    after = _ticket(app_client, admin, number)
    assert after["sla_policy"] == "technical"
    # Still one business hour later than without the pause, as right after it.
    assert moment(after["first_response_due"]) == at("2026-12-01 15:30")  # type: ignore[arg-type]
    assert moment(after["resolution_due"]) == at("2026-12-04 10:00")  # type: ignore[arg-type]
