"""Domain events and who reacts to them.

Services publish; other packages subscribe, so `tickets` never imports `sla`, `triage` or the
notifications. Two moments:
- `in_transaction` handlers run inside the publishing transaction and may write (triage sets the
  category of a new ticket before anyone can see it without one);
- `after_commit` handlers run once the change is durable (wake the job runner, push to live
  pages); they must not write through the publishing session.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.orm import Session

from huiying.db import call_after_commit


@dataclass(frozen=True)
class Event:
    ticket_id: int


@dataclass(frozen=True)
class TicketCreated(Event):
    number: str
    channel: str
    # Fields the submitter set themselves ("category", "priority"): triage keeps those.
    given: frozenset[str] = frozenset()


@dataclass(frozen=True)
class TicketChanged(Event):
    """Fields changed by a person or a rule: {field: (old, new)}."""

    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    actor_type: str = "system"
    # False when the same change also sets the team itself (a PATCH with category and team):
    # routing then leaves the team to the person.
    reroute: bool = True


@dataclass(frozen=True)
class StatusChanged(Event):
    old: str
    new: str


@dataclass(frozen=True)
class MessageAdded(Event):
    message_id: int
    kind: str
    author_type: str


@dataclass(frozen=True)
class TicketsMerged(Event):
    """`ticket_id` was merged into `into_id`."""

    into_id: int


Phase = Literal["in_transaction", "after_commit"]
InTransactionHandler = Callable[[Session, Any], None]
AfterCommitHandler = Callable[[Any], None]

_in_transaction: dict[type[Event], list[InTransactionHandler]] = defaultdict(list)
_after_commit: dict[type[Event], list[AfterCommitHandler]] = defaultdict(list)


def subscribe_in_transaction(event_type: type[Event], handler: InTransactionHandler) -> None:
    if handler not in _in_transaction[event_type]:
        _in_transaction[event_type].append(handler)


def subscribe_after_commit(event_type: type[Event], handler: AfterCommitHandler) -> None:
    if handler not in _after_commit[event_type]:
        _after_commit[event_type].append(handler)


def unsubscribe(handler: Callable[..., None]) -> None:
    for table in (_in_transaction, _after_commit):
        for handlers in table.values():
            if handler in handlers:
                handlers.remove(handler)


def publish(session: Session, event: Event) -> None:
    """Run the in-transaction handlers now and queue the after-commit ones."""
    for handler in list(_in_transaction[type(event)]):
        handler(session, event)
    for after in list(_after_commit[type(event)]):
        call_after_commit(session, _bind(after, event))


def _bind(handler: AfterCommitHandler, event: Event) -> Callable[[], None]:
    return lambda: handler(event)
