"""The platform's working calendar: the seed, loading a notice, the reminder, the CLI and the API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from conftest import StaffLogin, login
from huiying.accounts.models import Team
from huiying.alerts.models import AlertDelivery
from huiying.audit.models import AuditEntry
from huiying.calendars import seed
from huiying.calendars import service as calendars
from huiying.calendars.business_time import DayKind, MissingCalendarData, classify
from huiying.config import Settings, get_settings
from huiying.db import Database
from huiying.errors import InvalidInput
from huiying.kit.actor import SYSTEM
from huiying.kit.clock import frozen
from huiying.kit.roles import Role

MAKE_UP_2026 = [
    date(2026, 1, 4),
    date(2026, 2, 14),
    date(2026, 2, 28),
    date(2026, 5, 9),
    date(2026, 9, 20),
    date(2026, 10, 10),
]
NOTICE_2027 = "date,kind,name\n2027-01-01,rest,元旦\n2027-02-06,workday,春节\n2027-02-08,rest,春节\n"


def _every_day(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days)]


# --- the seed (no database) -------------------------------------------------------------------------


@pytest.mark.parametrize("year", [2025, 2026])
def test_seed_agrees_with_the_holidays_package_on_every_day(year: int) -> None:
    overrides = {d: (k, n) for d, k, n in seed.rows({year})}
    other = holidays.China(years=year)
    wrong = [d for d in _every_day(year) if classify(d, overrides.get(d)).working != other.is_working_day(d)]
    assert wrong == []


def test_seed_has_2026_make_up_days_and_invents_no_year() -> None:
    overrides = {d: (k, n) for d, k, n in seed.rows({2026})}
    assert sorted(d for d, (k, _) in overrides.items() if k is DayKind.WORKDAY) == MAKE_UP_2026
    assert overrides[date(2026, 2, 17)] == (DayKind.REST, "春节")
    years = seed.known_years()
    assert years[0] == 2004 and 2026 in years
    assert years == list(range(2004, years[-1] + 1))
    assert {d.year for d, _, _ in seed.rows()} == set(years)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no rows"),
        ("day,type\n2027-01-01,rest\n", "header"),
        ("date,kind,name\n2027-13-01,rest,元旦\n", "not a date"),
        ("date,kind,name\n2027-01-01,holiday,元旦\n", "kind must be"),
        ("date,kind,name\n2027-01-01,rest,元旦\n2027-01-01,rest,元旦\n", "twice"),
    ],
)
def test_bad_notice_csv_is_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        calendars.parse_notice_csv(text)


def test_notice_csv_parses() -> None:
    rows = calendars.parse_notice_csv(
        "\ufeffdate,kind,name\r\n2027-02-06, workday ,春节\r\n\r\n2027-01-01,REST,元旦\r\n"
    )
    assert rows == [
        calendars.NoticeRow(date(2027, 1, 1), DayKind.REST, "元旦"),
        calendars.NoticeRow(date(2027, 2, 6), DayKind.WORKDAY, "春节"),
    ]


# --- the service, on both databases -----------------------------------------------------------------


def test_defaults_are_seeded_and_read_through_the_service(db: Database) -> None:
    with db.read() as session:
        assert calendars.years_loaded(session) == seed.known_years()
        standard = calendars.working_calendar(session, None)
        assert standard.slug == "standard"
        assert standard.day(date(2026, 2, 14)).reason_zh == "调休（春节）"
        assert standard.day(date(2026, 10, 1)).kind is DayKind.REST
        assert calendars.working_calendar(session, "24x7").schedule.always_open
        assert calendars.team_calendar(session, None) is standard
        assert calendars.team_calendar(session, Team(slug="ops", calendar="24x7")).schedule.always_open
        with pytest.raises(InvalidInput):
            calendars.working_calendar(session, "lunar")
        if 2027 not in seed.known_years():
            with pytest.raises(MissingCalendarData):
                standard.day(date(2027, 1, 4))
    with db.write() as session:
        assert calendars.ensure_defaults(session) == 0  # idempotent


def test_loading_a_notice_replaces_the_year_and_is_audited(db: Database) -> None:
    with db.write() as session:
        first = calendars.load_notice(session, calendars.parse_notice_csv(NOTICE_2027), actor=SYSTEM)
    assert (first.years, first.added, first.changed, first.removed) == ([2027], 3, 0, 0)
    assert "added 2027-02-06 workday 春节" in first.lines
    with db.read() as session:
        cal = calendars.working_calendar(session, None)
        assert cal.day(date(2027, 1, 4)).kind is DayKind.WORKDAY  # a plain Monday, now known
        assert cal.day(date(2027, 2, 6)).reason_en == "make-up working day (Spring Festival)"
        assert 2027 in calendars.years_loaded(session)
    revised = "date,kind,name\n2027-01-01,rest,元旦\n2027-02-06,workday,春节（调整）\n"
    with db.write() as session:
        second = calendars.load_notice(session, calendars.parse_notice_csv(revised), actor=SYSTEM)
        # A later ensure_defaults (every upgrade) leaves a loaded year alone.
        calendars.ensure_defaults(session)
    assert (second.added, second.changed, second.removed) == (0, 1, 1)
    with db.read() as session:
        cal = calendars.working_calendar(session, None)
        assert cal.day(date(2027, 2, 8)).kind is DayKind.WORKDAY
        assert cal.day(date(2027, 2, 6)).reason_zh == "调休（春节（调整））"
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "calendar.notice_loaded")).all()
        assert [e.object_id for e in entries] == ["2027", "2027"]
        assert entries[1].after is not None and len(entries[1].after["changes"]) == 2


def test_a_notice_overrides_the_seed_of_its_year(db: Database) -> None:
    # Say the 2026 notice were amended: 2 Jan back to work, the seed's other 2026 days gone.
    with db.write() as session:
        summary = calendars.load_notice(
            session, [calendars.NoticeRow(date(2026, 1, 1), DayKind.REST, "元旦")], actor=SYSTEM
        )
    assert summary.removed == len(seed.rows({2026})) - 1
    with db.read() as session:
        assert calendars.working_calendar(session, None).day(date(2026, 1, 2)).kind is DayKind.WORKDAY


NEXT_YEAR_CASES = [
    (date(2026, 10, 31), {2026}, None),
    (date(2026, 11, 1), {2026}, 2027),
    (date(2026, 12, 31), {2026, 2027}, None),
    (date(2027, 3, 1), {2026}, 2027),
]


def test_next_year_missing(db: Database) -> None:
    with db.read() as session:
        loaded = set(calendars.years_loaded(session))
    for today, years, expected in NEXT_YEAR_CASES:
        with db.write() as session:
            if 2027 in years and 2027 not in loaded:
                calendars.load_notice(session, calendars.parse_notice_csv(NOTICE_2027), actor=SYSTEM)
                loaded.add(2027)
            assert calendars.next_year_missing(session, today) == (expected if expected not in loaded else None)


def test_admins_are_alerted_once_a_day_from_november(db: Database) -> None:
    if 2027 in seed.known_years():
        pytest.skip("the installed chinesecalendar has 2027 already")
    from huiying import wiring
    from huiying.accounts import service as accounts
    from huiying.worker.runner import run_due

    wiring.install_jobs()
    with db.write() as session:
        admin = accounts.create_user(session, email="boss@example.com", password="x" * 20, role=Role.ADMIN)
        admin_id = admin.id
        assert calendars.check_notice(session, on=date(2026, 10, 31)) is None
    for hour in (9, 10):  # the hourly job, twice on one day
        with frozen(datetime(2026, 11, 2, hour, tzinfo=ZoneInfo("Asia/Shanghai"))):
            with db.write() as session:
                assert calendars.check_notice(session, on=date(2026, 11, 2)) == 2027
            while run_due(db):
                pass
    with db.read() as session:
        sent = session.scalars(select(AlertDelivery).where(AlertDelivery.kind == "calendar_missing")).all()
    assert [(d.user_id, "2027" in d.text_zh) for d in sent] == [(admin_id, True)]


# --- CLI ----------------------------------------------------------------------------------------------


@pytest.fixture
def sqlite_only(backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("the command line is the same on both databases")


@pytest.fixture
def cli(sqlite_only: None, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("HUIYING_DATABASE_URL", db.url)
    monkeypatch.setenv("HUIYING_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_cli_calendar_day_and_load(sqlite_only: None, cli: CliRunner, tmp_path: Path) -> None:
    from huiying.cli import app

    def day(*args: str) -> tuple[int, str]:
        answer = cli.invoke(app, ["calendar", "day", *args])
        return answer.exit_code, (answer.output.strip().splitlines() or [""])[-1]

    assert day("2026-02-14") == (0, "2026-02-14 workday 调休（春节） make-up working day (Spring Festival)")
    assert day("2026-10-01") == (0, "2026-10-01 rest 国庆节 National Day")
    assert day("2026-03-07") == (0, "2026-03-07 rest 周末 weekend")
    assert day("2026-03-09")[1].split()[:2] == ["2026-03-09", "workday"]
    code, _ = day("2027-01-04")
    assert code == 2  # no data: a message, never a guess
    assert day("2026-02-30")[0] == 2
    assert day("2026-03-09", "--team", "nowhere")[0] == 2
    notice = tmp_path / "2027.csv"
    notice.write_text(NOTICE_2027, encoding="utf-8")
    loaded = cli.invoke(app, ["calendar", "load", str(notice)])
    assert loaded.exit_code == 0, loaded.output
    assert loaded.output.strip().splitlines()[-1] == "loaded years=2027 added=3 changed=0 removed=0"
    assert day("2027-01-04") == (0, "2027-01-04 workday 工作日 workday")
    bad = tmp_path / "bad.csv"
    bad.write_text("date,kind\n2027-01-01,maybe\n", encoding="utf-8")
    assert cli.invoke(app, ["calendar", "load", str(bad)]).exit_code == 2


# --- HTTP ---------------------------------------------------------------------------------------------


def test_api_overview_and_notice(app_client: TestClient, admin: StaffLogin, db: Database) -> None:
    overview = app_client.get("/api/v1/calendars", headers=admin.headers)
    assert overview.status_code == 200, overview.text
    body = overview.json()
    assert {s["slug"] for s in body["schedules"]} == {"standard", "24x7"}
    assert 2026 in body["years"]
    loaded = app_client.post(
        "/api/v1/calendars/notice", content=NOTICE_2027.encode(), headers={**admin.headers, "content-type": "text/csv"}
    )
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["added"] == 3
    as_json = app_client.post(
        "/api/v1/calendars/notice",
        json={"rows": [{"date": "2027-01-01", "kind": "rest", "name": "元旦"}]},
        headers=admin.headers,
    )
    assert as_json.status_code == 200 and as_json.json()["removed"] == 2
    bad = app_client.post(
        "/api/v1/calendars/notice",
        content=b"date,kind\nsoon,rest\n",
        headers={**admin.headers, "content-type": "text/csv"},
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"
    agent = login(app_client, db, email="agent@example.com", role=Role.AGENT)
    assert app_client.get("/api/v1/calendars", headers=agent.headers).status_code == 403
