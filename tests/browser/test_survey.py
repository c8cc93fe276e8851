"""The satisfaction survey in a real browser: the user of a resolved ticket answers it from
their status page on a phone-sized screen — 不满意 with a comment — and the ticket goes back
to work, with the supervisor, the comment on the agent's timeline."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conftest import LiveServer
from huiying.accounts import service as accounts
from huiying.kit.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_the_user_answers_the_survey_and_a_low_score_reopens_the_ticket(page: Any, live_server: LiveServer) -> None:
    base, headers = live_server.base_url, live_server.admin_headers
    made = httpx.post(
        f"{base}/api/v1/feedback",
        json={
            "channel": "app",
            "user_id": "u4242",
            "description": "提现一直没有到账，已经三天了",
            "category": "commercial",
        },
        headers={"Idempotency-Key": "survey-browser-1"},
    )
    assert made.status_code == 201, made.text
    number = made.json()["number"]
    portal = base + "/portal/t/" + made.json()["portal_url"].rsplit("/portal/t/", 1)[1]
    team = httpx.get(f"{base}/api/v1/tickets/{number}", headers=headers).json()["team"]
    with live_server.db.write() as session:
        accounts.create_user(
            session,
            email="zhuguan@example.com",
            password="x" * 12,
            role=Role.SUPERVISOR,
            team_slugs=[team] if team else [],
        )
    resolved = httpx.post(f"{base}/api/v1/tickets/{number}/status", json={"status": "resolved"}, headers=headers)
    assert resolved.status_code == 200, resolved.text

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(portal)
    survey = page.locator("#survey")
    assert survey.is_visible() and "您对本次处理结果满意吗" in survey.inner_text()
    page.check("#survey input[name=csat][value=dissatisfied]")
    page.check("#survey input[name=nps][value='3']")
    page.fill("#survey textarea[name=comment]", "到现在还没到账，客服只会说在处理")
    page.click("#survey-send")
    page.wait_for_url("**notice=rated")
    assert "感谢您的评价" in page.inner_text("#flash")
    assert page.locator("#survey").count() == 0 and "您的评价：不满意" in page.inner_text("#survey-answer")
    assert "处理中" in page.inner_text("#portal-state")  # back to work

    ticket = httpx.get(f"{base}/api/v1/tickets/{number}", headers=headers).json()
    assert (ticket["status"], ticket["csat"], ticket["nps"]) == ("open", "dissatisfied", 3)
    if team:
        assert ticket["assignee"] == "zhuguan@example.com"
    events = httpx.get(f"{base}/api/v1/tickets/{number}/timeline", headers=headers).json()["events"]
    answered = [e for e in events if e["action"] == "survey_answered"]
    assert answered and answered[0]["data"]["comment"] == "到现在还没到账，客服只会说在处理"
