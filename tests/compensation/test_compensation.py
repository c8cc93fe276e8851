"""Compensation on tickets through the API and the ticket page: an agent proposes, a supervisor
or admin decides (never their own proposal; a refund above the limit only an admin), each step on
the timeline and in the audit log; bad input is a 4xx, never a 500; the report counts approved
compensation per category. On SQLite and PostgreSQL; time is injected (`kit.clock.frozen`)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import PASSWORD, StaffLogin, login
from helpers import feedback, submit
from huiying.accounts import service as accounts
from huiying.audit.models import AuditEntry
from huiying.compensation import words
from huiying.db import Database
from huiying.kit.clock import frozen, utcnow
from huiying.kit.roles import Role

TEAM = "tech-support"


@pytest.fixture
def people(app_client: TestClient, db: Database, admin: StaffLogin) -> dict[str, StaffLogin]:
    return {
        "agent": login(app_client, db, email="agent.comp@example.com", role=Role.AGENT, teams=[TEAM]),
        "supervisor": login(app_client, db, email="lead.comp@example.com", role=Role.SUPERVISOR, teams=[TEAM]),
        "supervisor2": login(app_client, db, email="lead2.comp@example.com", role=Role.SUPERVISOR, teams=[TEAM]),
        "admin": admin,
    }


def _ticket(client: TestClient, admin: StaffLogin, *, category: str = "technical", team: str | None = TEAM) -> str:
    number = str(
        submit(client, feedback(category=category, subcategory=None, description=f"问题 {uuid.uuid4()}"))["number"]
    )
    moved = client.patch(f"/api/v1/tickets/{number}", json={"team": team}, headers=admin.headers)
    assert moved.status_code == 200, moved.text
    return number


def _propose(client: TestClient, who: StaffLogin, number: str, **body: Any) -> Any:
    answer = client.post(f"/api/v1/tickets/{number}/compensations", json=body, headers=who.headers)
    assert answer.status_code == 201, answer.text
    return answer.json()


def _decide(client: TestClient, who: StaffLogin, comp_id: int, approve: bool) -> Any:
    return client.post(f"/api/v1/compensations/{comp_id}/decision", json={"approve": approve}, headers=who.headers)


def _actions(client: TestClient, who: StaffLogin, number: str) -> list[str]:
    timeline = client.get(f"/api/v1/tickets/{number}/timeline", headers=who.headers).json()
    return [e["action"] for e in timeline["events"]]


def test_propose_then_approve_is_on_the_timeline_and_in_the_audit_log(
    app_client: TestClient, db: Database, people: dict[str, StaffLogin]
) -> None:
    number = _ticket(app_client, people["admin"])
    assert app_client.get(f"/api/v1/tickets/{number}/compensations", headers=people["agent"].headers).json() == []
    made = _propose(app_client, people["agent"], number, kind="coupon", amount="20", note="支付失败的补偿")
    assert (made["status"], made["amount"], made["unit"], made["proposed_by"]) == (
        "proposed",
        "20.00",
        "CNY",
        "agent.comp@example.com",
    )
    assert (made["text_zh"], made["text_en"]) == ("优惠券 20 元", "a coupon worth CNY 20")
    decided = _decide(app_client, people["supervisor"], made["id"], True)
    assert decided.status_code == 200, decided.text
    assert (decided.json()["status"], decided.json()["approved_by"]) == ("approved", "lead.comp@example.com")
    assert decided.json()["decided_at"] is not None
    listed = app_client.get(f"/api/v1/tickets/{number}/compensations", headers=people["agent"].headers).json()
    assert [(c["id"], c["status"]) for c in listed] == [(made["id"], "approved")]
    actions = _actions(app_client, people["admin"], number)
    assert actions.count("compensation_proposed") == 1 and actions.count("compensation_approved") == 1
    with db.read() as session:
        audited = set(session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == number)))
    assert {"ticket.compensation_proposed", "ticket.compensation_approved"} <= audited


def test_an_agent_cannot_decide_and_nobody_approves_their_own_proposal(
    app_client: TestClient, people: dict[str, StaffLogin]
) -> None:
    number = _ticket(app_client, people["admin"])
    by_agent = _propose(app_client, people["agent"], number, kind="points", amount=500)
    answer = _decide(app_client, people["agent"], by_agent["id"], True)
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "forbidden", answer.text

    own = _propose(app_client, people["supervisor"], number, kind="membership_days", amount=7)
    answer = _decide(app_client, people["supervisor"], own["id"], True)
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "own_proposal", answer.text
    assert _decide(app_client, people["supervisor2"], own["id"], True).status_code == 200
    # Decided once: a second decision either way is a conflict, the first one stands.
    again = _decide(app_client, people["supervisor2"], own["id"], False)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_decided"
    assert _decide(app_client, people["agent"], by_agent["id"], False).status_code == 403  # nor reject
    # Withdrawing one's own proposal is no approval: a supervisor may reject their own.
    withdrawn = _propose(app_client, people["supervisor"], number, kind="other", amount=1, note="小礼品")
    assert _decide(app_client, people["supervisor"], withdrawn["id"], False).json()["status"] == "rejected"


def test_a_refund_above_the_limit_needs_an_admin(app_client: TestClient, people: dict[str, StaffLogin]) -> None:
    number = _ticket(app_client, people["admin"])
    at_limit = _propose(app_client, people["agent"], number, kind="refund", amount="200.00")
    assert _decide(app_client, people["supervisor"], at_limit["id"], True).status_code == 200
    big = _propose(app_client, people["agent"], number, kind="refund", amount="200.01")
    answer = _decide(app_client, people["supervisor"], big["id"], True)
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "needs_admin", answer.text
    # A supervisor may still turn it down; here the admin approves it.
    assert _decide(app_client, people["admin"], big["id"], True).json()["status"] == "approved"
    # A big coupon is no refund: a supervisor approves it.
    coupon = _propose(app_client, people["agent"], number, kind="coupon", amount=500)
    assert _decide(app_client, people["supervisor"], coupon["id"], True).status_code == 200


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"kind": "coupon", "amount": -5}, 422),
        ({"kind": "coupon", "amount": 0}, 422),
        ({"kind": "voucher", "amount": 5}, 422),
        ({"kind": "coupon", "amount": "1.001"}, 422),
        ({"kind": "coupon", "amount": "abc"}, 422),
        ({"kind": "coupon", "amount": "12345678901.00"}, 422),
        ({"kind": "points", "amount": "10.5"}, 422),
        ({"kind": "refund", "amount": 5, "unit": "points"}, 422),
        ({"kind": "coupon", "amount": 5, "note": "长" * 501}, 422),
        ({"kind": "coupon", "amount": 5, "extra": 1}, 422),
        ({"kind": "coupon"}, 422),
    ],
    ids=[
        "negative",
        "zero",
        "unknown-kind",
        "three-decimals",
        "text",
        "too-big",
        "half-point",
        "unit",
        "note",
        "extra",
        "no-amount",
    ],
)
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_bad_input_is_refused_with_a_4xx(
    app_client: TestClient, people: dict[str, StaffLogin], body: dict[str, Any], code: int
) -> None:
    number = _ticket(app_client, people["admin"])
    answer = app_client.post(f"/api/v1/tickets/{number}/compensations", json=body, headers=people["agent"].headers)
    assert answer.status_code == code, answer.text
    assert app_client.get(f"/api/v1/tickets/{number}/compensations", headers=people["agent"].headers).json() == []


def test_bad_decisions_and_report_queries_are_4xx(app_client: TestClient, people: dict[str, StaffLogin]) -> None:
    number = _ticket(app_client, people["admin"])
    made = _propose(app_client, people["agent"], number, kind="coupon", amount=5)
    sup = people["supervisor"]
    not_bool = app_client.post(
        f"/api/v1/compensations/{made['id']}/decision", json={"approve": "yes"}, headers=sup.headers
    )
    assert not_bool.status_code == 422
    assert _decide(app_client, sup, 999_999, True).status_code == 404
    other_team = _ticket(app_client, people["admin"], team="finance")
    hidden = _propose(app_client, people["admin"], other_team, kind="coupon", amount=5)
    assert _decide(app_client, sup, hidden["id"], True).status_code == 404  # not their team's ticket
    assert app_client.get(f"/api/v1/tickets/{other_team}/compensations", headers=sup.headers).status_code == 404
    report = "/api/v1/reports/compensation"
    assert app_client.get(f"{report}?since=2026-12-01T00:00:00", headers=sup.headers).status_code == 422
    assert app_client.get(f"{report}?since=yesterday", headers=sup.headers).status_code == 422
    backwards = "?since=2026-12-02T00:00:00%2B08:00&until=2026-12-01T00:00:00%2B08:00"
    assert app_client.get(report + backwards, headers=sup.headers).status_code == 422
    assert app_client.get(report, headers=people["agent"].headers).status_code == 403
    # Closed tickets take no more compensation.
    for status in ("open", "resolved", "closed"):
        app_client.post(f"/api/v1/tickets/{number}/status", json={"status": status}, headers=people["admin"].headers)
    late = app_client.post(
        f"/api/v1/tickets/{number}/compensations", json={"kind": "coupon", "amount": 5}, headers=people["agent"].headers
    )
    assert late.status_code == 409 and late.json()["error"]["code"] == "ticket_not_live"


def test_the_report_counts_approved_compensation_per_category(
    app_client: TestClient, people: dict[str, StaffLogin]
) -> None:
    admin, sup, agent = people["admin"], people["supervisor"], people["agent"]
    start = utcnow() - timedelta(days=2)
    with frozen(start):
        payment = _ticket(app_client, admin, category="technical")
        payment2 = _ticket(app_client, admin, category="technical")
        account = _ticket(app_client, admin, category="commercial")
        for number, kind, amount in (
            (payment, "coupon", "20"),
            (payment, "refund", "49.90"),
            (payment2, "coupon", "10"),
            (payment2, "points", "300"),
            (account, "membership_days", "7"),
        ):
            assert (
                _decide(
                    app_client, sup, _propose(app_client, agent, number, kind=kind, amount=amount)["id"], True
                ).status_code
                == 200
            )
        rejected = _propose(app_client, agent, account, kind="refund", amount="99")
        assert _decide(app_client, sup, rejected["id"], False).status_code == 200
        _propose(app_client, agent, account, kind="coupon", amount="15")  # still proposed: not counted
    # Approved now, two days later: outside the window asked for below, inside the default one.
    late = _propose(app_client, agent, account, kind="coupon", amount="5")
    assert _decide(app_client, sup, late["id"], True).status_code == 200

    window = {"since": (start - timedelta(hours=1)).isoformat(), "until": (start + timedelta(hours=1)).isoformat()}
    answer = app_client.get("/api/v1/reports/compensation", params=window, headers=admin.headers)
    assert answer.status_code == 200, answer.text
    items = {i["category"]: i for i in answer.json()["items"]}
    assert set(items) == {"technical", "commercial"}
    assert (items["technical"]["count"], items["technical"]["tickets"]) == (4, 2)
    assert {u: Decimal(v) for u, v in items["technical"]["sums"].items()} == {
        "CNY": Decimal("79.90"),
        "points": Decimal("300"),
    }
    assert (items["commercial"]["count"], items["commercial"]["tickets"]) == (1, 1)
    assert {u: Decimal(v) for u, v in items["commercial"]["sums"].items()} == {"days": Decimal("7")}
    # The default window (the last 30 days up to now) counts the later one too.
    everything = app_client.get("/api/v1/reports/compensation", headers=sup.headers).json()
    assert {i["category"]: i["count"] for i in everything["items"]} == {"technical": 4, "commercial": 2}


@pytest.mark.parametrize(
    ("kind", "amount", "unit", "note", "zh", "en"),
    [
        ("coupon", "20.00", "CNY", "", "优惠券 20 元", "a coupon worth CNY 20"),
        ("refund", "49.90", "CNY", "", "退款 49.90 元", "a refund of CNY 49.90"),
        ("points", "500", "points", "", "500 积分", "500 points"),
        ("membership_days", "7", "days", "", "会员 7 天", "7 days of membership"),
        ("other", "1", "CNY", "纪念品", "纪念品（1 元）", "纪念品 (CNY 1)"),
        ("other", "3", "days", "", "其他补偿（3 天）", "other compensation (3 days)"),
    ],
)
def test_compensation_in_words(kind: str, amount: str, unit: str, note: str, zh: str, en: str) -> None:
    value = Decimal(amount)
    assert words.phrase(kind=kind, amount=value, unit=unit, note=note, language="zh-CN") == zh
    assert words.phrase(kind=kind, amount=value, unit=unit, note=note, language="en") == en


# --- the ticket page -------------------------------------------------------------------------


def _browser(client: TestClient, db: Database, *, email: str, role: Role) -> tuple[TestClient, str]:
    """A logged-in browser of its own (cookies) and its CSRF token."""
    browser = TestClient(client.app)
    with db.write() as session:
        accounts.create_user(session, email=email, password=PASSWORD, role=role, team_slugs=[TEAM])
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/login").text)
    assert token
    answer = browser.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)})
    assert answer.status_code == 200, answer.text
    return browser, token.group(1)


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_the_ticket_page_shows_the_card_and_its_forms_work(
    app_client: TestClient, db: Database, admin: StaffLogin
) -> None:
    number = _ticket(app_client, admin)
    agent, _ = _browser(app_client, db, email="page.agent@example.com", role=Role.AGENT)
    lead, _ = _browser(app_client, db, email="page.lead@example.com", role=Role.SUPERVISOR)

    page = agent.get(f"/tickets/{number}").text
    assert 'id="compensation"' in page and "暂无补偿" in page and 'id="compensation-form"' in page
    sent = agent.post(
        f"/tickets/{number}/compensations",
        data={"csrf_token": _csrf(page), "kind": "coupon", "amount": "20", "unit": "", "note": ""},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and "error" not in sent.headers["location"], sent.headers
    bad = agent.post(
        f"/tickets/{number}/compensations",
        data={"csrf_token": _csrf(page), "kind": "coupon", "amount": "-1"},
        follow_redirects=True,
    )
    assert "数额须大于 0" in bad.text

    page = agent.get(f"/tickets/{number}").text
    assert "优惠券 20 元" in page and "待审批" in page
    assert "/decision" not in page  # an agent sees no approve or reject button

    page = lead.get(f"/tickets/{number}").text
    (comp_id,) = re.findall(r"/compensations/(\d+)/decision", page)[:1]
    assert page.count(f"/compensations/{comp_id}/decision") == 2  # approve and reject
    decided = lead.post(
        f"/tickets/{number}/compensations/{comp_id}/decision",
        data={"csrf_token": _csrf(page), "approve": "1"},
        follow_redirects=True,
    )
    assert decided.status_code == 200 and "已批准" in decided.text
    assert "提出了补偿申请" in decided.text and "批准了补偿" in decided.text  # the timeline

    english = lead.get(f"/tickets/{number}?lang=en").text
    assert "Compensation" in english and "a coupon worth CNY 20" in english and "Approved" in english
    assert "/decision" not in english  # decided: no buttons left

    # The lead's own proposal: no approve button, only reject, and a hint why.
    page = lead.get(f"/tickets/{number}").text
    lead.post(
        f"/tickets/{number}/compensations",
        data={"csrf_token": _csrf(page), "kind": "points", "amount": "100"},
        follow_redirects=False,
    )
    page = lead.get(f"/tickets/{number}").text
    # (In English now: ?lang=en is kept in a cookie.)
    assert "Your own proposal is approved by someone else" in page
    assert page.count('name="approve" value="1"') == 0 and page.count('name="approve" value="0"') == 1
