"""Business-time arithmetic on the Chinese working calendar: tables of cases on 2026's notice."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huiying.calendars.business_time import (
    DayInfo,
    DayKind,
    MissingCalendarData,
    Schedule,
    WorkingCalendar,
    classify,
)
from huiying.errors import HuiyingError, InvalidInput

SH = ZoneInfo("Asia/Shanghai")
R, W = DayKind.REST, DayKind.WORKDAY


def _span(first: str, last: str, kind: DayKind, name: str) -> dict[date, tuple[DayKind, str]]:
    d, end = date.fromisoformat(first), date.fromisoformat(last)
    out = {}
    while d <= end:
        out[d] = (kind, name)
        d += timedelta(days=1)
    return out


# 2026 as the State Council's notice has it (国办发明电〔2025〕7号).
NOTICE_2026: dict[date, tuple[DayKind, str]] = {
    **_span("2026-01-01", "2026-01-03", R, "元旦"),
    date(2026, 1, 4): (W, "元旦"),
    date(2026, 2, 14): (W, "春节"),
    **_span("2026-02-15", "2026-02-23", R, "春节"),
    date(2026, 2, 28): (W, "春节"),
    **_span("2026-04-04", "2026-04-06", R, "清明节"),
    **_span("2026-05-01", "2026-05-05", R, "劳动节"),
    date(2026, 5, 9): (W, "劳动节"),
    **_span("2026-06-19", "2026-06-21", R, "端午节"),
    date(2026, 9, 20): (W, "国庆节"),
    **_span("2026-09-25", "2026-09-27", R, "中秋节"),
    **_span("2026-10-01", "2026-10-07", R, "国庆节"),
    date(2026, 10, 10): (W, "国庆节"),
}


def lookup_2026(d: date) -> DayInfo:
    if d.year != 2026:
        raise MissingCalendarData(d)
    return classify(d, NOTICE_2026.get(d))


STANDARD = WorkingCalendar(Schedule("standard"), lookup_2026)
ALWAYS = WorkingCalendar(Schedule("24x7", always_open=True), None)


def sh(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


ADD_CASES = [
    # (why, start local, minutes, expected local)
    ("plain morning", "2026-03-02 09:00", 60, "2026-03-02 10:00"),
    ("across the lunch break", "2026-03-02 11:50", 30, "2026-03-02 13:50"),
    ("ends exactly at noon", "2026-03-02 11:30", 30, "2026-03-02 12:00"),
    ("start inside lunch", "2026-03-02 12:30", 30, "2026-03-02 14:00"),
    ("start before opening", "2026-03-02 07:00", 15, "2026-03-02 09:15"),
    ("start after closing", "2026-03-02 20:00", 15, "2026-03-03 09:15"),
    ("plain Friday evening to Monday", "2026-03-06 17:55", 10, "2026-03-09 09:05"),
    ("17:55 Friday before Spring Festival: the make-up Saturday works", "2026-02-13 17:55", 10, "2026-02-14 09:05"),
    ("17:55 on the make-up Saturday: nine days of 春节", "2026-02-14 17:55", 10, "2026-02-24 09:05"),
    ("17:55 Thursday before 端午 (Friday is the holiday)", "2026-06-18 17:55", 10, "2026-06-22 09:05"),
    ("17:55 Friday before the make-up Sunday", "2026-09-18 17:55", 10, "2026-09-20 09:05"),
    ("a make-up Saturday is a working day", "2026-10-10 10:00", 60, "2026-10-10 11:00"),
    ("across the 7-day Golden Week", "2026-09-30 17:00", 120, "2026-10-08 10:00"),
    ("into the Golden Week from Saturday", "2026-10-03 10:00", 0, "2026-10-08 09:00"),
    ("three working days (3 x 450 min)", "2026-09-29 10:00", 1350, "2026-10-09 10:00"),
    ("zero minutes inside hours: the same instant", "2026-03-02 10:17", 0, "2026-03-02 10:17"),
    ("zero minutes at noon: the afternoon opening", "2026-03-02 12:00", 0, "2026-03-02 13:30"),
    ("zero minutes on a weekend: the next opening", "2026-03-07 10:00", 0, "2026-03-09 09:00"),
    ("a holiday on a weekday, then the make-up Sunday", "2026-01-01 10:00", 30, "2026-01-04 09:30"),
    ("the make-up Sunday after 元旦", "2026-01-03 23:00", 30, "2026-01-04 09:30"),
]


@pytest.mark.parametrize(("why", "start", "minutes", "expected"), ADD_CASES, ids=[c[0] for c in ADD_CASES])
def test_add_minutes(why: str, start: str, minutes: int, expected: str) -> None:
    due = STANDARD.add_minutes(sh(start), minutes)
    assert due.tzinfo is UTC
    assert due == sh(expected)
    assert STANDARD.minutes_between(sh(start), due) == minutes


def test_utc_input_gives_the_same_instant_as_local_input() -> None:
    # Asia/Shanghai has no DST: 03:50Z is always 11:50 local.
    local = STANDARD.add_minutes(sh("2026-03-02 11:50"), 30)
    utc = STANDARD.add_minutes(datetime(2026, 3, 2, 3, 50, tzinfo=UTC), 30)
    other = STANDARD.add_minutes(datetime(2026, 3, 1, 22, 50, tzinfo=ZoneInfo("America/New_York")), 30)
    assert local == utc == other == datetime(2026, 3, 2, 5, 50, tzinfo=UTC)
    # 01:30Z is 09:30 local, open; 04:30Z is 12:30 local, lunch.
    assert STANDARD.is_open(datetime(2026, 3, 2, 1, 30, tzinfo=UTC))
    assert not STANDARD.is_open(datetime(2026, 3, 2, 4, 30, tzinfo=UTC))


IS_OPEN_CASES = [
    ("2026-03-02 09:00", True),
    ("2026-03-02 08:59", False),
    ("2026-03-02 11:59", True),
    ("2026-03-02 12:00", False),
    ("2026-03-02 13:30", True),
    ("2026-03-02 17:59", True),
    ("2026-03-02 18:00", False),
    ("2026-03-07 10:00", False),  # Saturday
    ("2026-02-14 10:00", True),  # make-up Saturday
    ("2026-10-05 10:00", False),  # National Day
]


@pytest.mark.parametrize(("at", "expected"), IS_OPEN_CASES)
def test_is_open(at: str, expected: bool) -> None:
    assert STANDARD.is_open(sh(at)) is expected


DAY_CASES = [
    (date(2026, 3, 2), W, "工作日", "workday"),
    (date(2026, 3, 7), R, "周末", "weekend"),
    (date(2026, 2, 14), W, "调休（春节）", "make-up working day (Spring Festival)"),
    (date(2026, 10, 1), R, "国庆节", "National Day"),
    (date(2026, 10, 3), R, "国庆节", "National Day"),  # a holiday on a weekend keeps its name
    (date(2026, 1, 4), W, "调休（元旦）", "make-up working day (New Year's Day)"),
]


@pytest.mark.parametrize(("d", "kind", "zh", "en"), DAY_CASES)
def test_day(d: date, kind: DayKind, zh: str, en: str) -> None:
    assert STANDARD.day(d) == DayInfo(kind, zh, en)


@pytest.mark.parametrize(
    "d",
    [date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9), date(2026, 9, 20), date(2026, 10, 10)],
)
def test_2026_make_up_days_are_weekend_working_days(d: date) -> None:
    assert d.weekday() >= 5
    assert STANDARD.day(d).kind is W


def test_minutes_between() -> None:
    assert STANDARD.minutes_between(sh("2026-03-06 17:00"), sh("2026-03-09 10:00")) == 120
    assert STANDARD.minutes_between(sh("2026-03-09 10:00"), sh("2026-03-06 17:00")) == -120
    assert STANDARD.minutes_between(sh("2026-03-07 10:00"), sh("2026-03-07 16:00")) == 0
    assert STANDARD.minutes_between(sh("2026-03-02 00:00"), sh("2026-03-03 00:00")) == 450


def test_always_open_counts_every_minute_and_needs_no_day_kinds() -> None:
    start = sh("2026-10-01 23:55")  # a holiday, at night
    assert ALWAYS.add_minutes(start, 10) == sh("2026-10-02 00:05")
    assert ALWAYS.add_minutes(start, 0) == start
    assert ALWAYS.is_open(sh("2031-01-01 03:00"))  # no year data needed at all
    assert ALWAYS.minutes_between(start, sh("2026-10-02 01:55")) == 120
    assert ALWAYS.day(date(2040, 1, 1)).kind is W


def test_missing_year_raises_never_guesses() -> None:
    # 31 Dec 2026 is a Thursday; 1 Jan 2027 has no data.
    with pytest.raises(MissingCalendarData) as caught:
        STANDARD.add_minutes(sh("2026-12-31 17:30"), 60)
    assert caught.value.date == date(2027, 1, 1)
    # A domain error: callers that treat any calendar failure alike catch it; over HTTP a 409.
    assert isinstance(caught.value, HuiyingError) and caught.value.status_code == 409
    assert caught.value.code == "calendar_data_missing"
    with pytest.raises(MissingCalendarData):
        STANDARD.day(date(2027, 1, 4))
    # What fits in the known year still answers.
    assert STANDARD.add_minutes(sh("2026-12-31 17:30"), 30) == sh("2026-12-31 18:00")
    assert STANDARD.minutes_between(sh("2026-12-31 09:00"), sh("2026-12-31 23:59")) == 450


def test_whole_day_hours_and_other_zones() -> None:
    whole = WorkingCalendar(Schedule("days", hours=((time(0), time(0)),)), lookup_2026)
    assert whole.add_minutes(sh("2026-03-06 23:00"), 120) == sh("2026-03-09 01:00")
    utc_cal = WorkingCalendar(Schedule("utc", tz="UTC"), lookup_2026)
    assert utc_cal.add_minutes(datetime(2026, 3, 2, 9, tzinfo=UTC), 0) == datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    "hours",
    [(), ((time(9), time(8)),), ((time(9), time(12)), (time(11), time(18)))],
    ids=["none", "backwards", "overlapping"],
)
def test_bad_schedules_are_refused(hours: tuple[tuple[time, time], ...]) -> None:
    with pytest.raises(InvalidInput):
        Schedule("bad", hours=hours)


def test_bad_input_is_refused() -> None:
    with pytest.raises(InvalidInput):
        Schedule("bad", tz="Mars/Olympus")
    with pytest.raises(InvalidInput):
        STANDARD.add_minutes(datetime(2026, 3, 2, 9), 10)  # naive
    with pytest.raises(InvalidInput):
        STANDARD.add_minutes(sh("2026-03-02 09:00"), -1)


@settings(max_examples=200, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 11, 30), timezones=st.just(SH)),
    minutes=st.integers(min_value=0, max_value=4000),
)
def test_add_then_measure_gives_the_same_minutes(start: datetime, minutes: int) -> None:
    due = STANDARD.add_minutes(start, minutes)
    assert STANDARD.minutes_between(start, due) == minutes
    assert due >= start
    # The due instant is in hours, or is the close of a period (the last counted minute's end).
    assert STANDARD.is_open(due) or STANDARD.is_open(due - timedelta(seconds=1))
