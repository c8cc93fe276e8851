"""The SLA clock rule, pure and table-tested: pending (等待用户) stops the clock (CONTRACT.md)."""

from __future__ import annotations

import pytest

from huiying.sla.clock import PAUSED_STATUSES, clock_runs
from huiying.tickets.enums import Status


@pytest.mark.parametrize(
    ("status", "runs"),
    [
        (Status.NEW, True),
        (Status.OPEN, True),
        (Status.PENDING, False),  # waiting for the user: the clock stops
        (Status.RESOLVED, True),
        (Status.CLOSED, True),
        (Status.MERGED, True),
    ],
)
def test_pending_pauses_the_clock(status: Status, runs: bool) -> None:
    assert clock_runs(status) is runs
    assert clock_runs(status.value) is runs  # the stored string answers the same


def test_every_status_has_an_answer() -> None:
    assert frozenset({Status.PENDING.value}) == PAUSED_STATUSES
    assert {clock_runs(s) for s in Status} == {True, False}
