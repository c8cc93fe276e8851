"""Issue 18 in the browser: a ticket routed by the default rules and handed out by round robin
reaches its agent, who sees why it is there and when it is due, accepts it, escalates it, and
steps away from new work."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from conftest import LiveServer, browser_login
from huiying.accounts import teams
from huiying.accounts.models import User
from huiying.assignment import service as assignment
from huiying.kit.actor import SYSTEM
from huiying.kit.roles import Role
from huiying.tickets.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_routed_assigned_accepted_escalated_and_away(page: Any, live_server: LiveServer) -> None:
    browser_login(page, live_server, email="client.agent@example.com", role=Role.AGENT, teams=["tech-client"])
    with live_server.db.write() as session:
        team = teams.team_by_slug(session, "tech-client")
        assignment.configure_team(session, team, changes={"assignment_mode": "round_robin"}, actor=SYSTEM)
    body = {"description": "更新以后一打开消息页面就闪退", "category": "technical", "subcategory": "crash"}
    answer = httpx.post(f"{live_server.base_url}/api/v1/feedback", json=body)
    assert answer.status_code == 201, answer.text
    number = answer.json()["number"]

    page.goto(f"{live_server.base_url}/tickets/{number}")
    page.click("#timeline summary")
    timeline = page.inner_text("#timeline")
    assert "规则「" in timeline and "客户端" in timeline  # why it is here: the rule and the team, in words
    due = page.locator("dt:has-text('首次响应截止') + dd").inner_text()
    assert re.fullmatch(r"\d\d-\d\d \d\d:\d\d", due.strip()), due  # a due time on the calendar, not "—"
    page.click("#accept")
    page.wait_for_selector("#accepted")
    assert "已确认接收" in page.inner_text("#accepted")
    assert page.locator("#accept").count() == 0

    page.fill("#escalate-form input[name=reason]", "用户反复闪退，需要资深处理")
    page.click("#escalate-form button[type=submit]")
    page.wait_for_url(f"**/tickets/{number}*")
    with live_server.db.read() as session:
        stored = session.query(Ticket).filter(Ticket.number == number).one()
        # Level 1 is a senior of the team; with none, the ticket goes back to the team's pool.
        assert (stored.escalation_level, stored.assignee_id, stored.accepted_at) == (1, None, None)

    page.click("#availability button[value=away]")
    page.wait_for_selector("#availability button[value=away][aria-pressed=true]")
    with live_server.db.read() as session:
        agent = session.query(User).filter(User.email == "client.agent@example.com").one()
        assert agent.availability == "away"
