"""The platform's working calendar: the days the State Council's notice changes, the years it
covers, and the weekly working hours of each schedule."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from huiying.db import Base, UTCDateTime
from huiying.kit.clock import utcnow


class CalendarDay(Base):
    """A day that differs from the plain week or has a holiday's name: a holiday (kind `rest`)
    or a 调休 make-up working day (kind `workday`). Days not listed follow Monday–Friday."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(64), default="")
    # Where it came from: `chinesecalendar` (seeded) or `notice` (loaded by an admin).
    source: Mapped[str] = mapped_column(String(32))


class CalendarYear(Base):
    """A year the calendar has data for. A year without a row has none: asking about one of
    its days raises MissingCalendarData, never a guess from the plain week."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(32))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WorkSchedule(Base):
    """When a working day is open (`hours`: [["09:00", "12:00"], ["13:30", "18:00"]] in `tz`),
    or always open (24×7)."""

    __tablename__ = "work_schedules"

    slug: Mapped[str] = mapped_column(String(48), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    tz: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    hours: Mapped[list[Any]] = mapped_column(JSON, default=list)
    always_open: Mapped[bool] = mapped_column(Boolean, default=False)
