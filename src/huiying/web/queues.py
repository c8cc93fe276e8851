"""The agent's queues: each a named ticket query, counted for the sidebar."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from huiying.accounts import access
from huiying.kit.actor import Actor
from huiying.tickets import repository
from huiying.tickets.enums import Status
from huiying.tickets.repository import TicketQuery

ACTIVE = [Status.NEW, Status.OPEN, Status.PENDING]
QUEUES = ("mine", "team_unassigned", "open", "due_soon", "overdue", "needs_refinement", "all")


@dataclass(frozen=True)
class QueueCount:
    key: str
    count: int


def query_for(queue: str, *, actor: Actor, email: str, due_soon_minutes: int) -> TicketQuery:
    """The base query of a queue, already limited to what the actor may see."""
    visible = access.visible_team_ids(actor)
    # VIPs and special groups first in every queue (SPEC: they skip the queue).
    base = TicketQuery(visible_team_ids=visible, due_soon_minutes=due_soon_minutes, lane_first=True)
    if queue == "mine":
        return replace(base, status=ACTIVE, assignee=email)
    if queue == "team_unassigned":
        teams = actor.team_ids if visible is not None else None
        return replace(base, status=ACTIVE, assignee="none", team_ids=teams, routed=True)
    if queue == "open":
        return replace(base, status=ACTIVE)
    if queue == "due_soon":
        return replace(base, sla="due_soon")
    if queue == "overdue":
        return replace(base, sla="breached")
    if queue == "needs_refinement":
        return replace(base, status=ACTIVE, needs_refinement=True)
    return base


def counts(session: Session, *, actor: Actor, email: str, due_soon_minutes: int) -> list[QueueCount]:
    return [
        QueueCount(
            key,
            repository.count_tickets(
                session, query_for(key, actor=actor, email=email, due_soon_minutes=due_soon_minutes)
            ),
        )
        for key in QUEUES
        if key != "all"
    ]
