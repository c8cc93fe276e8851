"""The public pages on a 390 px phone screen: nothing scrolls sideways (long links wrap)."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PHONE = {"width": 390, "height": 844}


def _scroll_width(page: Any) -> int:
    return int(page.evaluate("document.scrollingElement.scrollWidth"))


def test_the_submitted_page_and_the_portal_fit_a_phone(page: Any, live_server: LiveServer) -> None:
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.base_url}/feedback")
    assert _scroll_width(page) <= PHONE["width"], "the feedback form scrolls sideways"
    page.fill("textarea[name=description]", "充值会员时提示支付失败，但是钱已经扣了")
    page.click("form button[type=submit]")
    page.wait_for_url("**/feedback/done*")
    link = page.locator("#status-link")
    assert len(link.inner_text()) > 60  # the signed portal link: one long word
    width = _scroll_width(page)
    assert width <= PHONE["width"], f"the submitted page scrolls sideways: {width}px"
    link.click()
    page.wait_for_url("**/portal/t/*")
    width = _scroll_width(page)
    assert width <= PHONE["width"], f"the portal page scrolls sideways: {width}px"
