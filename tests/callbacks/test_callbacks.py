"""Hotline calls and the call-back list (issue 21, SPEC.md §5): every phone ticket gets a
call-back due 48 hours after it was received, agents log calls on the caller's ticket (found by
the number's digest, never stored in clear) and record the call-back's outcome."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import PASSWORD, StaffLogin, admin_browser
from helpers import feedback, submit
from huiying.accounts import service as accounts
from huiying.app import create_app
from huiying.callbacks import service
from huiying.callbacks.models import CallLog
from huiying.config import Settings
from huiying.db import Database
from huiying.kit.clock import frozen
from huiying.kit.roles import Role
from huiying.tickets import repository

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Shanghai
PHONE = "13812345678"


def _hotline(client: TestClient, admin: StaffLogin, **overrides: Any) -> str:
    body = feedback(channel="hotline", user_id=None, contact=overrides.pop("contact", "13900001111"), **overrides)
    return str(submit(client, body, **admin.headers)["number"])


def _callbacks(client: TestClient, admin: StaffLogin, query: str = "") -> list[dict[str, Any]]:
    answer = client.get(f"/api/v1/callbacks{query}", headers=admin.headers)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def _actions(client: TestClient, admin: StaffLogin, number: str) -> list[dict[str, Any]]:
    answer = client.get(f"/api/v1/tickets/{number}/timeline", headers=admin.headers)
    return list(answer.json()["events"])


def _call(client: TestClient, admin: StaffLogin, **body: Any) -> Any:
    payload = {"caller": PHONE, "duration_seconds": 185, "summary": "用户来电询问退款进度", **body}
    return client.post("/api/v1/calls", json=payload, headers=admin.headers)


def test_a_hotline_ticket_gets_a_call_back_due_48_hours_after_it_was_received(
    app_client: TestClient, admin: StaffLogin
) -> None:
    assert _callbacks(app_client, admin) == []
    with frozen(T0):
        number = _hotline(app_client, admin)
        submit(app_client, feedback(channel="app"), **admin.headers)  # not a phone ticket: no call-back

    with frozen(T0 + timedelta(hours=1)):
        items = _callbacks(app_client, admin)
    assert items == [{"ticket": number, "due_at": "2026-03-04T02:00:00Z", "overdue": False, "outcome": None}]


@pytest.fixture
def working_hours_client(settings: Settings, db: Database) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"callback_working_hours": True}), db)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client
    finally:
        service.configure(working_hours=False)


def test_with_working_hours_the_48_hours_count_on_the_working_calendar(
    working_hours_client: TestClient, db: Database
) -> None:
    client = working_hours_client
    with db.write() as session:
        accounts.create_user(session, email="wh@example.com", password=PASSWORD, role=Role.ADMIN, team_slugs=[])
    token = client.post("/api/v1/auth/token", json={"email": "wh@example.com", "password": PASSWORD}).json()
    admin = StaffLogin(email="wh@example.com", token=token["access_token"])
    # Friday 6 March 2026, 17:00 in Shanghai: one working hour that day, then 7.5 h a working day
    # (9:00–12:00, 13:30–18:00) make 47 h by Tuesday 17 March, 11:00.
    with frozen(datetime(2026, 3, 6, 9, 0, tzinfo=UTC)):
        number = _hotline(client, admin)
    [item] = _callbacks(client, admin)
    assert item["ticket"] == number
    assert datetime.fromisoformat(item["due_at"]) == datetime(2026, 3, 17, 3, 0, tzinfo=UTC)


def test_the_list_is_sorted_by_due_time_with_overdue_ones_flagged(app_client: TestClient, admin: StaffLogin) -> None:
    with frozen(T0 + timedelta(hours=30)):
        later = _hotline(app_client, admin, contact="13900002222")
    with frozen(T0):
        sooner = _hotline(app_client, admin, contact="13900003333")

    with frozen(T0 + timedelta(hours=49)):
        items = _callbacks(app_client, admin)
    assert [(i["ticket"], i["overdue"]) for i in items] == [(sooner, True), (later, False)]
    with frozen(T0 + timedelta(hours=47)):
        assert [i["overdue"] for i in _callbacks(app_client, admin)] == [False, False]


def test_a_call_from_a_known_number_lands_on_that_callers_ticket_never_in_clear(
    app_client: TestClient, admin: StaffLogin, db: Database
) -> None:
    number = submit(app_client, feedback(contact=PHONE), **admin.headers)["number"]
    submit(app_client, feedback(contact="13700009999"), **admin.headers)  # somebody else's

    answer = _call(
        app_client,
        admin,
        caller="+86 138-1234-5678",
        summary=f"用户说可以回拨 {PHONE}",
        recording_url="https://pbx.example.com/rec/1.mp3",
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["ticket"] == number and answer.json()["created"] is False

    messages = app_client.get(f"/api/v1/tickets/{number}/messages", headers=admin.headers).json()
    assert messages[-1]["kind"] == "note" and "138****5678" in messages[-1]["body"]
    assert PHONE not in messages[-1]["body"]
    assert "call_logged" in [e["action"] for e in _actions(app_client, admin, number)]
    with db.read() as session:
        [call] = session.scalars(select(CallLog)).all()
        columns = {c.key: getattr(call, c.key) for c in CallLog.__mapper__.column_attrs}
    assert columns["caller_masked"] == "138****5678" and columns["duration_seconds"] == 185
    assert all(PHONE not in str(value) for value in columns.values()), columns
    # An app ticket is no phone ticket: logging a call on it adds no call-back.
    assert _callbacks(app_client, admin) == []


def test_an_unknown_number_makes_a_new_hotline_ticket_with_its_call_back(
    app_client: TestClient, admin: StaffLogin, db: Database
) -> None:
    with frozen(T0):
        answer = _call(app_client, admin, caller="13600001234")
    assert answer.status_code == 201, answer.text
    number, created = answer.json()["ticket"], answer.json()["created"]
    assert created is True
    ticket = app_client.get(f"/api/v1/tickets/{number}", headers=admin.headers).json()
    assert ticket["channel"] == "hotline" and ticket["description"] == "用户来电询问退款进度"
    assert [(i["ticket"], i["due_at"][:16]) for i in _callbacks(app_client, admin)] == [(number, "2026-03-04T02:00")]
    assert "call_logged" in [e["action"] for e in _actions(app_client, admin, number)]

    # The next call from the same number goes on that ticket.
    again = _call(app_client, admin, caller="136 0000 1234", summary="再次来电")
    assert again.json() == {**again.json(), "ticket": number, "created": False}


def test_not_reached_keeps_the_call_back_listed_reached_closes_it_on_the_timeline(
    app_client: TestClient, admin: StaffLogin, db: Database
) -> None:
    with frozen(T0):
        number = _hotline(app_client, admin)
    url = f"/api/v1/callbacks/{number}/outcome"

    with frozen(T0 + timedelta(hours=50)):
        missed = app_client.post(url, json={"outcome": "not_reached", "note": "无人接听"}, headers=admin.headers)
        assert missed.status_code == 200, missed.text
        assert missed.json()["attempts"] == 1 and missed.json()["done_at"] is None
        assert [(i["ticket"], i["overdue"], i["outcome"]) for i in _callbacks(app_client, admin)] == [
            (number, True, "not_reached")
        ]

        reached = app_client.post(url, json={"outcome": "reached", "verdict": "satisfied"}, headers=admin.headers)
    assert reached.status_code == 200, reached.text
    assert reached.json()["attempts"] == 2 and reached.json()["verdict"] == "satisfied"
    assert _callbacks(app_client, admin) == []
    assert [(i["ticket"], i["outcome"], i["overdue"]) for i in _callbacks(app_client, admin, "?all=1")] == [
        (number, "reached", False)
    ]
    done = [e for e in _actions(app_client, admin, number) if e["action"] == "callback_done"]
    assert [(e["data"]["outcome"], e["data"]["verdict"], e["data"]["on_time"]) for e in done] == [
        ("reached", "satisfied", False)
    ]
    # QA reads it for the "call-back made" item of the score.
    with db.read() as session:
        outcome = service.callback_outcome(session, repository.get_by_number(session, number))
    assert outcome is not None and outcome.verdict == "satisfied" and outcome.made_on_time is False
    again = app_client.post(url, json={"outcome": "reached"}, headers=admin.headers)
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("outcome", {"outcome": "maybe"}),
        ("outcome", {"outcome": "reached", "verdict": "thrilled"}),
        ("outcome", {"outcome": "not_reached", "verdict": "satisfied"}),
        ("outcome", {"outcome": "reached", "extra": 1}),
        ("calls", {"caller": "not a phone"}),
        ("calls", {"recording_url": "javascript:alert(1)"}),
        ("calls", {"recording_url": "file:///etc/passwd"}),
        ("calls", {"duration_seconds": -1}),
        ("calls", {"summary": "   "}),
    ],
)
def test_bad_input_is_refused_with_422(
    app_client: TestClient, admin: StaffLogin, path: str, body: dict[str, Any]
) -> None:
    number = _hotline(app_client, admin)
    if path == "outcome":
        answer = app_client.post(f"/api/v1/callbacks/{number}/outcome", json=body, headers=admin.headers)
    else:
        answer = _call(app_client, admin, **body)
    assert answer.status_code == 422, answer.text
    assert [i["attempts"] if "attempts" in i else i["outcome"] for i in _callbacks(app_client, admin)] == [None]


def test_unknown_tickets_answer_404(app_client: TestClient, admin: StaffLogin) -> None:
    app_ticket = submit(app_client, feedback(), **admin.headers)["number"]
    for number in ("HY-20990101-0001", app_ticket):
        answer = app_client.post(
            f"/api/v1/callbacks/{number}/outcome", json={"outcome": "reached"}, headers=admin.headers
        )
        assert answer.status_code == 404, answer.text
    assert _call(app_client, admin, ticket="HY-20990101-0001").status_code == 404


def _browser(client: TestClient, db: Database) -> tuple[TestClient, str]:
    """A logged-in admin's browser (cookies, no token) and its CSRF token."""
    browser = admin_browser(client, db)
    page = browser.get("/callbacks").text
    csrf = re.search(r'data-csrf="([^"]+)"', page)
    assert csrf
    return browser, csrf.group(1)


def test_the_page_lists_call_backs_in_both_languages_and_its_forms_work(
    app_client: TestClient, admin: StaffLogin, db: Database
) -> None:
    with frozen(T0):
        overdue = _hotline(app_client, admin, contact="13900004444")
    soon = _hotline(app_client, admin, contact="13900005555")
    browser, csrf = _browser(app_client, db)

    zh = browser.get("/callbacks?lang=zh").text
    assert "回访列表" in zh and "已逾期" in zh and 'href="/callbacks"' in zh
    assert zh.index(overdue) < zh.index(soon)
    assert re.search(rf'<tr class="callback overdue error" data-ticket="{overdue}">', zh)
    assert re.search(rf'<tr class="callback" data-ticket="{soon}">', zh)
    assert "139****4444" in zh and "13900004444" not in zh
    en = browser.get("/callbacks?lang=en").text
    assert "Call-back list" in en and "Overdue" in en and "Log a hotline call" in en

    done = browser.post(
        f"/callbacks/{overdue}/outcome",
        data={"csrf_token": csrf, "outcome": "reached", "verdict": "unsatisfied", "note": "已解释"},
        follow_redirects=True,
    )
    assert done.status_code == 200 and "The call-back was recorded" in done.text
    assert [i["ticket"] for i in _callbacks(app_client, admin)] == [soon]

    logged = browser.post(
        "/callbacks/calls",
        data={"csrf_token": csrf, "caller": "13500007777", "duration_seconds": "60", "summary": "网页登记的来电"},
        follow_redirects=True,
    )
    assert logged.status_code == 200 and "The call was logged on ticket" in logged.text
    assert len(_callbacks(app_client, admin)) == 2

    refused = browser.post(
        f"/callbacks/{soon}/outcome", data={"csrf_token": csrf, "outcome": "maybe"}, follow_redirects=True
    )
    assert refused.status_code == 200 and "Unknown call-back outcome" in refused.text
    assert browser.post(f"/callbacks/{soon}/outcome", data={"outcome": "reached"}).status_code == 403
