"""Business-time arithmetic on the Chinese working calendar. Pure: no database, no settings, no clock.

China's calendar is not a plain week: the State Council's yearly notice turns weekdays into
holidays and weekends into make-up working days (调休), so a day's kind comes from a lookup that
the service builds from stored data. A year without data has no answer: the lookup raises
`MissingCalendarData`, and nothing here ever guesses.

Working periods are wall-clock times in the schedule's zone; instants go in aware (any zone) and
come out in UTC. Intervals are half-open: a period 09:00–12:00 is open at 09:00, closed at 12:00.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from huiying.errors import Conflict, InvalidInput

# A lookup that finds no open period this many days ahead is broken (a schedule never open).
_MAX_DAYS = 3700


class MissingCalendarData(Conflict):
    """The calendar has no data for `date` (its year's notice is not loaded). A HuiyingError, so
    code that treats any calendar failure alike (alerts' service hours) catches it too, and one
    that reaches HTTP is a 409 with a reason, never a 500."""

    code = "calendar_data_missing"

    def __init__(self, day: date) -> None:
        super().__init__(
            f"no calendar data for {day.isoformat()}: the {day.year} holiday notice is not loaded",
            details={"date": day.isoformat()},
        )
        self.date = day


class DayKind(StrEnum):
    WORKDAY = "workday"
    REST = "rest"


@dataclass(frozen=True)
class DayInfo:
    kind: DayKind
    reason_zh: str
    reason_en: str

    @property
    def working(self) -> bool:
        return self.kind is DayKind.WORKDAY


# The holidays of the State Council notice, by the names it uses (English for the second language).
HOLIDAY_NAMES_EN: Mapping[str, str] = {
    "元旦": "New Year's Day",
    "春节": "Spring Festival",
    "清明节": "Tomb-sweeping Day",
    "劳动节": "Labour Day",
    "端午节": "Dragon Boat Festival",
    "中秋节": "Mid-autumn Festival",
    "国庆节": "National Day",
    "国庆节、中秋节": "National Day and Mid-autumn Festival",
    "中秋节、国庆节": "Mid-autumn Festival and National Day",
    "抗战胜利纪念日": "Victory Day",
}


def classify(day: date, override: tuple[DayKind, str] | None) -> DayInfo:
    """The day's kind and reason: the notice's entry for the day if it has one (`(kind, name)`),
    else the plain week (Saturday and Sunday rest)."""
    weekend = day.weekday() >= 5
    if override is None:
        if weekend:
            return DayInfo(DayKind.REST, "周末", "weekend")
        return DayInfo(DayKind.WORKDAY, "工作日", "workday")
    kind, name = override
    name_en = HOLIDAY_NAMES_EN.get(name, name)
    if kind is DayKind.WORKDAY:
        if not weekend:
            return DayInfo(DayKind.WORKDAY, "工作日", "workday")
        suffix_zh = f"（{name}）" if name else ""
        suffix_en = f" ({name_en})" if name else ""
        return DayInfo(DayKind.WORKDAY, f"调休{suffix_zh}", f"make-up working day{suffix_en}")
    if name:
        return DayInfo(DayKind.REST, name, name_en)
    return DayInfo(DayKind.REST, "休息日", "day off")


STANDARD_HOURS: tuple[tuple[time, time], ...] = ((time(9, 0), time(12, 0)), (time(13, 30), time(18, 0)))
ALWAYS_OPEN_DAY = DayInfo(DayKind.WORKDAY, "全天候服务（7×24）", "open 24×7")


def _end_seconds(end: time) -> int:
    # An end of 00:00 means midnight at the end of the day (a period may run up to 24:00).
    seconds = end.hour * 3600 + end.minute * 60 + end.second
    return seconds or 86400


@dataclass(frozen=True)
class Schedule:
    """When a working day is open: `hours` as (start, end) wall-clock pairs in `tz`, in order.
    `always_open` is 24×7: every instant counts, no day kinds needed."""

    slug: str
    tz: str = "Asia/Shanghai"
    hours: tuple[tuple[time, time], ...] = STANDARD_HOURS
    always_open: bool = False
    zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "zone", ZoneInfo(self.tz))
        except (KeyError, ValueError) as exc:
            raise InvalidInput(f"unknown time zone {self.tz!r}", code="invalid_time_zone") from exc
        if self.always_open:
            return
        if not self.hours:
            raise InvalidInput("a schedule needs working hours unless it is always open", code="invalid_hours")
        previous_end = 0
        for start, end in self.hours:
            begin = start.hour * 3600 + start.minute * 60 + start.second
            if begin < previous_end or _end_seconds(end) <= begin:
                raise InvalidInput("working hours must be ordered, non-overlapping periods", code="invalid_hours")
            previous_end = _end_seconds(end)


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput("business time needs an aware datetime", code="naive_datetime")
    return at.astimezone(UTC)


class WorkingCalendar:
    """A schedule on a calendar of day kinds. `lookup` answers a date's kind or raises
    MissingCalendarData; it is not needed (may be None) for an always-open schedule."""

    def __init__(self, schedule: Schedule, lookup: Callable[[date], DayInfo] | None) -> None:
        if lookup is None and not schedule.always_open:
            raise InvalidInput("a schedule with working hours needs a calendar of day kinds")
        self.schedule = schedule
        self._lookup = lookup

    @property
    def slug(self) -> str:
        return self.schedule.slug

    def day(self, d: date) -> DayInfo:
        """The kind of day `d` (raises MissingCalendarData when its year has no data)."""
        if self.schedule.always_open:
            return ALWAYS_OPEN_DAY
        assert self._lookup is not None
        return self._lookup(d)

    def _periods(self, d: date) -> list[tuple[datetime, datetime]]:
        """The open periods of local day `d` as UTC instants (none on a rest day)."""
        if not self.day(d).working:
            return []
        zone = self.schedule.zone
        periods = []
        for start, end in self.schedule.hours:
            opens = datetime.combine(d, start, tzinfo=zone).astimezone(UTC)
            if _end_seconds(end) == 86400:
                closes = datetime.combine(d + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
            else:
                closes = datetime.combine(d, end, tzinfo=zone).astimezone(UTC)
            periods.append((opens, closes))
        return periods

    def _days_from(self, at: datetime) -> Iterator[date]:
        # A period ends by midnight of its local day, so nothing before `at`'s local day matters.
        first = at.astimezone(self.schedule.zone).date()
        for offset in range(_MAX_DAYS):
            yield first + timedelta(days=offset)
        raise InvalidInput(f"the calendar {self.slug!r} has no open period within {_MAX_DAYS} days")

    def is_open(self, at: datetime) -> bool:
        """Whether `at` falls within working hours on a working day."""
        instant = _aware(at)
        if self.schedule.always_open:
            return True
        local_day = instant.astimezone(self.schedule.zone).date()
        return any(opens <= instant < closes for opens, closes in self._periods(local_day))

    def add_minutes(self, start: datetime, minutes: int) -> datetime:
        """The instant (UTC) `minutes` business minutes after `start`; a start outside working hours
        counts from the next opening (so zero minutes there gives the next opening)."""
        if minutes < 0:
            raise InvalidInput("business minutes to add must not be negative")
        cursor = _aware(start)
        remaining = timedelta(minutes=minutes)
        if self.schedule.always_open:
            return cursor + remaining
        for d in self._days_from(cursor):
            for opens, closes in self._periods(d):
                if closes <= cursor:
                    continue
                begin = max(opens, cursor)
                if remaining <= closes - begin:
                    return begin + remaining
                remaining -= closes - begin
                cursor = closes
        raise AssertionError("unreachable: _days_from raises when it runs out")

    def minutes_between(self, a: datetime, b: datetime) -> int:
        """Whole business minutes from `a` to `b` (negative when `b` is before `a`)."""
        start, end = _aware(a), _aware(b)
        if end < start:
            return -self.minutes_between(b, a)
        if self.schedule.always_open:
            return int((end - start).total_seconds() // 60)
        total = timedelta()
        # Only the local days from `a` to `b` are asked for: a year beyond `b` may have no data.
        d, last = start.astimezone(self.schedule.zone).date(), end.astimezone(self.schedule.zone).date()
        while d <= last:
            for opens, closes in self._periods(d):
                overlap = min(closes, end) - max(opens, start)
                if overlap > timedelta():
                    total += overlap
            d += timedelta(days=1)
        return int(total.total_seconds() // 60)
