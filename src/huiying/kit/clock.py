"""The one source of "now": aware UTC, replaceable so tests and SLA tables can fix time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return _now()


@contextmanager
def frozen(at: datetime) -> Iterator[None]:
    """Within the block, `utcnow()` answers `at` (which must be aware)."""
    global _now
    if at.tzinfo is None:
        raise ValueError("frozen() needs an aware datetime")
    previous = _now
    _now = lambda: at  # noqa: E731
    try:
        yield
    finally:
        _now = previous
