"""Who in a team gets the next ticket: pure choice functions, one per assignment mode.

No database, no clock: the service hands in a snapshot of the team's agents (`Candidate`) and
gets back a `Choice` — who, and why in a word the timeline can show. Nobody away or off shift is
given work, nor anyone at the team's cap of open tickets.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum


class Mode(StrEnum):
    MANUAL = "manual"
    ROUND_ROBIN = "round_robin"
    LEAST_LOADED = "least_loaded"
    SKILL = "skill"


class Availability(StrEnum):
    AVAILABLE = "available"
    AWAY = "away"
    OFF_SHIFT = "off_shift"


# Load of an open ticket by priority: an urgent ticket keeps its agent busier than a low one.
WEIGHTS = {"urgent": 4, "high": 3, "medium": 2, "low": 1}


@dataclass(frozen=True)
class Candidate:
    """One agent as the choice sees them."""

    id: int
    availability: str = Availability.AVAILABLE.value
    open_count: int = 0  # open tickets, unweighted (the cap counts these)
    load: int = 0  # open tickets weighted by priority (WEIGHTS)
    last_assigned_at: datetime | None = None
    skills: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Choice:
    """`agent_id` None: nobody could be given the ticket. `reason`: the mode that chose, or
    `skill_fallback` (nobody had the skills: least loaded instead), or `nobody_available`."""

    agent_id: int | None
    reason: str


NOBODY = "nobody_available"
SKILL_FALLBACK = "skill_fallback"


def load_of(priorities: Iterable[tuple[str, int]]) -> int:
    """Weighted load from (priority, count) pairs; an unknown priority weighs as medium."""
    return sum(WEIGHTS.get(priority, WEIGHTS["medium"]) * count for priority, count in priorities)


def can_take(candidate: Candidate, cap: int | None) -> bool:
    return candidate.availability == Availability.AVAILABLE and (cap is None or candidate.open_count < cap)


def _open(candidates: Iterable[Candidate], cap: int | None) -> list[Candidate]:
    return [c for c in candidates if can_take(c, cap)]


def _turn(candidate: Candidate) -> tuple[bool, datetime]:
    """Sort key of a last turn: never assigned first, then the oldest."""
    return (candidate.last_assigned_at is not None, candidate.last_assigned_at or _NEVER)


_NEVER = datetime.min.replace(tzinfo=UTC)


def round_robin(candidates: Sequence[Candidate], *, cap: int | None) -> Choice:
    """The agent whose last turn is oldest (never assigned: first); ties by id."""
    able = _open(candidates, cap)
    if not able:
        return Choice(None, NOBODY)
    chosen = min(able, key=lambda c: (*_turn(c), c.id))
    return Choice(chosen.id, Mode.ROUND_ROBIN.value)


def least_loaded(candidates: Sequence[Candidate], *, cap: int | None) -> Choice:
    """The agent with the lightest weighted load; ties: the oldest last turn, then id."""
    able = _open(candidates, cap)
    if not able:
        return Choice(None, NOBODY)
    chosen = min(able, key=lambda c: (c.load, *_turn(c), c.id))
    return Choice(chosen.id, Mode.LEAST_LOADED.value)


def needed_skills(subcategory: str | None, language: str | None) -> frozenset[str]:
    """What an agent must know for a ticket: its sub-category and its language."""
    return frozenset(skill for skill in (subcategory, language) if skill)


def by_skill(candidates: Sequence[Candidate], *, cap: int | None, needed: frozenset[str]) -> Choice:
    """Least loaded among the agents whose skills cover `needed`; if none of those can take it,
    least loaded among everyone (reason `skill_fallback`, so the timeline says so)."""
    skilled = [c for c in candidates if needed <= c.skills]
    choice = least_loaded(skilled, cap=cap)
    if choice.agent_id is not None:
        return Choice(choice.agent_id, Mode.SKILL.value)
    fallback = least_loaded(candidates, cap=cap)
    return Choice(fallback.agent_id, SKILL_FALLBACK if fallback.agent_id is not None else NOBODY)


def choose(
    mode: str, candidates: Sequence[Candidate], *, cap: int | None, needed: frozenset[str] = frozenset()
) -> Choice | None:
    """The choice of `mode`; None for manual (or an unknown mode): people assign."""
    if mode == Mode.ROUND_ROBIN:
        return round_robin(candidates, cap=cap)
    if mode == Mode.LEAST_LOADED:
        return least_loaded(candidates, cap=cap)
    if mode == Mode.SKILL:
        return by_skill(candidates, cap=cap, needed=needed)
    return None


def next_turn(now: datetime, candidates: Iterable[Candidate]) -> datetime:
    """The `last_assigned_at` for the agent just chosen: now, but always later than every other
    turn in the team, so round robin keeps its order even when the clock stands still (a frozen
    test clock) or two turns fall in the same microsecond."""
    latest = max((c.last_assigned_at for c in candidates if c.last_assigned_at is not None), default=None)
    if latest is not None and latest >= now:
        return latest + timedelta(microseconds=1)
    return now
