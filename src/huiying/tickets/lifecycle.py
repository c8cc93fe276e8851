"""The ticket status machine (CONTRACT.md statuses), pure: no database, no clock.

new ──► open ◄──► pending
 │       │          │
 └───────┴──► resolved ──► closed
                 │  ▲        │
                 └──┴─ open ◄┘   (reopen)
new/open/pending/resolved ──► merged (terminal)
"""

from __future__ import annotations

from typing import Protocol

from huiying.errors import IllegalTransition
from huiying.tickets.enums import Status


class HasStatus(Protocol):
    status: str
    active: bool


ALLOWED: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.OPEN, Status.PENDING, Status.RESOLVED, Status.CLOSED}),
    Status.OPEN: frozenset({Status.PENDING, Status.RESOLVED, Status.CLOSED}),
    Status.PENDING: frozenset({Status.OPEN, Status.RESOLVED, Status.CLOSED}),
    Status.RESOLVED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset({Status.OPEN}),
    Status.MERGED: frozenset(),
}

# Merging is its own operation (it needs a target), never a plain status change.
MERGEABLE = frozenset({Status.NEW, Status.OPEN, Status.PENDING, Status.RESOLVED})

ACTIVE = frozenset({Status.NEW, Status.OPEN, Status.PENDING})


def set_status(ticket: HasStatus, status: Status) -> None:
    """Set a ticket's status and the `active` flag derived from it (the only place that does)."""
    ticket.status = status.value
    ticket.active = status in ACTIVE


def can_transition(current: Status, target: Status) -> bool:
    return target in ALLOWED[current]


def check_transition(current: Status, target: Status) -> None:
    """Raise IllegalTransition (409) unless `current -> target` is in the table."""
    if target == Status.MERGED:
        raise IllegalTransition(
            'merged is set by merging into another ticket: POST .../merge {"into": number}',
            details={"from": current.value, "to": target.value},
        )
    if not can_transition(current, target):
        allowed = sorted(s.value for s in ALLOWED[current])
        raise IllegalTransition(
            f"a {current.value} ticket cannot become {target.value}"
            + (f"; allowed: {', '.join(allowed)}" if allowed else "; it is final"),
            details={"from": current.value, "to": target.value, "allowed": allowed},
        )


def is_reopen(current: Status, target: Status) -> bool:
    return current in (Status.RESOLVED, Status.CLOSED) and target == Status.OPEN


def check_merge(source: Status, target: Status) -> None:
    """Raise IllegalTransition unless a `source` ticket may be merged into a `target` ticket."""
    if source not in MERGEABLE:
        raise IllegalTransition(f"a {source.value} ticket cannot be merged")
    if target in (Status.MERGED, Status.CLOSED):
        raise IllegalTransition(f"cannot merge into a {target.value} ticket")
