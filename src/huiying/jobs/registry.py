"""Which job names exist and the functions that run them, filled in at wiring time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from huiying.db import Database

# An on-demand job: the Database and the payload it was enqueued with (ids, never objects).
JobFunction = Callable[[Database, dict[str, Any]], None]
# A periodic job runs inside the scheduler's tick: it should be quick, finding due rows in one
# query and enqueueing one on-demand job per row for anything slow.
PeriodicFunction = Callable[[Database], None]


@dataclass(frozen=True)
class Periodic:
    name: str
    function: PeriodicFunction
    every: timedelta


_on_demand: dict[str, JobFunction] = {}
_periodic: dict[str, Periodic] = {}


def _check_name(name: str, taken_by_other_kind: bool) -> None:
    if not name or len(name) > 64:
        raise ValueError(f"job name {name!r} must have 1 to 64 characters")
    if taken_by_other_kind:
        raise ValueError(f"job name {name!r} is registered already as the other kind of job")


def register(name: str, function: JobFunction) -> None:
    """Make `name` an on-demand job run by `function` (registering the same pair again is a no-op)."""
    _check_name(name, name in _periodic)
    if _on_demand.get(name, function) is not function:
        raise ValueError(f"job {name!r} is registered already with another function")
    _on_demand[name] = function


def register_periodic(name: str, function: PeriodicFunction, *, every: timedelta) -> None:
    """Make `name` a job that some scheduler runs every `every` (at most one at a time)."""
    _check_name(name, name in _on_demand)
    if every < timedelta(seconds=1):
        raise ValueError(f"periodic job {name!r} must run at most once a second")
    wanted = Periodic(name, function, every)
    if _periodic.get(name, wanted) != wanted:
        raise ValueError(f"periodic job {name!r} is registered already differently")
    _periodic[name] = wanted


def unregister(name: str) -> None:
    """Forget `name` (tests that register jobs of their own)."""
    _on_demand.pop(name, None)
    _periodic.pop(name, None)


def function_for(name: str) -> JobFunction | None:
    return _on_demand.get(name)


def on_demand_names() -> list[str]:
    return sorted(_on_demand)


def periodic_jobs() -> list[Periodic]:
    return [_periodic[name] for name in sorted(_periodic)]
