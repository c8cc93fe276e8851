"""Scoring a ticket on the QA form (issue: QA sampling; SPEC.md §7), on both back ends: the
criteria make the 0-100 score, a phone ticket's call-back item starts from its call-back's
outcome, scoring a sampled ticket marks the sample done, the scores per agent and week, who may
read them, and the two pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from qa_helpers import IN_WEEK, NEXT_WEEK, WEEK, browser_of, handled, staff

from conftest import StaffLogin
from helpers import feedback, submit
from huiying.db import Database
from huiying.kit.clock import frozen, utcnow
from huiying.kit.roles import Role
from huiying.quality import samples, sampling

FORM = {"accuracy": 5, "tone": 4, "timeliness": 4, "process": 3}


def _review(client: TestClient, qa: StaffLogin, number: str, body: dict[str, Any]) -> Any:
    return client.post(f"/api/v1/tickets/{number}/qa-reviews", json=body, headers=qa.headers)


def _phone(client: TestClient, admin: StaffLogin, agent: StaffLogin, contact: str) -> str:
    return handled(client, admin, agent, channel="hotline", user_id=None, contact=contact)


def _call_back(client: TestClient, admin: StaffLogin, number: str, *, outcome: str, after_hours: int) -> None:
    with frozen(IN_WEEK + timedelta(hours=after_hours)):
        answer = client.post(f"/api/v1/callbacks/{number}/outcome", json={"outcome": outcome}, headers=admin.headers)
    assert answer.status_code == 200, answer.text


def test_the_criteria_make_the_score_and_a_plain_score_still_works(
    app_client: TestClient, admin: StaffLogin, db: Database
) -> None:
    qa = staff(app_client, db, Role.QA, "qa1")
    ann = staff(app_client, db, Role.AGENT, "ann")
    number = handled(app_client, admin, ann)

    answer = _review(app_client, qa, number, {**FORM, "comment": "解释清楚"})
    assert answer.status_code == 201, answer.text
    assert {k: answer.json()[k] for k in ("score", "accuracy", "tone", "timeliness", "process", "callback")} == {
        "score": 75,  # (4 + 3 + 3 + 2) / 16 of 100
        **FORM,
        "callback": None,  # not a phone ticket
    }
    plain = _review(app_client, qa, number, {"score": 88})
    assert (plain.status_code, plain.json()["score"], plain.json()["accuracy"]) == (201, 88, None)
    both = _review(app_client, qa, number, {**FORM, "score": 60})
    assert both.json()["score"] == 60  # a score given wins
    listed = app_client.get(f"/api/v1/tickets/{number}/qa-reviews", headers=qa.headers).json()
    assert [r["score"] for r in listed] == [75, 88, 60]
    events = app_client.get(f"/api/v1/tickets/{number}/timeline", headers=admin.headers).json()["events"]
    first = next(e for e in events if e["action"] == "qa_reviewed")
    assert first["data"] == {"score": 75, "review": listed[0]["id"], **FORM}


@pytest.mark.parametrize(
    "body",
    [
        {"accuracy": 5, "tone": 4},  # half a form
        {**FORM, "accuracy": 6},
        {**FORM, "callback": 0},
        {"score": 101},
        {"comment": "只有评语"},
        {**FORM, "extra": 1},
    ],
)
def test_a_bad_form_is_a_422_and_stores_nothing(
    app_client: TestClient, admin: StaffLogin, db: Database, body: dict[str, Any]
) -> None:
    qa = staff(app_client, db, Role.QA, "qa1")
    number = handled(app_client, admin, staff(app_client, db, Role.AGENT, "ann"))
    answer = _review(app_client, qa, number, body)
    assert answer.status_code == 422 and "error" in answer.json(), answer.text
    assert app_client.get(f"/api/v1/tickets/{number}/qa-reviews", headers=qa.headers).json() == []


def test_a_phone_tickets_call_back_item_starts_from_its_call_back(
    app_client: TestClient, admin: StaffLogin, db: Database
) -> None:
    qa = staff(app_client, db, Role.QA, "qa1")
    ann = staff(app_client, db, Role.AGENT, "ann")
    on_time = _phone(app_client, admin, ann, "13900000001")
    late = _phone(app_client, admin, ann, "13900000002")
    missed = _phone(app_client, admin, ann, "13900000003")
    changed = _phone(app_client, admin, ann, "13900000004")
    _call_back(app_client, admin, on_time, outcome="reached", after_hours=3)
    _call_back(app_client, admin, late, outcome="reached", after_hours=50)  # due after 48 hours
    _call_back(app_client, admin, missed, outcome="not_reached", after_hours=3)
    _call_back(app_client, admin, changed, outcome="reached", after_hours=3)

    items = {n: _review(app_client, qa, n, FORM).json()["callback"] for n in (on_time, late, missed)}
    assert items == {on_time: 5, late: 3, missed: 1}
    assert _review(app_client, qa, changed, {**FORM, "callback": 2}).json()["callback"] == 2  # QA may change it
    cleared = _review(app_client, qa, changed, {**FORM, "callback": None}).json()
    assert (cleared["callback"], cleared["score"]) == (None, 75)
    # 5, 4, 4, 3 and the call-back's 5: (4 + 3 + 3 + 2 + 4) / 20 of 100
    assert _review(app_client, qa, on_time, FORM).json()["score"] == 80


def test_scoring_a_sampled_ticket_marks_its_sample_done(
    app_client: TestClient, admin: StaffLogin, db: Database
) -> None:
    qa = staff(app_client, db, Role.QA, "qa1")
    number = handled(app_client, admin, staff(app_client, db, Role.AGENT, "ann"))
    assert app_client.post("/api/v1/qa/samples", json={"week": WEEK}, headers=qa.headers).json()["created"] == 1

    def mine() -> list[tuple[str, bool, int | None]]:
        listed = app_client.get("/api/v1/qa/samples", params={"week": WEEK, "mine": 1}, headers=qa.headers)
        return [(i["ticket"], i["scored"], i["score"]) for i in listed.json()["items"]]

    assert mine() == [(number, False, None)]
    assert _review(app_client, qa, number, FORM).status_code == 201
    assert mine() == [(number, True, 75)]


def test_the_report_gives_each_agents_scores_per_week(app_client: TestClient, admin: StaffLogin, db: Database) -> None:
    qa = staff(app_client, db, Role.QA, "qa1")
    ann, bob = staff(app_client, db, Role.AGENT, "ann"), staff(app_client, db, Role.AGENT, "bob")
    anns = [handled(app_client, admin, ann) for _ in range(2)]
    bobs = handled(app_client, admin, bob)
    unsampled = handled(app_client, admin, ann, at=NEXT_WEEK)
    assert app_client.post("/api/v1/qa/samples", json={"week": WEEK}, headers=qa.headers).json()["created"] == 3
    _review(app_client, qa, anns[0], {"accuracy": 5, "tone": 5, "timeliness": 5, "process": 5})  # 100
    _review(app_client, qa, anns[1], {"accuracy": 3, "tone": 3, "timeliness": 3, "process": 3})  # 50
    _review(app_client, qa, unsampled, {"score": 80})  # no sample: counts in the week it was made
    _review(app_client, qa, bobs, {"score": 60})
    now_week = sampling.week_of(utcnow(), samples.local_zone())

    answer = app_client.get("/api/v1/reports/qa", params={"weeks": 52}, headers=qa.headers)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert len(report["weeks"]) == 52 and report["weeks"][-1] == now_week and WEEK in report["weeks"]
    rows = {(r["agent"], r["week"]): r for r in report["items"]}
    assert set(rows) == {(ann.email, WEEK), (ann.email, now_week), (bob.email, WEEK)}
    sampled_week = rows[(ann.email, WEEK)]
    assert (sampled_week["reviews"], sampled_week["score"], sampled_week["accuracy"]) == (2, 75.0, 4.0)
    assert (sampled_week["process"], sampled_week["callback"]) == (4.0, None)
    assert (rows[(ann.email, now_week)]["score"], rows[(ann.email, now_week)]["accuracy"]) == (80.0, None)
    totals = {r["agent"]: r for r in report["agents"]}
    assert (totals[ann.email]["reviews"], totals[ann.email]["score"], totals[ann.email]["tone"]) == (3, 76.7, 4.0)
    assert (totals[bob.email]["reviews"], totals[bob.email]["score"]) == (1, 60.0)
    # A window that ends before the sampled week's reviews were made leaves them out.
    recent = app_client.get("/api/v1/reports/qa", params={"weeks": 1}, headers=qa.headers).json()
    assert [(r["agent"], r["week"]) for r in recent["items"]] == [(ann.email, now_week)]


def test_only_qa_supervisors_and_admins_read_qa_figures(
    app_client: TestClient, admin: StaffLogin, db: Database
) -> None:
    agent = staff(app_client, db, Role.AGENT, "ann")
    auditor = staff(app_client, db, Role.AUDITOR, "aud")
    lead = staff(app_client, db, Role.SUPERVISOR, "lead")
    number = handled(app_client, admin, agent)
    for who in (agent, auditor):
        assert app_client.get("/api/v1/reports/qa", headers=who.headers).status_code == 403
        assert app_client.get("/api/v1/qa/samples", headers=who.headers).status_code == 403
    assert _review(app_client, agent, number, FORM).status_code == 403
    assert _review(app_client, lead, number, FORM).status_code == 403  # supervisors read, QA scores
    assert app_client.get("/api/v1/reports/qa", headers=lead.headers).status_code == 200
    assert app_client.get("/api/v1/reports/qa", params={"weeks": 0}, headers=lead.headers).status_code == 422


def test_the_qa_queue_and_report_pages(app_client: TestClient, admin: StaffLogin, db: Database) -> None:
    qa = staff(app_client, db, Role.QA, "qa1")
    ann = staff(app_client, db, Role.AGENT, "ann")
    # This week's: the queue shows this week and last.
    phone = submit(app_client, feedback(channel="hotline", user_id=None, contact="13900000009"), **admin.headers)
    number = phone["number"]
    app_client.patch(
        f"/api/v1/tickets/{number}", json={"team": "tech-support", "assignee": ann.email}, headers=admin.headers
    )
    app_client.post(f"/api/v1/callbacks/{number}/outcome", json={"outcome": "reached"}, headers=admin.headers)
    app_client.post(f"/api/v1/tickets/{number}/status", json={"status": "resolved"}, headers=admin.headers)
    week = sampling.week_of(utcnow(), samples.local_zone())
    assert app_client.post("/api/v1/qa/samples", json={"week": week}, headers=qa.headers).json()["created"] == 1

    browser, csrf = browser_of(app_client, qa)
    zh = browser.get("/qa?lang=zh").text
    assert "质检队列" in zh and 'href="/qa"' in zh and 'href="/reports/qa"' in zh
    assert f'data-ticket="{number}"' in zh and f'href="/tickets/{number}"' in zh
    callback_select = zh.split('name="callback"', 1)[1].split("</select>", 1)[0]
    assert '<option value="5" selected>' in callback_select  # reached on time
    assert "QA queue" in browser.get("/qa?lang=en").text

    refused = browser.post(f"/qa/{number}/review", data={"csrf_token": csrf, **FORM, "accuracy": "9"})
    assert refused.status_code == 200 and "flash-error" in refused.text
    assert browser.post(f"/qa/{number}/review", data=FORM).status_code == 403  # no CSRF token
    saved = browser.post(
        f"/qa/{number}/review",
        data={"csrf_token": csrf, **FORM, "callback": "5", "comment": "好"},
        follow_redirects=False,
    )
    assert (saved.status_code, saved.headers["location"]) == (303, "/qa?done=scored")
    page = browser.get("/qa").text
    assert 'class="sample scored"' in page and '<strong class="qa-score">80</strong>' in page

    report = browser.get("/reports/qa?lang=en").text
    assert "QA scores" in report and f'data-agent="{ann.email}"' in report and "80.0" in report
    agent_browser, _ = browser_of(app_client, ann)
    assert agent_browser.get("/qa").status_code == 403
    assert agent_browser.get("/reports/qa").status_code == 403
