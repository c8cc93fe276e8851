"""The working-calendar admin page: years, the missing-year warning, uploading a notice."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from conftest import PASSWORD
from huiying.accounts import service as accounts
from huiying.calendars import seed
from huiying.db import Database
from huiying.kit.clock import frozen
from huiying.kit.roles import Role


def _web_login(client: TestClient, db: Database, role: Role) -> None:
    with db.write() as session:
        accounts.create_user(session, email=f"{role.value}@example.com", password=PASSWORD, role=role)
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token
    answer = client.post(
        "/login",
        data={"email": f"{role.value}@example.com", "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


@pytest.fixture(autouse=True)
def _one_database(backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("the page is the same on both databases; the service tests run on both")


def test_calendar_page_warns_and_loads_a_notice(app_client: TestClient, db: Database) -> None:
    _web_login(app_client, db, Role.ADMIN)
    first, last = seed.known_years()[0], seed.known_years()[-1]
    with frozen(datetime(last, 11, 20, 2, tzinfo=UTC)):
        page = app_client.get("/admin/calendar?lang=zh")
    assert page.status_code == 200, page.text
    assert f"{first}–{last}" in page.text
    assert f"{last + 1} 年的节假日安排尚未导入" in page.text
    assert "工作日历" in page.text and "/admin/calendar/notice" in page.text
    english = app_client.get("/admin/calendar?lang=en").text
    assert "Working calendar" in english and "Upload a holiday notice" in english
    csv = f"date,kind,name\n{last + 1}-01-01,rest,元旦\n"
    loaded = app_client.post(
        "/admin/calendar/notice",
        data={"csrf_token": _csrf(page.text)},
        files={"file": ("notice.csv", csv.encode(), "text/csv")},
        follow_redirects=True,
    )
    assert loaded.status_code == 200, loaded.text
    assert 'id="calendar-loaded"' in loaded.text
    with frozen(datetime(last, 11, 20, 2, tzinfo=UTC)):
        after = app_client.get("/admin/calendar?lang=zh").text
    assert 'id="calendar-missing"' not in after and f"{first}–{last + 1}" in after
    bad = app_client.post(
        "/admin/calendar/notice",
        data={"csrf_token": _csrf(after), "csv": "date,kind\nsoon,rest\n"},
        follow_redirects=True,
    )
    assert bad.status_code == 200 and 'id="flash"' in bad.text and "flash-error" in bad.text
    assert 'id="calendar-missing"' not in bad.text


def test_calendar_page_is_for_admins(app_client: TestClient, db: Database) -> None:
    _web_login(app_client, db, Role.AGENT)
    assert app_client.get("/admin/calendar", headers={"Accept": "text/html"}).status_code == 403
