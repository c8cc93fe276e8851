"""The platform's working calendars: which days are worked (State Council notice, 调休), the
schedules' hours, loading a year's notice, and warning admins when next year's is missing.

Due times are computed on every intake, so each process keeps the whole calendar (a few hundred
rows) in memory for a minute and drops it at once when it loads a notice itself.
"""

from __future__ import annotations

import csv
import io
import time as monotonic
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

from huiying.accounts.models import Team, User
from huiying.alerts import service as alerts
from huiying.alerts.models import AlertDelivery
from huiying.audit import service as audit
from huiying.calendars import seed
from huiying.calendars.business_time import (
    DayInfo,
    DayKind,
    MissingCalendarData,
    Schedule,
    WorkingCalendar,
    classify,
)
from huiying.calendars.models import CalendarDay, CalendarYear, WorkSchedule
from huiying.db import Database, call_after_commit
from huiying.errors import InvalidInput
from huiying.jobs import registry
from huiying.kit.actor import Actor
from huiying.kit.clock import utcnow
from huiying.kit.roles import Role

STANDARD = "standard"
ALWAYS_OPEN = "24x7"
NOTICE_SOURCE = "notice"
MISSING_ALERT = "calendar_missing"
CHECK_JOB = "calendar_notice_check"
# The State Council publishes next year's notice in late October or November.
NOTICE_DUE = (11, 1)
MAX_NOTICE_ROWS = 400

__all__ = [
    "ALWAYS_OPEN",
    "STANDARD",
    "MissingCalendarData",
    "NoticeRow",
    "NoticeSummary",
    "configure",
    "ensure_defaults",
    "load_notice",
    "next_year_missing",
    "parse_notice_csv",
    "schedules",
    "team_calendar",
    "working_calendar",
    "years_loaded",
]

_zone = ZoneInfo("Asia/Shanghai")


def configure(*, timezone: str) -> None:
    """The platform's time zone: the default schedules' zone and what "today" means here."""
    global _zone
    _zone = ZoneInfo(timezone)


# --- defaults ------------------------------------------------------------------------------------


def _default_schedules() -> list[dict[str, Any]]:
    return [
        {
            "slug": STANDARD,
            "name_zh": "标准工作时间（工作日 9:00–12:00、13:30–18:00）",
            "name_en": "Business hours (working days 9:00–12:00, 13:30–18:00)",
            "tz": _zone.key,
            "hours": [["09:00", "12:00"], ["13:30", "18:00"]],
            "always_open": False,
        },
        {
            "slug": ALWAYS_OPEN,
            "name_zh": "全天候（7×24）",
            "name_en": "Around the clock (24×7)",
            "tz": _zone.key,
            "hours": [],
            "always_open": True,
        },
    ]


def ensure_defaults(session: Session) -> int:
    """Add the default schedules and every year `chinesecalendar` knows that the table lacks
    (a year loaded from a notice is never overwritten); returns how many rows were added."""
    added = 0
    existing = set(session.scalars(select(WorkSchedule.slug)))
    for row in _default_schedules():
        if row["slug"] not in existing:
            session.add(WorkSchedule(**row))
            added += 1
    loaded = set(years_loaded(session))
    missing = set(seed.known_years()) - loaded
    if missing:
        days = [{"day": d, "kind": k.value, "name": n, "source": seed.SOURCE} for d, k, n in seed.rows(missing)]
        session.execute(insert(CalendarDay), days)
        now = utcnow()
        session.execute(
            insert(CalendarYear), [{"year": y, "source": seed.SOURCE, "loaded_at": now} for y in sorted(missing)]
        )
        added += len(days) + len(missing)
    session.flush()
    if added:
        forget_cached(session)
    return added


# --- reading: the cached calendar ----------------------------------------------------------------

CACHE_SECONDS = 60.0


@dataclass(frozen=True)
class _Data:
    years: frozenset[int]
    days: Mapping[date, tuple[DayKind, str]]
    schedules: Mapping[str, Schedule]
    calendars: dict[str, WorkingCalendar] = field(default_factory=dict)

    def lookup(self, d: date) -> DayInfo:
        if d.year not in self.years:
            raise MissingCalendarData(d)
        return classify(d, self.days.get(d))


# Keyed by the engine's pool: the read and the write sessions are bound to different engine
# objects (execution options) over the same pool, and a load must clear what reads see.
_cache: weakref.WeakKeyDictionary[Pool, tuple[float, _Data]] = weakref.WeakKeyDictionary()


def _parse_hours(hours: Iterable[Any]) -> tuple[tuple[time, time], ...]:
    try:
        return tuple((time.fromisoformat(str(a)), time.fromisoformat(str(b))) for a, b in hours)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"bad working hours {hours!r}: expected [[HH:MM, HH:MM], ...]") from exc


def _schedule(row: WorkSchedule) -> Schedule:
    return Schedule(slug=row.slug, tz=row.tz, hours=_parse_hours(row.hours or ()), always_open=row.always_open)


def _data(session: Session) -> _Data:
    pool = session.get_bind().engine.pool
    cached = _cache.get(pool)
    now = monotonic.monotonic()
    if cached is None or cached[0] < now:
        stored = {row.slug: _schedule(row) for row in session.scalars(select(WorkSchedule))}
        built_in = {
            ALWAYS_OPEN: Schedule(ALWAYS_OPEN, tz=_zone.key, always_open=True),
            STANDARD: Schedule(STANDARD, tz=_zone.key),
        }
        data = _Data(
            years=frozenset(session.scalars(select(CalendarYear.year))),
            days={row.day: (DayKind(row.kind), row.name) for row in session.scalars(select(CalendarDay))},
            schedules=built_in | stored,
        )
        cached = (now + CACHE_SECONDS, data)
        _cache[pool] = cached
    return cached[1]


def forget_cached(session: Session) -> None:
    """Drop the cached calendar now and again once this change commits."""
    pool = session.get_bind().engine.pool

    def forget() -> None:
        _cache.pop(pool, None)

    forget()
    call_after_commit(session, forget)


def working_calendar(session: Session, slug: str | None = None) -> WorkingCalendar:
    """The calendar `slug` (None: the platform's `standard`; `24x7` is always there). Its day
    lookup raises MissingCalendarData for a year without data."""
    data = _data(session)
    key = slug or STANDARD
    found = data.calendars.get(key)
    if found is None:
        schedule = data.schedules.get(key)
        if schedule is None:
            raise InvalidInput(f"no working calendar {key!r}", code="unknown_calendar")
        found = WorkingCalendar(schedule, None if schedule.always_open else data.lookup)
        data.calendars[key] = found
    return found


def team_calendar(session: Session, team: Team | None) -> WorkingCalendar:
    """The calendar the team's SLA counts on (its `calendar` column, else the platform's)."""
    return working_calendar(session, team.calendar if team is not None else None)


def schedules(session: Session) -> list[WorkSchedule]:
    return list(session.scalars(select(WorkSchedule).order_by(WorkSchedule.slug)))


def years_loaded(session: Session) -> list[int]:
    return list(session.scalars(select(CalendarYear.year).order_by(CalendarYear.year)))


def next_year_missing(session: Session, today: date) -> int | None:
    """The year whose notice is due and not loaded: next year from 1 November on (and this year,
    should it ever be missing, at any time); None when all is there."""
    loaded = set(years_loaded(session))
    if today.year not in loaded:
        return today.year
    if (today.month, today.day) >= NOTICE_DUE and today.year + 1 not in loaded:
        return today.year + 1
    return None


def today() -> date:
    """Today in the platform's time zone."""
    return utcnow().astimezone(_zone).date()


# --- loading a notice ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeRow:
    day: date
    kind: DayKind
    name: str


@dataclass
class NoticeSummary:
    years: list[int]
    added: int = 0
    changed: int = 0
    removed: int = 0
    lines: list[str] = field(default_factory=list)


def parse_notice_csv(text: str) -> list[NoticeRow]:
    """CSV `date,kind,name` (a header line, then one row a day; kind `rest` or `workday`)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    rows: list[dict[str, Any]] = []
    header: list[str] | None = None
    for number, cells in enumerate(reader, start=1):
        if not cells or not "".join(cells).strip():
            continue
        if header is None:
            header = [c.strip().lower() for c in cells]
            if header[:2] != ["date", "kind"]:
                raise InvalidInput("the notice CSV must start with the header line `date,kind,name`")
            continue
        values: dict[str, Any] = dict(zip(header, (c.strip() for c in cells), strict=False))
        values["line"] = number
        rows.append(values)
    return parse_rows(rows)


def parse_rows(rows: Iterable[Mapping[str, Any]]) -> list[NoticeRow]:
    """Check rows `{date, kind, name}` (from CSV or JSON): real dates, known kinds, no date twice."""
    out: dict[date, NoticeRow] = {}
    for index, row in enumerate(rows, start=1):
        where = f"line {row['line']}" if "line" in row else f"row {index}"
        try:
            day = date.fromisoformat(str(row.get("date", "")).strip())
        except ValueError:
            raise InvalidInput(f"{where}: {row.get('date')!r} is not a date (YYYY-MM-DD)") from None
        kind_text = str(row.get("kind", "")).strip().lower()
        if kind_text not in (DayKind.REST.value, DayKind.WORKDAY.value):
            raise InvalidInput(f"{where}: kind must be `rest` or `workday`, not {kind_text!r}")
        if day in out:
            raise InvalidInput(f"{where}: {day.isoformat()} is listed twice")
        name = str(row.get("name") or "").strip()[:64]
        out[day] = NoticeRow(day, DayKind(kind_text), name)
        if len(out) > MAX_NOTICE_ROWS:
            raise InvalidInput(f"a notice has at most {MAX_NOTICE_ROWS} rows")
    if not out:
        raise InvalidInput("the notice has no rows")
    return sorted(out.values(), key=lambda r: r.day)


def load_notice(session: Session, rows: Iterable[NoticeRow], *, actor: Actor) -> NoticeSummary:
    """Make the notice the calendar of each year it covers: its rows replace that year's days
    (whatever the seed said), the year counts as loaded, and every change is audited."""
    by_year: dict[int, dict[date, NoticeRow]] = {}
    for row in rows:
        by_year.setdefault(row.day.year, {})[row.day] = row
    if not by_year:
        raise InvalidInput("the notice has no rows")
    summary = NoticeSummary(years=sorted(by_year))
    now = utcnow()
    for year in summary.years:
        wanted = by_year[year]
        first, last = date(year, 1, 1), date(year, 12, 31)
        stored = {d.day: d for d in session.scalars(select(CalendarDay).where(CalendarDay.day.between(first, last)))}
        changes: list[dict[str, Any]] = []
        for day, gone in sorted(stored.items()):
            if day not in wanted:
                session.delete(gone)
                summary.removed += 1
                changes.append({"date": day.isoformat(), "before": [gone.kind, gone.name], "after": None})
        for day, row in sorted(wanted.items()):
            existing = stored.get(day)
            if existing is None:
                session.add(CalendarDay(day=day, kind=row.kind.value, name=row.name, source=NOTICE_SOURCE))
                summary.added += 1
                changes.append({"date": day.isoformat(), "before": None, "after": [row.kind.value, row.name]})
            elif (existing.kind, existing.name) != (row.kind.value, row.name):
                before = [existing.kind, existing.name]
                existing.kind, existing.name, existing.source = row.kind.value, row.name, NOTICE_SOURCE
                summary.changed += 1
                changes.append({"date": day.isoformat(), "before": before, "after": [row.kind.value, row.name]})
        year_row = session.get(CalendarYear, year)
        was_loaded = year_row is not None
        if year_row is None:
            session.add(CalendarYear(year=year, source=NOTICE_SOURCE, loaded_at=now))
        else:
            year_row.source, year_row.loaded_at = NOTICE_SOURCE, now
        for change in changes:
            summary.lines.append(_change_line(change))
        if not changes:
            summary.lines.append(f"{year}: no change" + ("" if was_loaded else " (year now loaded)"))
        audit.record(
            session,
            actor=actor,
            action="calendar.notice_loaded",
            object_type="calendar",
            object_id=str(year),
            before={"loaded": was_loaded},
            after={"days": len(wanted), "changes": changes},
        )
    session.flush()
    forget_cached(session)
    return summary


def _change_line(change: Mapping[str, Any]) -> str:
    def show(value: list[str] | None) -> str:
        return "-" if value is None else " ".join(v for v in value if v)

    if change["before"] is None:
        return f"added {change['date']} {show(change['after'])}"
    if change["after"] is None:
        return f"removed {change['date']} (was {show(change['before'])})"
    return f"changed {change['date']} {show(change['before'])} -> {show(change['after'])}"


# --- the reminder job -------------------------------------------------------------------------------


def check_notice(session: Session, *, on: date) -> int | None:
    """Alert the admins (once a day) when a year's notice is due and missing; returns that year."""
    year = next_year_missing(session, on)
    if year is None:
        return None
    start = datetime.combine(on, time(0), tzinfo=_zone)
    already = session.scalar(
        select(AlertDelivery.id)
        .where(
            AlertDelivery.kind == MISSING_ALERT,
            AlertDelivery.created_at >= start,
            AlertDelivery.created_at < start + timedelta(days=1),
        )
        .limit(1)
    )
    if already is not None:
        return year
    admins = session.scalars(select(User.id).where(User.role == Role.ADMIN.value, User.active))
    alerts.alert_staff(
        session,
        kind=MISSING_ALERT,
        text_zh=(
            f"{year} 年的节假日安排（国务院办公厅通知）尚未导入，该年的 SLA 到期时间无法计算。"
            "请运行 `huiying calendar load` 或在管理后台上传。"
        ),
        text_en=(
            f"The {year} holiday notice (State Council) is not loaded: SLA due times in {year} cannot be "
            "computed. Load it with `huiying calendar load` or in the admin pages."
        ),
        user_ids=list(admins),
    )
    return year


def _check_job(db: Database) -> None:
    with db.write() as session:
        check_notice(session, on=today())


def register_jobs() -> None:
    registry.register_periodic(CHECK_JOB, _check_job, every=timedelta(hours=1))
