"""Who may be given a ticket: active staff whose role works tickets and who see its team.

A ticket given to someone who cannot open it is lost to both sides, so the assignee lists offer
only these people and `check` refuses anyone else (the rule itself: access.can_work_ticket).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiying.accounts import access
from huiying.accounts import service as accounts
from huiying.accounts.models import Team, User
from huiying.errors import InvalidInput
from huiying.kit.actor import Actor, ActorType
from huiying.kit.roles import Role


def _children(session: Session) -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for team_id, parent_id in session.execute(select(Team.id, Team.parent_id)):
        if parent_id is not None:
            children.setdefault(parent_id, []).append(team_id)
    return children


def _as_actor(user: User, children: dict[int, list[int]]) -> Actor:
    """The user as accounts.actor_for would make them, from one read of the team tree."""
    seen = {team.id for team in user.teams}
    frontier = list(seen)
    while frontier:
        for child in children.get(frontier.pop(), []):
            if child not in seen:
                seen.add(child)
                frontier.append(child)
    return Actor(
        type=ActorType.STAFF, name=user.display_name, staff_id=user.id, role=Role(user.role), team_ids=frozenset(seen)
    )


def can_work(session: Session, user: User, team: Team | None) -> bool:
    """Whether `user` may be given a ticket of `team` (None: not yet routed)."""
    return user.active and access.can_work_ticket(_as_actor(user, _children(session)), team.id if team else None)


def eligible(session: Session, team: Team | None) -> list[User]:
    """Everyone who may be given a ticket of `team`, in the staff list's order."""
    children = _children(session)
    return [
        user
        for user in accounts.list_users(session)
        if user.active and access.can_work_ticket(_as_actor(user, children), team.id if team else None)
    ]


def workers(session: Session) -> list[User]:
    """Everyone whose role works tickets at all (the list page's bulk assignment)."""
    return [
        user
        for user in accounts.list_users(session)
        if user.active and access.Permission.TICKET_WRITE in access.ROLE_PERMISSIONS[Role(user.role)]
    ]


def check(session: Session, user: User, team: Team | None) -> None:
    """InvalidInput (422) unless `user` may be given a ticket of `team`, saying why not."""
    if can_work(session, user, team):
        return
    if not user.active:
        reason = "the account is deactivated"
    elif access.Permission.TICKET_WRITE not in access.ROLE_PERMISSIONS[Role(user.role)]:
        reason = f"the {user.role} role does not work tickets"
    else:
        reason = f"they are not in team {team.slug if team else '-'} or a team above it, so they could not open it"
    raise InvalidInput(
        f"{user.email} cannot be given this ticket: {reason}",
        code="assignee_not_eligible",
        details={"assignee": user.email, "team": team.slug if team else None},
    )
