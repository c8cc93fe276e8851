"""When the SLA clock runs. Pure: no database, no settings, no clock.

Pending (等待用户) waits on the user, so the time spent there does not count against the team
(CONTRACT.md); every other status keeps the clock running."""

from __future__ import annotations

from huiying.tickets.enums import Status

PAUSED_STATUSES: frozenset[str] = frozenset({Status.PENDING.value})


def clock_runs(status: Status | str) -> bool:
    """Whether time in this status counts towards the SLA targets."""
    return str(status) not in PAUSED_STATUSES
