"""The user's language and local times as people say them ("今天 16:00", "16:00 today"). Pure."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

Language = Literal["zh-CN", "en"]


def language_of(ticket_language: str | None) -> Language:
    """English for a ticket written in English; zh-CN for everything else, the platform's own."""
    return "en" if (ticket_language or "").lower().startswith("en") else "zh-CN"


# The zones people here know by a name of their own; any other is said with its UTC offset.
_ZONE_NAMES: dict[str, tuple[str, str]] = {
    "Asia/Shanghai": ("北京时间", "Beijing time"),
    "Asia/Hong_Kong": ("香港时间", "Hong Kong time"),
    "Asia/Taipei": ("台北时间", "Taipei time"),
}
_WEEKDAYS_ZH = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
_WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def zone_words(zone: str, at: datetime, language: Language) -> str:
    """The zone a time is said in: its name people know ("北京时间"), else its UTC offset."""
    tz = ZoneInfo(zone)
    offset = at.astimezone(tz).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign, minutes = ("+" if minutes >= 0 else "-"), abs(minutes)
    utc = f"UTC{sign}{minutes // 60}" + (f":{minutes % 60:02d}" if minutes % 60 else "")
    named = _ZONE_NAMES.get(zone)
    if named is not None:
        return named[0] if language == "zh-CN" else f"{named[1]}, {utc}"
    return f"{zone} 时间，{utc}" if language == "zh-CN" else f"{zone} time, {utc}"


def when_words(due: datetime, *, now: datetime, zone: str, language: Language) -> str:
    """A due time as people say it, in the local time of `zone`: "今天 16:00", "明天 09:30",
    "3月8日（星期六）18:00"; "16:00 today", "18:00 on Saturday 8 March" (a year when not this one)."""
    tz = ZoneInfo(zone)
    local, today = due.astimezone(tz), now.astimezone(tz).date()
    clock = f"{local:%H:%M}"
    days = (local.date() - today).days
    if language == "zh-CN":
        if days in (0, 1, 2):
            return f"{('今天', '明天', '后天')[days]} {clock}"
        year = f"{local.year}年" if local.year != today.year else ""
        return f"{year}{local.month}月{local.day}日（{_WEEKDAYS_ZH[local.weekday()]}）{clock}"
    if days in (0, 1):
        return f"{clock} {('today', 'tomorrow')[days]}"
    year = f" {local.year}" if local.year != today.year else ""
    return f"{clock} on {_WEEKDAYS_EN[local.weekday()]} {local.day} {_MONTHS_EN[local.month - 1]}{year}"
