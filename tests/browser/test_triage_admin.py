"""Triage in the browser: an admin tries a rule on recent tickets, saves it, and an agent
confirms a category that triage was unsure of."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conftest import LiveServer, browser_login
from huiying.kit.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.usefixtures("triage_on")]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_rule_is_tested_then_saved_then_used(page: Any, live_server: LiveServer) -> None:
    base = live_server.base_url
    old = httpx.post(f"{base}/api/v1/feedback", json={"description": "直播间的弹幕特效太卡了"}).json()["number"]
    browser_login(page, live_server, email="rules@example.com", role=Role.ADMIN)
    page.goto(f"{base}/admin/triage")
    page.locator("details:has(summary:text('新建规则'))").locator("summary").click()
    form = page.locator("form.rule-form").first
    form.locator("input[name=id]").fill("danmu")
    form.locator("input[name=name]").fill("弹幕 Bullet comments")
    form.locator("textarea[name=any_of]").fill("弹幕\ndanmaku")
    form.locator("select[name=category]").select_option("technical/stream-lag")
    form.locator("select[name=priority]").select_option("high")
    # A plain rule's priority only grades what a confident, calibrated model leaves open; this
    # one is meant to decide, so it overrides the model.
    form.locator("input[name=override_model]").check()
    form.locator("button[value=test]").click()
    page.wait_for_selector("#rule-test")
    assert old in page.inner_text("#rule-test")
    assert "technical/stream-lag" in page.inner_text("#rule-test")
    page.locator("form.rule-form").first.locator("button[value=save]").click()
    page.wait_for_url("**notice=done")
    assert "danmu" in page.inner_text("body")

    new = httpx.post(f"{base}/api/v1/feedback", json={"description": "一开弹幕就掉帧"}).json()["number"]
    ticket = httpx.get(f"{base}/api/v1/tickets/{new}", headers=live_server.admin_headers).json()
    assert (ticket["subcategory"], ticket["priority"]) == ("stream-lag", "high")
    assert "danmu" in " ".join(ticket["triage"]["rules"])


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_agent_confirms_an_unsure_category(page: Any, live_server: LiveServer) -> None:
    base = live_server.base_url
    number = httpx.post(f"{base}/api/v1/feedback", json={"description": "qwrt zxcv 嗯嗯 ……"}).json()["number"]
    browser_login(page, live_server, email="duty@example.com", role=Role.AGENT)
    page.goto(f"{base}/tickets?queue=needs_refinement")
    page.locator(f"tr.row[data-number='{number}'] td.num a").click()
    assert "智能分类依据" in page.inner_text("#triage-why")
    page.click("#confirm-category")
    page.wait_for_url("**notice=saved")
    assert page.locator("#confirm-category").count() == 0
    page.goto(f"{base}/tickets?queue=needs_refinement")
    assert page.locator(f"tr.row[data-number='{number}']").count() == 0
