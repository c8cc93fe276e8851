"""Hostile HTML in feedback shows as text: proven in the browser, where a script would run."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conftest import LiveServer, browser_login
from huiying.kit.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PAYLOADS = [
    "<script>window.__xss = 1; alert('xss')</script>",
    '<img src=x onerror="window.__xss = 2; alert(2)">',
    '<svg onload="window.__xss = 3"></svg>',
    '"><iframe srcdoc="<script>parent.__xss=4</script>"></iframe>',
    "javascript:window.__xss=5",
    "{{ 7*7 }} {% raw %}",
]


def test_no_script_runs_anywhere(page: Any, live_server: LiveServer) -> None:
    base = live_server.base_url
    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
        "0000000d49444154789c6364f8cf500f00038601805a347d6b0000000049454e44ae426082"
    )
    upload = httpx.post(
        f"{base}/api/v1/attachments", files={"file": ('<img src=x onerror="window.__xss=6">.png', png, "image/png")}
    ).json()
    payload = "\n".join(PAYLOADS)
    created = httpx.post(
        f"{base}/api/v1/feedback",
        json={
            "title": PAYLOADS[1],
            "description": payload,
            "user_name": PAYLOADS[0][:100],
            "city": PAYLOADS[2][:64],
            "attachments": [upload["id"]],
        },
    ).json()
    number = created["number"]
    httpx.post(
        f"{base}/api/v1/tickets/{number}/replies",
        json={"body": PAYLOADS[3], "internal": True},
        headers=live_server.admin_headers,
    )
    browser_login(page, live_server, email="xss@example.com", role=Role.SUPERVISOR)
    for path in ("/tickets", f"/tickets?q={number}", f"/tickets/{number}"):
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__xss") is None, path
    page.locator("#timeline summary").click()
    assert page.evaluate("window.__xss") is None
    # The payload is on the page as text, character for character.
    assert PAYLOADS[0] in page.inner_text(".msg-user .text")
    assert PAYLOADS[1] in page.inner_text(".ticket-head")
    assert page.locator(".msg-user .text script").count() == 0
    assert page.locator("iframe").count() == 0

    page.goto(created["portal_url"].replace("http://127.0.0.1:8000", base))
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__xss") is None
    assert PAYLOADS[0] in page.inner_text(".thread")
    assert page.dialogs == []
