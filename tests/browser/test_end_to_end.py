"""The whole loop in a real browser: a user reports a problem with a screenshot, an agent
answers with a macro and resolves it, the user reads the answer and confirms."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

from conftest import LiveServer, browser_login
from huiying.kit.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def png(path: Path, width: int = 64, height: int = 48) -> Path:
    """A real PNG (a red rectangle), written without any imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\xff\x30\x30" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    )
    return path


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_feedback_reply_resolve_confirm(
    page: Any, browser: Any, live_server: LiveServer, tmp_path: Path, triage_on: None
) -> None:
    base = live_server.base_url
    # 1. The user fills the form opened from the app (device fields pre-filled).
    page.goto(
        f"{base}/feedback?user_id=u777&user_name=小王&os=iOS%2017.4&model=iPhone%2015&app_version=5.3.0&channel=app"
    )
    assert "意见反馈" in page.content()
    # The user leaves the category open: triage routes it (technical / payment failure -> tech support).
    page.fill("textarea[name=description]", "充值会员时提示支付失败，但是微信已经扣款68元，会员没有开通。")
    page.fill("input[name=contact]", "13912345678")
    page.set_input_files("input[name=files]", str(png(tmp_path / "截图.png")))
    page.click("#feedback-form button[type=submit]")
    page.wait_for_url("**/feedback/done?t=*")
    number = page.inner_text("#ticket-number").strip()
    assert re.fullmatch(r"HY\d{6}-\d{4,}", number)
    status_link = page.get_attribute("#status-link", "href")

    # 2. An agent logs in, finds it in the queue, answers with a macro, resolves it.
    agent = browser.new_context(viewport={"width": 1360, "height": 900}).new_page()
    agent.set_default_timeout(10_000)
    browser_login(agent, live_server, email="li.na@example.com", role=Role.AGENT, teams=["tech-support"])
    row = agent.locator(f"tr.row[data-number='{number}']")
    assert row.count() == 1
    assert "紧急" in row.inner_text()  # triage saw money taken and payment failing
    row.locator("td.num a").click()
    agent.wait_for_url(f"**/tickets/{number}")
    assert "支付失败" in agent.inner_text(".msg-user .text")
    thumb = agent.locator(".msg-user img.thumb")
    thumb.scroll_into_view_if_needed()
    assert thumb.evaluate("img => img.decode().then(() => img.naturalWidth)") == 64  # the screenshot, previewed
    assert "iPhone 15" in agent.inner_text("aside")
    assert "139****5678" in agent.inner_text("aside")  # agents see the contact masked

    agent.select_option("#macro", label="受理确认")
    reply = agent.input_value("#reply-body")
    assert number in reply and "小王" in reply
    agent.fill("#reply-body", reply + "\n款项已原路退回，请查收。")
    agent.click("#send-reply")
    agent.wait_for_url(f"**/tickets/{number}?notice=replied")
    assert "款项已原路退回" in agent.inner_text(".msg-reply .text")
    agent.select_option("#status-form select[name=status]", "resolved")
    agent.click("#status-form button[type=submit]")
    agent.wait_for_url(f"**/tickets/{number}?notice=status_changed")
    assert "已解决待确认" in agent.inner_text(".ticket-head")

    # 3. The user opens the status page, reads the reply, confirms.
    page.goto(base + status_link)
    assert "已解决，请确认" in page.inner_text("#portal-state")
    assert "款项已原路退回" in page.inner_text(".thread")
    assert page.locator(".thread img.thumb").evaluate("img => img.decode().then(() => img.naturalWidth)") == 64
    page.click("#confirm")
    page.wait_for_url("**notice=confirmed")
    assert "已完结" in page.inner_text("#portal-state")
    assert page.dialogs == []

    agent.goto(f"{base}/tickets/{number}")
    assert "已关闭" in agent.inner_text(".ticket-head")
    agent.context.close()


def test_portal_by_number_and_contact_and_reopen(page: Any, live_server: LiveServer) -> None:
    import httpx

    created = httpx.post(
        f"{live_server.base_url}/api/v1/feedback", json={"description": "直播间卡顿", "contact": "user@example.com"}
    ).json()
    httpx.post(
        f"{live_server.base_url}/api/v1/tickets/{created['number']}/status",
        json={"status": "resolved"},
        headers=live_server.admin_headers,
    )
    page.goto(f"{live_server.base_url}/portal")
    page.fill("input[name=number]", created["number"].lower().replace("-", ""))
    page.fill("input[name=contact]", "wrong@example.com")
    page.click("#lookup-form button")
    assert "没有找到" in page.inner_text("#lookup-form")
    page.fill("input[name=contact]", "USER@example.com")
    page.click("#lookup-form button")
    page.wait_for_url("**/portal/t/*")
    page.fill("#reopen-form textarea", "还是很卡，晚上八点以后更严重")
    page.click("#reopen")
    page.wait_for_url("**notice=reopened")
    assert "处理中" in page.inner_text("#portal-state")
    assert "晚上八点以后更严重" in page.inner_text(".thread")
    page.fill("#add-info textarea", "补充：用的是5G网络")
    page.click("#add-info button")
    page.wait_for_url("**notice=sent")
    assert "用的是5G网络" in page.inner_text(".thread")
