"""The years the `chinesecalendar` package knows, as notice rows: the seed of the platform's table.

Only what the package has is taken (it stops at the last notice published before its release);
a later year comes from an admin loading the State Council's notice, never from a guess.
"""

from __future__ import annotations

from datetime import date

import chinese_calendar  # type: ignore[import-untyped]

from huiying.calendars.business_time import DayKind

SOURCE = "chinesecalendar"

# The package's Chinese names are short forms; the table keeps the notice's names.
_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}


def _name(value: object) -> str:
    text = str(getattr(value, "value", value))
    return _NAMES_ZH.get(text, text)[:64]


def known_years() -> list[int]:
    """The years the installed package has data for."""
    return sorted({d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays})


def rows(years: set[int] | None = None) -> list[tuple[date, DayKind, str]]:
    """`(date, kind, name)` for every holiday and make-up working day of `years` (all known years
    by default), in date order."""
    out: list[tuple[date, DayKind, str]] = []
    for day, value in chinese_calendar.holidays.items():
        if years is None or day.year in years:
            out.append((day, DayKind.REST, _name(value)))
    for day, value in chinese_calendar.workdays.items():
        if years is None or day.year in years:
            out.append((day, DayKind.WORKDAY, _name(value)))
    return sorted(out)
