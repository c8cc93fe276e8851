"""The satisfaction survey (surveys package), on both back ends: answered once per resolved
ticket by its signed link, shown in the ticket JSON; a low answer reopens the ticket for the
team's supervisor with the comment on the timeline; CSAT and NPS summed per agent, team,
category and channel for supervisors and QA, refused to agents; the portal form."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import StaffLogin, admin_page, login
from helpers import feedback, submit
from huiying.accounts import service as accounts
from huiying.db import Database
from huiying.kit.roles import Role
from huiying.surveys.models import SurveyResponse

SUPERVISOR = "lead@example.com"


def _resolved(client: TestClient, admin: StaffLogin, **overrides: Any) -> tuple[str, str]:
    """A resolved ticket's number and its portal token."""
    made = submit(client, feedback(**overrides))
    number, token = made["number"], made["portal_url"].rsplit("/", 1)[1]
    answer = client.post(f"/api/v1/tickets/{number}/status", json={"status": "resolved"}, headers=admin.headers)
    assert answer.status_code == 200, answer.text
    return number, token


def _ticket(client: TestClient, admin: StaffLogin, number: str) -> dict[str, Any]:
    return dict(client.get(f"/api/v1/tickets/{number}", headers=admin.headers).json())


def _actions(client: TestClient, admin: StaffLogin, number: str) -> list[dict[str, Any]]:
    return list(client.get(f"/api/v1/tickets/{number}/timeline", headers=admin.headers).json()["events"])


def test_a_resolved_ticket_is_rated_once_and_the_ticket_says_so(app_client: TestClient, admin: StaffLogin) -> None:
    number, token = _resolved(app_client, admin)
    assert (_ticket(app_client, admin, number)["csat"], _ticket(app_client, admin, number)["nps"]) == (None, None)
    answer = app_client.post(f"/api/v1/surveys/{token}", json={"csat": "very_satisfied", "nps": 10, "comment": "很快"})
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"number": number, "csat": "very_satisfied", "nps": 10, "second_handling": False}
    ticket = _ticket(app_client, admin, number)
    assert (ticket["csat"], ticket["nps"], ticket["status"]) == ("very_satisfied", 10, "resolved")
    listed = app_client.get("/api/v1/tickets", params={"status": "resolved"}, headers=admin.headers).json()["items"]
    assert [(t["csat"], t["nps"]) for t in listed if t["number"] == number] == [("very_satisfied", 10)]
    again = app_client.post(f"/api/v1/surveys/{token}", json={"csat": "dissatisfied"})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "survey_answered")  # the first answer stands
    assert _ticket(app_client, admin, number)["csat"] == "very_satisfied"
    (event,) = [e for e in _actions(app_client, admin, number) if e["action"] == "survey_answered"]
    assert event["data"] == {"csat": "very_satisfied", "nps": 10, "comment": "很快", "low": False}


def test_bad_answers_and_unresolved_tickets_are_refused(app_client: TestClient, admin: StaffLogin) -> None:
    made = submit(app_client, feedback())
    token = made["portal_url"].rsplit("/", 1)[1]
    early = app_client.post(f"/api/v1/surveys/{token}", json={"csat": "satisfied"})
    assert (early.status_code, early.json()["error"]["code"]) == (409, "survey_not_open")
    _, resolved = _resolved(app_client, admin)
    for body in ({"csat": "great"}, {"csat": "satisfied", "nps": 11}, {"csat": "satisfied", "nps": -1}, {}, "x"):
        answer = app_client.post(f"/api/v1/surveys/{resolved}", json=body)
        assert answer.status_code == 422, (body, answer.text)
    assert app_client.post("/api/v1/surveys/not-a-token", json={"csat": "satisfied"}).status_code == 404


def test_a_low_answer_reopens_the_ticket_for_the_supervisor_with_the_comment(
    app_client: TestClient, admin: StaffLogin, db: Database
) -> None:
    number, token = _resolved(app_client, admin)
    team = _ticket(app_client, admin, number)["team"]
    assert team is not None  # the default routing gave it a team
    with db.write() as session:
        accounts.create_user(session, email=SUPERVISOR, password="x" * 12, role=Role.SUPERVISOR, team_slugs=[team])
    answer = app_client.post(f"/api/v1/surveys/{token}", json={"csat": "neutral", "nps": 8, "comment": "退款太慢了"})
    assert answer.status_code == 201 and answer.json()["second_handling"] is True
    ticket = _ticket(app_client, admin, number)
    assert (ticket["status"], ticket["assignee"], ticket["csat"]) == ("open", SUPERVISOR, "neutral")
    assert "second_handling" in ticket["tags"] and ticket["reopen_count"] == 1
    events = _actions(app_client, admin, number)
    (reopened,) = [e for e in events if e["action"] == "status_changed" and e["new"] == "open"]
    assert "退款太慢了" in str(reopened["data"])  # the user's words on the timeline, where it reopened
    assert [e["data"]["supervisor"] for e in events if e["action"] == "survey_second_handling"] == [SUPERVISOR]


def test_satisfied_but_a_detractor_is_low_and_a_promoter_is_not(app_client: TestClient, admin: StaffLogin) -> None:
    detractor, token = _resolved(app_client, admin)
    assert app_client.post(f"/api/v1/surveys/{token}", json={"csat": "satisfied", "nps": 6}).json()["second_handling"]
    assert _ticket(app_client, admin, detractor)["status"] == "open"
    promoter, token = _resolved(app_client, admin)
    answer = app_client.post(f"/api/v1/surveys/{token}", json={"csat": "satisfied", "nps": 7})
    assert answer.json()["second_handling"] is False and _ticket(app_client, admin, promoter)["status"] == "resolved"


def test_csat_and_nps_per_agent_team_category_and_channel(
    app_client: TestClient, admin: StaffLogin, db: Database
) -> None:
    answers = [
        ({"channel": "app"}, {"csat": "very_satisfied", "nps": 10}),
        ({"channel": "app"}, {"csat": "satisfied", "nps": 9}),
        ({"channel": "web"}, {"csat": "dissatisfied", "nps": 2}),
        ({"channel": "web"}, {"csat": "satisfied"}),
    ]
    for overrides, body in answers:
        _, token = _resolved(app_client, admin, **overrides)
        assert app_client.post(f"/api/v1/surveys/{token}", json=body).status_code == 201
    by_channel = app_client.get("/api/v1/reports/satisfaction", params={"by": "channel"}, headers=admin.headers)
    assert by_channel.status_code == 200, by_channel.text
    rows = {r["key"]: r for r in by_channel.json()["items"]}
    assert (rows["app"]["responses"], rows["app"]["csat"], rows["app"]["mean"], rows["app"]["nps"]) == (
        2,
        1.0,
        3.5,
        100.0,
    )
    # web: one satisfied of two; NPS from the one answer that gave it, a detractor.
    assert (rows["web"]["csat"], rows["web"]["mean"], rows["web"]["nps"], rows["web"]["nps_responses"]) == (
        0.5,
        2.0,
        -100.0,
        1,
    )
    by_category = app_client.get(
        "/api/v1/reports/satisfaction", params={"by": "category"}, headers=admin.headers
    ).json()
    assert [(r["key"], r["responses"]) for r in by_category["items"]] == [("technical", 4)]
    for by in ("agent", "team"):
        answer = app_client.get("/api/v1/reports/satisfaction", params={"by": by}, headers=admin.headers)
        assert answer.status_code == 200 and sum(r["responses"] for r in answer.json()["items"]) == 4
    assert (
        app_client.get("/api/v1/reports/satisfaction", params={"by": "city"}, headers=admin.headers).status_code == 422
    )
    agent = login(app_client, db, email="agent.one@example.com", role=Role.AGENT)
    assert app_client.get("/api/v1/reports/satisfaction", headers=agent.headers).status_code == 403
    qa = login(app_client, db, email="qa.one@example.com", role=Role.QA)
    assert app_client.get("/api/v1/reports/satisfaction", headers=qa.headers).status_code == 200
    page = admin_page(app_client, db, "/reports/satisfaction?lang=zh")
    assert "满意度与 NPS" in page and re.search(r'<tr data-key="app">.*?100%.*?\+100', page, re.S)
    assert "Satisfaction and NPS" in admin_page(app_client, db, "/reports/satisfaction?lang=en")


def test_the_portal_page_asks_and_then_shows_the_answer(app_client: TestClient, admin: StaffLogin) -> None:
    number, token = _resolved(app_client, admin)
    browser = TestClient(app_client.app)
    page = browser.get(f"/portal/t/{token}?lang=zh").text
    assert 'id="survey"' in page and "非常满意" in page and "不满意" in page
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf
    data = {"csat": "satisfied", "nps": "9", "comment": "谢谢", "csrf_token": csrf.group(1)}
    answer = browser.post(f"/portal/t/{token}/survey", data=data, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].endswith("notice=rated")
    after = browser.get(f"/portal/t/{token}?lang=zh").text
    assert 'id="survey"' not in after and "您的评价：满意" in after and "NPS 9" in after
    again = browser.post(f"/portal/t/{token}/survey", data=data, follow_redirects=False)
    assert "error=" in again.headers["location"]
    assert _ticket(app_client, admin, number)["csat"] == "satisfied"


def test_a_data_subject_request_exports_and_erases_the_survey_comment(
    app_client: TestClient, admin: StaffLogin, db: Database
) -> None:
    number, token = _resolved(app_client, admin, user_id="u-dsr-1")
    body = {"csat": "satisfied", "nps": 9, "comment": "打我电话 13912345678"}
    assert app_client.post(f"/api/v1/surveys/{token}", json=body).status_code == 201
    exported = app_client.post("/api/v1/privacy/export", json={"user_id": "u-dsr-1"}, headers=admin.headers).json()
    assert [(s["ticket"], s["comment"]) for s in exported["surveys"]] == [(number, "打我电话 13912345678")]
    erased = app_client.post("/api/v1/privacy/erase", json={"user_id": "u-dsr-1"}, headers=admin.headers)
    assert erased.status_code == 200, erased.text
    with db.read() as session:
        (comment,) = session.scalars(select(SurveyResponse.comment)).all()
    assert comment is None  # the score still counts; what they wrote is gone
    figures = app_client.get("/api/v1/reports/satisfaction", params={"by": "channel"}, headers=admin.headers).json()
    assert sum(r["responses"] for r in figures["items"]) == 1
