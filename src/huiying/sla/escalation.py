"""Escalation: one level up the ladder (first line → senior → supervisor), by hand or on a breach.

The ladder lives here, above tickets; `tickets.service.escalate` applies what it decides.
Level 1 goes to a senior agent of the ticket's team (the team's pool when it has none), level 2
and above to the team's supervisor. A named specialist team takes the ticket into its pool. A
major incident skips the ladder: tagged, urgent, every team's supervisors alerted at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiying.accounts import teams
from huiying.accounts.models import Team, TeamMember, User
from huiying.alerts.service import alert_staff
from huiying.errors import Conflict, InvalidInput, NotFound
from huiying.kit.actor import Actor
from huiying.kit.roles import Role
from huiying.tickets import service as tickets
from huiying.tickets.enums import Priority
from huiying.tickets.models import Ticket

MAJOR_INCIDENT_TAG = "major_incident"
# Past the supervisor there is nobody higher in a team: the level still rises (it is counted
# and shown), the ticket stays with the supervisor.
SUPERVISOR_LEVEL = 2


def role_for_level(level: int) -> Role:
    """Who works a ticket at escalation `level` (1 and up). Pure."""
    return Role.SENIOR if level <= 1 else Role.SUPERVISOR


def members(session: Session, team_id: int | None, role: Role) -> list[User]:
    """Active staff of `role` in the team, in a stable order (available first, then by id)."""
    if team_id is None:
        return []
    query = (
        select(User)
        .join(TeamMember, TeamMember.user_id == User.id)
        .where(TeamMember.team_id == team_id, User.role == role.value, User.active.is_(True))
        .order_by(User.id)
    )
    found = list(session.scalars(query))
    return sorted(found, key=lambda u: u.availability != "available")


def supervisor_ids(session: Session, team_id: int | None) -> list[int]:
    return [user.id for user in members(session, team_id, Role.SUPERVISOR)]


@dataclass(frozen=True)
class Escalated:
    level: int
    team: str | None
    assignee: str | None


def _alert(session: Session, ticket: Ticket, *, kind: str, reason: str, user_ids: list[int], urgent: bool) -> None:
    who = ticket.assignee.display_name if ticket.assignee else "团队待领取"
    who_en = ticket.assignee.display_name if ticket.assignee else "the team's queue"
    alert_staff(
        session,
        kind=kind,
        text_zh=f"工单 {ticket.number} 已升级至第 {ticket.escalation_level} 级（{reason}），现由 {who} 处理。",
        text_en=f"Ticket {ticket.number} escalated to level {ticket.escalation_level} ({reason}); now with {who_en}.",
        team_id=ticket.team_id,
        user_ids=user_ids,
        ticket_id=ticket.id,
        urgent=urgent,
    )


def escalate(
    session: Session,
    ticket: Ticket,
    *,
    reason: str,
    actor: Actor,
    team_slug: str | None = None,
    major_incident: bool = False,
    kind: str = "escalation",
) -> Escalated:
    """One level up (or straight to a major incident); the ticket must be locked by the caller."""
    if major_incident:
        return _major_incident(session, ticket, reason=reason, actor=actor)
    level = ticket.escalation_level + 1
    if team_slug is not None:
        try:
            team: Team | None = teams.team_by_slug(session, team_slug)
        except NotFound:
            raise InvalidInput(f"no team with slug {team_slug!r}", code="unknown_team") from None
        assignee = None  # a specialist group takes it into its pool
    else:
        team = ticket.team
        candidates = members(session, ticket.team_id, role_for_level(level))
        assignee = candidates[0] if candidates else None
        if assignee is None and level > SUPERVISOR_LEVEL:
            assignee = ticket.assignee  # nobody higher: it stays where it is
    tickets.escalate(session, ticket, level=level, team=team, assignee=assignee, reason=reason, actor=actor)
    notify = [ticket.assignee_id] if ticket.assignee_id else []
    notify += supervisor_ids(session, ticket.team_id)
    _alert(session, ticket, kind=kind, reason=reason, user_ids=notify, urgent=ticket.priority == Priority.URGENT)
    return Escalated(
        level, ticket.team.slug if ticket.team else None, ticket.assignee.email if ticket.assignee else None
    )


def _major_incident(session: Session, ticket: Ticket, *, reason: str, actor: Actor) -> Escalated:
    if MAJOR_INCIDENT_TAG in ticket.tags:
        raise Conflict(f"ticket {ticket.number} is a major incident already", code="already_major_incident")
    level = max(ticket.escalation_level + 1, SUPERVISOR_LEVEL + 1)
    tickets.escalate(
        session,
        ticket,
        level=level,
        team=ticket.team,
        assignee=ticket.assignee,
        reason=reason,
        actor=actor,
        tags=[MAJOR_INCIDENT_TAG],
    )
    tickets.set_priority(session, ticket, priority=Priority.URGENT, actor=actor)
    every_team = [team.id for team in session.scalars(select(Team).where(Team.active.is_(True)))]
    for team_id in every_team:
        alert_staff(
            session,
            kind="major_incident",
            text_zh=f"重大事件：工单 {ticket.number}（{reason}），请各团队主管立即关注。",
            text_en=f"Major incident: ticket {ticket.number} ({reason}); every team's supervisor, please act now.",
            team_id=team_id,
            user_ids=supervisor_ids(session, team_id),
            ticket_id=ticket.id,
            urgent=True,
        )
    return Escalated(
        level, ticket.team.slug if ticket.team else None, ticket.assignee.email if ticket.assignee else None
    )
