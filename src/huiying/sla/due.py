"""Due times from a policy on a calendar, and moving them past a pause. Pure: the calendar is
handed in (anything with `add_minutes` and `minutes_between`, e.g. calendars.business_time's
WorkingCalendar), so is the moment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from huiying.sla.policies import Policy


class BusinessClock(Protocol):
    def add_minutes(self, start: datetime, minutes: int) -> datetime: ...

    def minutes_between(self, a: datetime, b: datetime) -> int: ...


class RoundTheClock:
    """The 24×7 calendar: every minute counts, no data can be missing."""

    def add_minutes(self, start: datetime, minutes: int) -> datetime:
        return start + timedelta(minutes=minutes)

    def minutes_between(self, a: datetime, b: datetime) -> int:
        return max(0, int((b - a).total_seconds() // 60))

    def is_open(self, at: datetime) -> bool:
        return True


ROUND_THE_CLOCK = RoundTheClock()


@dataclass(frozen=True)
class Targets:
    first_response_due: datetime
    resolution_due: datetime


def targets(
    policy: Policy,
    received_at: datetime,
    calendar: BusinessClock,
    *,
    paused_minutes: int = 0,
    resolution_from: datetime | None = None,
) -> Targets:
    """When the first response and the resolution are due for a ticket received at `received_at`
    that has spent `paused_minutes` of business time paused since (the clock stood still), and
    whose resolution clock started again at `resolution_from` (a reopening). Raises the
    calendar's MissingCalendarData when it has no data for a date it needs."""
    return Targets(
        first_response_due=calendar.add_minutes(received_at, policy.first_response_minutes + paused_minutes),
        resolution_due=calendar.add_minutes(resolution_from or received_at, policy.resolution_minutes + paused_minutes),
    )


def next_response_due(policy: Policy, asked_at: datetime, calendar: BusinessClock) -> datetime | None:
    """When the user's follow-up must be answered (None: the policy sets no next-response target)."""
    if policy.next_response_minutes is None:
        return None
    return calendar.add_minutes(asked_at, policy.next_response_minutes)


def resumed(due: datetime | None, paused_at: datetime, now: datetime, calendar: BusinessClock) -> datetime | None:
    """A due time moved on by the business time the ticket spent paused (pending)."""
    if due is None:
        return None
    paused = calendar.minutes_between(paused_at, now)
    # Zero minutes must not move a target that falls on a closing time to the next opening.
    return calendar.add_minutes(due, paused) if paused > 0 else due
