"""The QA form's arithmetic, pure: criteria (1-5) to the overall score (0-100), and the
call-back criterion read off what the call-back recorded."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

MIN, MAX = 1, 5
# The call-back item, from what callbacks/ recorded: reached by the due time, reached after it,
# tried and not reached (or due and never tried).
CALLBACK_ON_TIME, CALLBACK_LATE, CALLBACK_MISSED = 5, 3, 1


@dataclass(frozen=True)
class Criteria:
    """The form's items, 1 (poor) to 5 (excellent); `callback` only for a ticket that had one due."""

    accuracy: int
    tone: int
    timeliness: int
    process: int
    callback: int | None = None

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if value is not None and not MIN <= value <= MAX:
                raise ValueError(f"{item.name} must be {MIN} to {MAX}, not {value}")

    def given(self) -> list[int]:
        return [v for v in (self.accuracy, self.tone, self.timeliness, self.process, self.callback) if v is not None]

    def as_dict(self) -> dict[str, int | None]:
        return {item.name: getattr(self, item.name) for item in fields(self)}


def score_of(criteria: Criteria) -> int:
    """The overall score: the mean of the given items, 1 → 0 and 5 → 100 on a straight line,
    rounded half up (all 4s make 75; 5, 4, 4, 3 make 75; 5, 5, 5, 4 make 94)."""
    given = criteria.given()
    points = sum(v - MIN for v in given)  # 0..4 each
    # round-half-up of 100 * points / (4 * n), in integers so no float decides a boundary
    n = len(given) * (MAX - MIN)
    return (200 * points + n) // (2 * n)


def callback_item(*, due_at: datetime, done_at: datetime | None, attempts: int, now: datetime) -> int | None:
    """The call-back item a phone ticket's form starts with (QA may change it): reached on time
    5, reached late 3, not reached 1; None while nobody has tried and it is not due yet."""
    if done_at is not None:
        return CALLBACK_ON_TIME if done_at <= due_at else CALLBACK_LATE
    if attempts > 0 or due_at < now:
        return CALLBACK_MISSED
    return None
