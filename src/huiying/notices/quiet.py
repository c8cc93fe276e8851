"""Quiet hours (HUIYING_QUIET_HOURS, e.g. "22:00-08:00" local time): when proactive notices wait. Pure.

What the user did not just ask for may wait until morning: that their ticket was taken up, that
we need more from them, a delay, a suggestion's outcome. What answers them goes at once, day or
night: the acknowledgement of their feedback, a person's reply, the resolution (or that it
cannot be solved), the closing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

WAITS = frozenset({"taken", "pending", "delayed", "suggestion"})
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class QuietHours:
    """From `start` to `end` local time, across midnight when `end` comes first."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


def parse(text: str | None) -> QuietHours | None:
    """ "22:00-08:00" → QuietHours; empty → None (off); ValueError for anything else."""
    if not text or not text.strip():
        return None
    found = _WINDOW.match(text)
    if found is None:
        raise ValueError(f"quiet hours must look like 22:00-08:00, not {text!r}")
    h1, m1, h2, m2 = (int(g) for g in found.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError(f"quiet hours must be times of day, not {text!r}")
    if (h1, m1) == (h2, m2):
        raise ValueError(f"quiet hours must start and end at different times, not {text!r}")
    return QuietHours(time(h1, m1), time(h2, m2))


def release_at(kind: str, now: datetime, *, hours: QuietHours | None, zone: str) -> datetime | None:
    """When a notice of `kind` made at `now` may go: the end of the quiet hours it falls in
    (aware, UTC), or None for at once (outside them, or a kind that never waits)."""
    if hours is None or kind not in WAITS:
        return None
    local = now.astimezone(ZoneInfo(zone))
    if not hours.contains(local.time().replace(tzinfo=None)):
        return None
    end = local.replace(hour=hours.end.hour, minute=hours.end.minute, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end.astimezone(ZoneInfo("UTC"))
