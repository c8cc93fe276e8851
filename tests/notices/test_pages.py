"""The notices in the workspace: the admin tab that rewords them, and the ticket page's forms to
tell a delay or that a problem cannot be solved (forms posted as a browser does, CSRF and all)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from conftest import StaffLogin, admin_browser
from helpers import feedback, submit
from huiying.db import Database
from huiying.notices import wording


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_the_admin_tab_lists_every_notice_and_saves_a_rewording(
    app_client: TestClient, admin: StaffLogin, db: Database
) -> None:
    browser = admin_browser(app_client, db)
    page = browser.get("/admin/notices?lang=zh").text
    assert len(re.findall(r'class="card notice-template"', page)) == len(wording.KINDS) * len(wording.LANGUAGES)
    assert "免打扰时段" in page and "{expected_at}" in page
    form = {
        "subject": "已受理",
        "body": "工单 {number} 已有专人跟进。",
        "short": "{number} 已有专人跟进",
        "csrf_token": _csrf(page),
    }
    saved = browser.post("/admin/notices/taken/zh-CN", data=form, follow_redirects=False)
    assert saved.status_code == 303 and "notice=saved" in saved.headers["location"]
    bad = browser.post("/admin/notices/taken/zh-CN", data={**form, "short": "{numbr}"}, follow_redirects=False)
    assert bad.status_code == 303 and "error=" in bad.headers["location"]
    listed = app_client.get("/api/v1/notice-templates", headers=admin.headers).json()["items"]
    taken = next(i for i in listed if (i["kind"], i["language"]) == ("taken", "zh-CN"))
    assert (taken["short"], taken["custom"]) == ("{number} 已有专人跟进", True)


def test_the_ticket_page_tells_a_delay_and_that_it_cannot_be_solved(
    app_client: TestClient, admin: StaffLogin, db: Database
) -> None:
    number = str(submit(app_client, feedback(description="直播间礼物没有到账"))["number"])
    browser = admin_browser(app_client, db)
    page = browser.get(f"/tickets/{number}").text
    assert 'id="delay-form"' in page and 'id="unsolvable-form"' in page
    delay = {"reason": "需要与支付渠道核对", "expected": "2099-01-08T18:00", "csrf_token": _csrf(page)}
    assert browser.post(f"/tickets/{number}/delay", data=delay, follow_redirects=False).status_code == 303
    refused = browser.post(f"/tickets/{number}/delay", data={**delay, "expected": "soon"}, follow_redirects=False)
    assert "error=" in refused.headers["location"]
    gone = {"reason": "该功能已下线", "alternative": "请使用新版礼物墙", "csrf_token": _csrf(page)}
    assert browser.post(f"/tickets/{number}/unsolvable", data=gone, follow_redirects=False).status_code == 303
    ticket = app_client.get(f"/api/v1/tickets/{number}", headers=admin.headers).json()
    actions = [
        e["action"]
        for e in app_client.get(f"/api/v1/tickets/{number}/timeline", headers=admin.headers).json()["events"]
    ]
    assert ticket["status"] == "resolved" and "unsolvable" in ticket["tags"]
    assert actions.count("delay_announced") == 1 and "declared_unsolvable" in actions
    assert 'id="delay-form"' not in browser.get(f"/tickets/{number}").text  # resolved: nothing to announce
