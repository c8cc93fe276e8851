"""The workspace in the browser: queues, search, shortcuts, bulk actions, live updates, admin."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conftest import LiveServer, browser_login
from huiying.kit.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _create(live_server: LiveServer, **fields: Any) -> str:
    body = {"description": "默认描述", **fields}
    answer = httpx.post(f"{live_server.base_url}/api/v1/feedback", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["number"])


def test_search_shortcuts_and_bulk_assign(page: Any, live_server: LiveServer) -> None:
    numbers = [_create(live_server, description=f"直播间卡顿 第{i}次") for i in range(3)]
    other = _create(live_server, description="退款一直没到账")
    browser_login(page, live_server, email="agent@example.com", role=Role.AGENT)
    # Search in Chinese, through the "/" shortcut.
    page.keyboard.press("/")
    page.keyboard.type("卡顿")
    page.keyboard.press("Enter")
    page.wait_for_url("**q=*")
    listed = page.locator("tr.row").evaluate_all("rows => rows.map(r => r.dataset.number)")
    assert sorted(listed) == sorted(numbers) and other not in listed
    # j/j/x selects the second row; o opens the current row.
    page.locator("body").click()
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("x")
    assert page.locator("tr.row.current input[type=checkbox]").is_checked()
    page.locator("tr.row").first.locator("input[type=checkbox]").check()
    page.select_option("#bulk select[name=action]", "assign_me")
    page.click("#bulk .bulkbar button")
    page.wait_for_url("**notice=bulk*")
    assert "已更新 2 个工单" in page.inner_text("#flash")
    page.goto(f"{live_server.base_url}/tickets?queue=mine")
    mine = page.locator("tr.row").evaluate_all("rows => rows.map(r => r.dataset.number)")
    assert len(mine) == 2 and set(mine) <= set(numbers)
    page.keyboard.press("j")
    page.keyboard.press("o")
    page.wait_for_url("**/tickets/HY*")
    page.keyboard.press("n")
    assert page.evaluate("document.activeElement.id") == "reply-body"
    assert page.locator("#internal").is_checked()


def test_a_new_ticket_appears_without_reload(page: Any, live_server: LiveServer) -> None:
    browser_login(page, live_server, email="watcher@example.com", role=Role.AGENT)
    banner = page.locator("#live-banner")
    assert banner.is_hidden()
    page.wait_for_timeout(500)  # let the event stream connect
    _create(live_server, description="新的反馈：App闪退")
    banner.wait_for(state="visible", timeout=10_000)
    banner.locator("a").click()
    page.wait_for_load_state()
    assert "App闪退" in page.inner_text("table.tickets")


def test_a_colleagues_reply_reloads_an_open_ticket(page: Any, live_server: LiveServer) -> None:
    number = _create(live_server, description="等待同事处理")
    browser_login(page, live_server, email="viewer@example.com", role=Role.AGENT)
    page.goto(f"{live_server.base_url}/tickets/{number}")
    page.wait_for_timeout(500)
    httpx.post(
        f"{live_server.base_url}/api/v1/tickets/{number}/replies",
        json={"body": "同事已经回复了用户"},
        headers=live_server.admin_headers,
    )
    page.get_by_text("同事已经回复了用户").wait_for(timeout=10_000)


def test_admin_edits_macros_categories_teams_and_staff(page: Any, live_server: LiveServer) -> None:
    base = live_server.base_url
    browser_login(page, live_server, email="boss@example.com", role=Role.ADMIN)
    page.goto(f"{base}/admin/macros")
    page.fill("#new-macro input[name=name]", "物流查询")
    page.fill("#new-macro textarea[name=body]", "{{ user_name }}您好，工单 {{ number }} 的物流信息已更新。")
    page.click("#new-macro button[type=submit]")
    page.wait_for_url("**notice=done")
    page.fill("#new-macro input[name=name]", "坏变量")
    page.fill("#new-macro textarea[name=body]", "{{ nonsense }}")
    page.click("#new-macro button[type=submit]")
    assert "nonsense" in page.inner_text("#flash")

    page.goto(f"{base}/admin/categories")
    page.select_option("#new-category select[name=parent]", "commercial")
    page.fill("#new-category input[name=slug]", "coupon")
    page.fill("#new-category input[name=name_zh]", "优惠券")
    page.fill("#new-category input[name=name_en]", "Coupons")
    page.click("#new-category button[type=submit]")
    page.wait_for_url("**notice=done")
    assert "优惠券" in page.content()

    page.goto(f"{base}/admin/teams")
    page.fill("#new-team input[name=slug]", "vip-care")
    page.fill("#new-team input[name=name_zh]", "VIP专属")
    page.fill("#new-team input[name=name_en]", "VIP care")
    page.click("#new-team button[type=submit]")
    page.wait_for_url("**notice=done")

    page.goto(f"{base}/admin/staff")
    page.fill("#new-staff input[name=email]", "new.agent@example.com")
    page.fill("#new-staff input[name=display_name]", "新同事")
    page.select_option("#new-staff select[name=role]", "agent")
    page.select_option("#new-staff select[name=teams]", ["vip-care"])
    page.fill("#new-staff input[name=password]", "a good long password")
    page.click("#new-staff button[type=submit]")
    page.wait_for_url("**notice=done")
    assert "new.agent@example.com" in page.content()

    # The new sub-category and macro are usable at once.
    number = _create(live_server, description="优惠券用不了", category="commercial", subcategory="coupon")
    page.goto(f"{base}/tickets/{number}")
    page.select_option("#macro", label="物流查询")
    assert number in page.input_value("#reply-body")


def test_roles_see_only_their_pages(page: Any, live_server: LiveServer) -> None:
    browser_login(page, live_server, email="plain@example.com", role=Role.AGENT)
    assert page.locator("nav a[href='/admin']").count() == 0
    answer = page.goto(f"{live_server.base_url}/admin/staff")
    assert answer is not None and answer.status == 403
    answer = page.goto(f"{live_server.base_url}/audit")
    assert answer is not None and answer.status == 403


def test_english_and_a_phone_screen(page: Any, live_server: LiveServer) -> None:
    _create(live_server, description="phone check")
    browser_login(page, live_server, email="mobile@example.com", role=Role.AGENT)
    page.goto(f"{live_server.base_url}/tickets?lang=en")
    assert "My tickets" in page.inner_text("aside.queues")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.base_url}/tickets")
    assert "My tickets" in page.inner_text("aside.queues")  # the choice is remembered
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"the list overflows a phone screen: {width}px"
