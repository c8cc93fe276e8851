"""Due times on the Chinese working calendar (sla/due.py over calendars.business_time), from the
State Council's 2026 notice as chinesecalendar has it; 2027 is not loaded."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import chinese_calendar
import pytest

from huiying.calendars.business_time import DayInfo, DayKind, MissingCalendarData, Schedule, WorkingCalendar
from huiying.sla import due
from huiying.sla.policies import DEFAULT_POLICIES

CST = timezone(timedelta(hours=8))
BY_SLUG = {p.slug: p for p in DEFAULT_POLICIES}


def _lookup(day: date) -> DayInfo:
    if day.year != 2026:
        raise MissingCalendarData(day)
    return DayInfo(DayKind.WORKDAY if chinese_calendar.is_workday(day) else DayKind.REST, "", "")


STANDARD = WorkingCalendar(Schedule("standard"), _lookup)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CST)


CASES = [
    # policy, received (+08:00), first response due, resolution due
    # 17:55 on the Friday before the Spring Festival: 5 minutes, then the make-up Saturday (14 Feb),
    # then nothing until 24 Feb.
    ("medium", "2026-02-13 17:55", "2026-02-14 14:25", "2026-02-25 17:55"),
    # 17:55 on the eve of the National Day week: the next working minute is 8 October.
    ("high", "2026-09-30 17:55", "2026-10-08 09:55", "2026-10-08 17:55"),
    # Across lunch (12:00-13:30).
    ("medium", "2026-12-01 11:00", "2026-12-01 16:30", "2026-12-04 11:00"),
    # Received during lunch: counts from 13:30.
    ("high", "2026-12-01 12:30", "2026-12-01 14:30", "2026-12-02 12:00"),
    # A make-up Saturday (调休) is a working day.
    ("medium", "2026-10-10 10:00", "2026-10-10 15:30", "2026-10-14 10:00"),
    # Urgent runs 24×7: 3 a.m. on a Saturday.
    ("urgent", "2026-12-05 03:00", "2026-12-05 03:10", "2026-12-05 05:00"),
]


@pytest.mark.parametrize(("slug", "received", "first", "resolution"), CASES)
def test_targets(slug: str, received: str, first: str, resolution: str) -> None:
    policy = BY_SLUG[slug]
    calendar = due.ROUND_THE_CLOCK if policy.calendar == "24x7" else STANDARD
    targets = due.targets(policy, at(received), calendar)
    assert targets.first_response_due == at(first)
    assert targets.resolution_due == at(resolution)


def test_a_year_without_data_raises() -> None:
    with pytest.raises(MissingCalendarData) as caught:
        due.targets(BY_SLUG["medium"], at("2026-12-31 17:00"), STANDARD)
    assert caught.value.date.year == 2027
    # 24×7 never needs the calendar.
    assert due.targets(BY_SLUG["urgent"], at("2026-12-31 23:00"), due.ROUND_THE_CLOCK).resolution_due == at(
        "2027-01-01 01:00"
    )


@pytest.mark.parametrize(
    ("paused", "resumed", "before", "after"),
    [
        # An hour pending on a working morning: the target moves on one business hour.
        ("2026-12-01 10:00", "2026-12-01 11:00", "2026-12-03 18:00", "2026-12-04 10:00"),
        # Pending over a weekend (Fri 17:00 -> Mon 10:00): only 1 h + 1 h of business time.
        ("2026-12-04 17:00", "2026-12-07 10:00", "2026-12-08 11:00", "2026-12-08 14:30"),
        # Paused and resumed outside working hours: nothing counted.
        ("2026-12-01 19:00", "2026-12-01 22:00", "2026-12-03 18:00", "2026-12-03 18:00"),
    ],
)
def test_resumed(paused: str, resumed: str, before: str, after: str) -> None:
    assert due.resumed(at(before), at(paused), at(resumed), STANDARD) == at(after)
    assert due.resumed(None, at(paused), at(resumed), STANDARD) is None


def test_next_response() -> None:
    assert due.next_response_due(BY_SLUG["urgent"], at("2026-12-05 03:00"), due.ROUND_THE_CLOCK) == at(
        "2026-12-05 03:30"
    )
