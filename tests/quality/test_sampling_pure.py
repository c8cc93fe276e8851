"""The pure parts of QA: ISO weeks on the platform's calendar, the seeded draw, the round-robin
that never gives a QA person their own work, and the form's arithmetic. Table-driven."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from huiying.quality import sampling, scoring
from huiying.quality.scoring import Criteria

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("moment", "week", "previous"),
    [
        (datetime(2026, 12, 6, 15, 59, tzinfo=UTC), "2026-W49", "2026-W48"),  # Sunday 23:59 in Shanghai
        (datetime(2026, 12, 6, 16, 0, tzinfo=UTC), "2026-W50", "2026-W49"),  # Monday 00:00 in Shanghai
        (datetime(2027, 1, 1, 0, 0, tzinfo=UTC), "2026-W53", "2026-W52"),  # ISO year 2026 has 53 weeks
        (datetime(2027, 1, 4, 1, 0, tzinfo=UTC), "2027-W01", "2026-W53"),
    ],
)
def test_weeks_are_iso_weeks_of_the_local_calendar(moment: datetime, week: str, previous: str) -> None:
    assert sampling.week_of(moment, SHANGHAI) == week
    assert sampling.previous_week(moment, SHANGHAI) == previous


def test_a_week_runs_from_local_monday_midnight_to_the_next() -> None:
    start, end = sampling.bounds("2026-W49", SHANGHAI)
    assert (start, end) == (datetime(2026, 11, 29, 16, 0, tzinfo=UTC), datetime(2026, 12, 6, 16, 0, tzinfo=UTC))
    assert sampling.weeks_back(datetime(2026, 12, 7, 1, tzinfo=UTC), SHANGHAI, 3) == [
        "2026-W48",
        "2026-W49",
        "2026-W50",
    ]


@pytest.mark.parametrize("text", ["2026-W54", "2025-W53", "2026-49", "2026-W4", "W49", "", "2026-W00"])
def test_text_that_is_no_iso_week_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        sampling.monday_of(text)


def test_the_draw_is_the_same_for_the_same_seed_whatever_the_order_of_the_candidates() -> None:
    seed = sampling.seed_for("2026-W49", 7)
    assert seed == sampling.seed_for("2026-W49", 7) != sampling.seed_for("2026-W49", 8)
    candidates = list(range(100, 140))
    first = sampling.draw(candidates, size=5, seed=seed)
    assert len(first) == len(set(first)) == 5 and set(first) <= set(candidates)
    assert sampling.draw(list(reversed(candidates)), size=5, seed=seed) == first
    # Another agent's (or week's) seed draws differently from the same pool.
    others = {tuple(sampling.draw(candidates, size=5, seed=sampling.seed_for(w, 7))) for w in ("2026-W48", "2026-W50")}
    assert tuple(first) not in others


@pytest.mark.parametrize(("pool", "size", "expected"), [(3, 5, 3), (5, 5, 5), (9, 5, 5), (0, 5, 0), (4, 0, 0)])
def test_the_draw_takes_at_most_size(pool: int, size: int, expected: int) -> None:
    assert len(sampling.draw(range(pool), size=size, seed=sampling.seed_for("2026-W49", 1))) == expected


def test_the_round_robin_skips_whoever_worked_on_the_ticket_and_goes_on_where_it_stopped() -> None:
    qa = [30, 10, 20]  # taken in id order: 10, 20, 30
    handout = sampling.hand_out([{1}, {1, 20}, {1}, {1, 10, 20, 30}, {1}], qa_people=qa, turn=0)
    # 10; 20 worked on the second so 30; then 10 again; nobody may take the fourth; 20.
    assert handout.reviewers == [10, 30, 10, None, 20]
    later = sampling.hand_out([{1}], qa_people=qa, turn=handout.next_turn)
    assert later.reviewers == [30]
    assert sampling.hand_out([{1}], qa_people=[], turn=0).reviewers == [None]


@pytest.mark.parametrize(
    ("items", "score"),
    [
        ((5, 5, 5, 5, None), 100),
        ((1, 1, 1, 1, None), 0),
        ((4, 4, 4, 4, None), 75),
        ((5, 4, 4, 3, None), 75),
        ((5, 5, 5, 4, None), 94),  # 93.75 rounds up
        ((3, 3, 3, 3, 1), 40),  # the call-back counts like any item
        ((3, 3, 4, 4, None), 63),  # 62.5 rounds half up
    ],
)
def test_the_score_is_the_mean_of_the_items_on_0_to_100(
    items: tuple[int, int, int, int, int | None], score: int
) -> None:
    assert scoring.score_of(Criteria(*items)) == score


@pytest.mark.parametrize("bad", [0, 6, -1])
def test_items_outside_1_to_5_are_refused(bad: int) -> None:
    with pytest.raises(ValueError):
        Criteria(accuracy=bad, tone=3, timeliness=3, process=3)
    with pytest.raises(ValueError):
        Criteria(accuracy=3, tone=3, timeliness=3, process=3, callback=bad)


DUE = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("done_at", "attempts", "now", "item"),
    [
        (DUE - timedelta(hours=1), 1, DUE, 5),  # reached on time
        (DUE, 1, DUE, 5),
        (DUE + timedelta(minutes=1), 2, DUE + timedelta(hours=1), 3),  # reached late
        (None, 2, DUE - timedelta(hours=1), 1),  # tried, not reached
        (None, 0, DUE + timedelta(hours=1), 1),  # due and never tried
        (None, 0, DUE - timedelta(hours=1), None),  # not due yet: nothing to judge
    ],
)
def test_the_call_back_item_follows_what_the_call_back_recorded(
    done_at: datetime | None, attempts: int, now: datetime, item: int | None
) -> None:
    assert scoring.callback_item(due_at=DUE, done_at=done_at, attempts=attempts, now=now) == item
