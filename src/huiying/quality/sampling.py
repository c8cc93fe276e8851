"""The QA sample, pure: ISO weeks, the seeded draw and the round-robin that hands tickets to QA.

Nothing here reads the database or the clock, so a week's sample can be re-drawn by anyone from
the same inputs: the candidates (each agent's handled tickets of the week), the seed (sha256 of
"week:agent") and the QA people. `huiying.quality.service` feeds it and stores what it picks.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

_WEEK = re.compile(r"(\d{4})-W(\d{2})")


def week_of(moment: datetime, tz: tzinfo) -> str:
    """The ISO week ("2026-W49") a moment falls in, on the platform's local calendar."""
    year, week, _ = moment.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


def previous_week(moment: datetime, tz: tzinfo) -> str:
    """The ISO week before the one `moment` falls in (what the weekly job samples)."""
    return week_of(moment.astimezone(tz) - timedelta(days=7), tz)


def monday_of(week: str) -> date:
    """The Monday of an ISO week; ValueError for text that is no ISO week."""
    match = _WEEK.fullmatch(week.strip())
    if match is None:
        raise ValueError(f"{week!r} is not an ISO week like 2026-W49")
    year, number = int(match.group(1)), int(match.group(2))
    try:
        return date.fromisocalendar(year, number, 1)
    except ValueError:
        raise ValueError(f"{year} has no week {number}") from None


def bounds(week: str, tz: tzinfo) -> tuple[datetime, datetime]:
    """[start, end) of the week in aware UTC: local Monday 00:00 to the next Monday 00:00."""
    monday = monday_of(week)
    start = datetime.combine(monday, time(0), tzinfo=tz)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def weeks_back(moment: datetime, tz: tzinfo, count: int) -> list[str]:
    """The `count` ISO weeks ending with the one `moment` falls in, oldest first."""
    local = moment.astimezone(tz)
    return [week_of(local - timedelta(days=7 * back), tz) for back in range(count - 1, -1, -1)]


def seed_for(week: str, agent_id: int) -> str:
    """The seed of one agent's draw in one week: anyone can recompute it, nobody can pick it."""
    return hashlib.sha256(f"{week}:{agent_id}".encode()).hexdigest()


def draw(candidates: Collection[int], *, size: int, seed: str) -> list[int]:
    """`size` of the candidate ticket ids (all of them when fewer), the same for the same seed.

    The candidates are sorted first: the draw must not depend on the order a query returned them.
    """
    pool = sorted(set(candidates))
    if size <= 0 or not pool:
        return []
    # Not for secrecy: a reproducible draw is the point (the seed is stored on every row).
    return random.Random(int(seed, 16)).sample(pool, min(size, len(pool)))  # noqa: S311


@dataclass(frozen=True)
class Handout:
    """Who reviews each drawn ticket (None: every QA person worked on it), and where the
    rotation stands for the next ticket."""

    reviewers: list[int | None]
    next_turn: int


def hand_out(worked_by: Sequence[Collection[int]], *, qa_people: Sequence[int], turn: int) -> Handout:
    """Give each ticket (given as the people who worked on it) to the next QA person in turn who
    did not work on it: a QA person never reviews their own work. `turn` counts from the first
    of the sorted QA people, so a later run continues the rotation where the earlier stopped."""
    people = sorted(set(qa_people))
    chosen: list[int | None] = []
    for workers in worked_by:
        pick: int | None = None
        for step in range(len(people)):
            candidate = people[(turn + step) % len(people)]
            if candidate not in workers:
                pick = candidate
                turn += step + 1
                break
        chosen.append(pick)
    return Handout(reviewers=chosen, next_turn=turn)
