"""The choice functions, as tables of cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from huiying.assignment import modes
from huiying.assignment.modes import Candidate as C
from huiying.assignment.modes import Choice

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


ROUND_ROBIN = [
    ("never assigned goes first", [C(1, last_assigned_at=at(5)), C(2)], None, Choice(2, "round_robin")),
    ("oldest turn", [C(1, last_assigned_at=at(5)), C(2, last_assigned_at=at(1))], None, Choice(2, "round_robin")),
    ("tie by id", [C(3, last_assigned_at=at(1)), C(2, last_assigned_at=at(1))], None, Choice(2, "round_robin")),
    ("both never: lower id", [C(3), C(2)], None, Choice(2, "round_robin")),
    ("away skipped", [C(1, availability="away"), C(2, last_assigned_at=at(9))], None, Choice(2, "round_robin")),
    (
        "off shift skipped",
        [C(1, availability="off_shift"), C(2, last_assigned_at=at(9))],
        None,
        Choice(2, "round_robin"),
    ),
    ("at cap skipped", [C(1, open_count=3), C(2, open_count=2, last_assigned_at=at(9))], 3, Choice(2, "round_robin")),
    ("everyone at cap", [C(1, open_count=3), C(2, open_count=5)], 3, Choice(None, "nobody_available")),
    ("nobody in the team", [], None, Choice(None, "nobody_available")),
    ("no cap: any number", [C(1, open_count=500)], None, Choice(1, "round_robin")),
]


@pytest.mark.parametrize(("case", "pool", "cap", "expected"), ROUND_ROBIN, ids=[c[0] for c in ROUND_ROBIN])
def test_round_robin(case: str, pool: list[C], cap: int | None, expected: Choice) -> None:
    assert modes.round_robin(pool, cap=cap) == expected


LEAST_LOADED = [
    ("lighter load", [C(1, load=8), C(2, load=3)], None, Choice(2, "least_loaded")),
    # One urgent (4) outweighs three lows (3): load is weighted, not counted.
    (
        "weighted",
        [C(1, load=modes.load_of([("urgent", 1)])), C(2, load=modes.load_of([("low", 3)]))],
        None,
        Choice(2, "least_loaded"),
    ),
    (
        "tie: oldest turn",
        [C(1, load=2, last_assigned_at=at(5)), C(2, load=2, last_assigned_at=at(1))],
        None,
        Choice(2, "least_loaded"),
    ),
    ("lightest is away", [C(1, load=0, availability="away"), C(2, load=9)], None, Choice(2, "least_loaded")),
    ("lightest at cap", [C(1, load=2, open_count=2), C(2, load=9, open_count=1)], 2, Choice(2, "least_loaded")),
    ("nobody available", [C(1, availability="off_shift")], None, Choice(None, "nobody_available")),
]


@pytest.mark.parametrize(("case", "pool", "cap", "expected"), LEAST_LOADED, ids=[c[0] for c in LEAST_LOADED])
def test_least_loaded(case: str, pool: list[C], cap: int | None, expected: Choice) -> None:
    assert modes.least_loaded(pool, cap=cap) == expected


NEED = frozenset({"payment-failure", "en"})
SKILL = [
    ("only the skilled", [C(1, load=0), C(2, load=5, skills=NEED | {"zh"})], NEED, Choice(2, "skill")),
    ("least loaded of the skilled", [C(1, load=5, skills=NEED), C(2, load=1, skills=NEED)], NEED, Choice(2, "skill")),
    (
        "half the skills is not enough",
        [C(1, load=5, skills=frozenset({"en"})), C(2, load=1)],
        NEED,
        Choice(2, "skill_fallback"),
    ),
    (
        "skilled but away: fall back",
        [C(1, skills=NEED, availability="away"), C(2, load=4)],
        NEED,
        Choice(2, "skill_fallback"),
    ),
    ("nothing needed: least loaded", [C(1, load=4), C(2, load=1)], frozenset(), Choice(2, "skill")),
    ("nobody at all", [C(1, skills=NEED, availability="away")], NEED, Choice(None, "nobody_available")),
]


@pytest.mark.parametrize(("case", "pool", "needed", "expected"), SKILL, ids=[c[0] for c in SKILL])
def test_by_skill(case: str, pool: list[C], needed: frozenset[str], expected: Choice) -> None:
    assert modes.by_skill(pool, cap=None, needed=needed) == expected


def test_needed_skills() -> None:
    assert modes.needed_skills("payment-failure", "en") == NEED
    assert modes.needed_skills(None, "zh") == {"zh"}
    assert modes.needed_skills(None, None) == frozenset()


def test_manual_and_unknown_modes_choose_nobody() -> None:
    pool = [C(1)]
    assert modes.choose("manual", pool, cap=None) is None
    assert modes.choose("lottery", pool, cap=None) is None
    assert modes.choose("round_robin", pool, cap=None) == Choice(1, "round_robin")


NEXT_TURN = [
    ("clock ahead of every turn", at(10), [C(1, last_assigned_at=at(5))], at(10)),
    ("nobody had a turn", at(10), [C(1), C(2)], at(10)),
    ("clock stood still", at(5), [C(1, last_assigned_at=at(5))], at(5) + timedelta(microseconds=1)),
    ("clock behind", at(1), [C(1, last_assigned_at=at(5))], at(5) + timedelta(microseconds=1)),
]


@pytest.mark.parametrize(("case", "now", "pool", "expected"), NEXT_TURN, ids=[c[0] for c in NEXT_TURN])
def test_next_turn_is_always_the_latest(case: str, now: datetime, pool: list[C], expected: datetime) -> None:
    assert modes.next_turn(now, pool) == expected


def test_round_robin_with_a_still_clock_goes_round() -> None:
    """Turn after turn at the same instant: everyone once before anyone twice."""
    pool = [C(1), C(2), C(3)]
    order = []
    for _ in range(6):
        choice = modes.round_robin(pool, cap=None)
        assert choice.agent_id is not None
        order.append(choice.agent_id)
        stamp = modes.next_turn(T0, pool)
        pool = [C(c.id, last_assigned_at=stamp) if c.id == choice.agent_id else c for c in pool]
    assert order == [1, 2, 3, 1, 2, 3]
