"""Reading the suggestion pool: its groups with their counts (distinct users, tickets, staff
votes) for the list, and one group with the member tickets the reader may see. Read-only: the
service (service.py) is the only writer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, func, literal, or_, select
from sqlalchemy.orm import Session

from huiying.accounts import access
from huiying.accounts.models import User
from huiying.errors import InvalidInput
from huiying.kit.actor import Actor
from huiying.kit.sql import escape_like
from huiying.suggestions.models import STATUSES, SuggestionGroup, SuggestionMember, SuggestionVote
from huiying.suggestions.service import group_for
from huiying.tickets.models import Ticket


def _user_key() -> Any:
    """Who a member is for the count of users: the platform user, else the contact, else the ticket."""
    return func.coalesce(
        literal("u:") + Ticket.user_id, literal("c:") + Ticket.contact_digest, literal("t:") + cast(Ticket.id, String)
    )


@dataclass(frozen=True)
class GroupRow:
    id: int
    title: str
    status: str
    timeline: str | None
    reason: str | None
    users: int
    tickets: int
    votes: int
    voted: bool  # by the reader
    updated_at: datetime


def list_groups(
    session: Session, *, actor: Actor, status: str | None = None, q: str | None = None, limit: int = 200
) -> list[GroupRow]:
    """The pool's groups with their counts, most users first (then most tickets, then oldest)."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}", details={"field": "status"})
    members = (
        select(
            SuggestionMember.group_id.label("group_id"),
            func.count(func.distinct(_user_key())).label("users"),
            func.count().label("tickets"),
        )
        .join(Ticket, Ticket.id == SuggestionMember.ticket_id)
        .group_by(SuggestionMember.group_id)
        .subquery()
    )
    votes = (
        select(SuggestionVote.group_id.label("group_id"), func.count().label("votes"))
        .group_by(SuggestionVote.group_id)
        .subquery()
    )
    query = (
        select(SuggestionGroup, members.c.users, members.c.tickets, func.coalesce(votes.c.votes, 0))
        .join(members, members.c.group_id == SuggestionGroup.id)
        .outerjoin(votes, votes.c.group_id == SuggestionGroup.id)
    )
    if status is not None:
        query = query.where(SuggestionGroup.status == status)
    if q and q.strip():
        query = query.where(SuggestionGroup.title.ilike(f"%{escape_like(q.strip())}%", escape="\\"))
    query = query.order_by(members.c.users.desc(), members.c.tickets.desc(), SuggestionGroup.id).limit(limit)
    rows = list(session.execute(query))
    mine = _voted_by(session, actor, [group.id for group, *_ in rows])
    return [
        GroupRow(
            id=group.id,
            title=group.title,
            status=group.status,
            timeline=group.timeline,
            reason=group.reason,
            users=int(users),
            tickets=int(count),
            votes=int(voted),
            voted=group.id in mine,
            updated_at=group.updated_at,
        )
        for group, users, count, voted in rows
    ]


def _voted_by(session: Session, actor: Actor, group_ids: Sequence[int]) -> set[int]:
    if actor.staff_id is None or not group_ids:
        return set()
    return set(
        session.scalars(
            select(SuggestionVote.group_id).where(
                SuggestionVote.staff_id == actor.staff_id, SuggestionVote.group_id.in_(group_ids)
            )
        )
    )


@dataclass(frozen=True)
class MemberRow:
    number: str
    title: str
    created_at: datetime


@dataclass(frozen=True)
class GroupDetail:
    group: GroupRow
    members: list[MemberRow]  # those the reader may see (the counts are of all)
    decided_by: str | None


def group_detail(session: Session, group_id: int, *, actor: Actor) -> GroupDetail:
    """A group with its counts and the member tickets the reader may see, oldest first."""
    group = group_for(session, group_id)
    counts = session.execute(
        select(func.count(func.distinct(_user_key())), func.count())
        .select_from(SuggestionMember)
        .join(Ticket, Ticket.id == SuggestionMember.ticket_id)
        .where(SuggestionMember.group_id == group.id)
    ).one()
    votes = session.scalar(select(func.count()).where(SuggestionVote.group_id == group.id)) or 0
    query = (
        select(Ticket.number, Ticket.title, Ticket.created_at)
        .join(SuggestionMember, SuggestionMember.ticket_id == Ticket.id)
        .where(SuggestionMember.group_id == group.id)
    )
    teams = access.visible_team_ids(actor)
    if teams is not None:
        query = query.where(or_(Ticket.team_id.is_(None), Ticket.team_id.in_(teams)))
    members = [MemberRow(n, t, c) for n, t, c in session.execute(query.order_by(Ticket.created_at, Ticket.id))]
    decider = session.get(User, group.decided_by) if group.decided_by else None
    row = GroupRow(
        id=group.id,
        title=group.title,
        status=group.status,
        timeline=group.timeline,
        reason=group.reason,
        users=int(counts[0]),
        tickets=int(counts[1]),
        votes=int(votes),
        voted=group.id in _voted_by(session, actor, [group.id]),
        updated_at=group.updated_at,
    )
    return GroupDetail(group=row, members=members, decided_by=decider.email if decider else None)
