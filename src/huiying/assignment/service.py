"""Handing a team's new work to its agents, confirming receipt, and taking back what lapsed.

Who is in the pool: active agents and seniors who are direct members of the ticket's team
(supervisors and admins can work any ticket of it but give themselves work by hand). The mode is
the team's `assignment_mode`, unless routing put another in `ticket.triage["routing"]`.

Concurrency (round robin must not skip or double anyone under parallel intake): the choice
locks the team row `FOR UPDATE` and only then reads the agents' turns and loads, with column
queries that bypass the session's cache. Two creates for one automatic team therefore choose one
after the other, the second seeing the turn the first wrote. The lock is taken as late as
possible — the assignment handler runs last among the intake handlers, just before the ticket's
INSERT and the COMMIT — so a create waits only for the tail of another create of the same team,
and creates for other teams (or manual ones) never wait. Locking the chosen agent's row instead
would not do: two transactions could both read the same "oldest" agent before either locks.
SQLite has one writer at a time, so the lock is a no-op there.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from huiying import events
from huiying.accounts import teams
from huiying.accounts.models import Team, TeamMember, User
from huiying.alerts import service as alerts
from huiying.assignment import modes
from huiying.audit import service as audit
from huiying.db import Database
from huiying.errors import InvalidInput
from huiying.jobs import outbox
from huiying.jobs import registry as jobs
from huiying.kit.actor import Actor, ActorType
from huiying.kit.clock import utcnow
from huiying.kit.roles import Role
from huiying.tickets import history, intake, repository
from huiying.tickets import service as tickets
from huiying.tickets.enums import Status
from huiying.tickets.models import Ticket

ASSIGNMENT = Actor(type=ActorType.BOT, name="assignment")
POOL_ROLES = (Role.AGENT.value, Role.SENIOR.value)
OPEN_STATUSES = (Status.NEW.value, Status.OPEN.value, Status.PENDING.value)
# Statuses whose unaccepted work goes back to the pool (a pending ticket waits for the user).
UNACCEPTED_STATUSES = (Status.NEW.value, Status.OPEN.value)
RETURNED_TAG = "returned_to_pool"
SWEEP_JOB = "assignment_lapse_sweep"
RETURN_JOB = "assignment_return_unaccepted"


def _routed(ticket: Ticket) -> dict[str, Any]:
    return dict((ticket.triage or {}).get("routing") or {})


def mode_for(ticket: Ticket, team: Team) -> str:
    """The routing rule's assignment mode for this ticket if one set it, else the team's."""
    return str(_routed(ticket).get("assignment_mode") or team.assignment_mode or modes.Mode.MANUAL.value)


def candidates(
    session: Session, team: Team, *, exclude: Iterable[int] = (), roles: Iterable[str] = POOL_ROLES
) -> list[modes.Candidate]:
    """The team's pool (of `roles`) as it is now in the database (column queries: no cached entities)."""
    return [candidate for _, candidate in _members(session, team, exclude=exclude, roles=roles)]


def _members(
    session: Session, team: Team, *, exclude: Iterable[int], roles: Iterable[str]
) -> list[tuple[str, modes.Candidate]]:
    """The team's members of `roles`, each with its role and its open tickets per priority, in one
    query."""
    left_out, wanted = set(exclude), list(roles)
    members_of_team = select(TeamMember.user_id).where(TeamMember.team_id == team.id)
    load = (
        select(Ticket.assignee_id, Ticket.priority, func.count().label("n"))
        .where(Ticket.assignee_id.in_(members_of_team), Ticket.status.in_(OPEN_STATUSES))
        .group_by(Ticket.assignee_id, Ticket.priority)
        .subquery()
    )
    rows = session.execute(
        select(User.id, User.role, User.availability, User.skills, User.last_assigned_at, load.c.priority, load.c.n)
        .join(TeamMember, TeamMember.user_id == User.id)
        .outerjoin(load, load.c.assignee_id == User.id)
        .where(TeamMember.team_id == team.id, User.active.is_(True), User.role.in_(wanted))
        .order_by(User.id)
    ).all()
    members: dict[int, Any] = {}
    per_priority: dict[int, list[tuple[str, int]]] = {}
    for row in rows:
        if row.id in left_out:
            continue
        members.setdefault(row.id, row)
        if row.priority is not None:
            per_priority.setdefault(row.id, []).append((row.priority, row.n))
    return [
        (
            row.role,
            modes.Candidate(
                id=user_id,
                availability=row.availability,
                open_count=sum(count for _, count in per_priority.get(user_id, [])),
                load=modes.load_of(per_priority.get(user_id, [])),
                last_assigned_at=row.last_assigned_at,
                skills=frozenset(row.skills or []),
            ),
        )
        for user_id, row in members.items()
    ]


def _lock_team(session: Session, team: Team) -> None:
    session.execute(select(Team.id).where(Team.id == team.id).with_for_update())


def auto_assign(session: Session, ticket: Ticket, *, exclude: Iterable[int] = ()) -> User | None:
    """Give an unassigned ticket to someone of its team by the team's mode (nothing for manual
    teams or an assigned ticket); the choice and its reason go on the timeline."""
    team = ticket.team
    if team is None or ticket.assignee is not None:
        return None
    mode = mode_for(ticket, team)
    if mode == modes.Mode.MANUAL or mode not in set(modes.Mode):
        return None
    _lock_team(session, team)
    needed = modes.needed_skills(ticket.subcategory, ticket.language)
    data: dict[str, Any] = {"mode": mode, "team": team.slug}
    choice = None
    # A routing rule may ask for a role first ("urgent → a senior agent"); when nobody of it can
    # take the ticket, the team's whole pool is asked, and the timeline says so.
    role = _routed(ticket).get("assignee_role")
    members = _members(session, team, exclude=exclude, roles={*POOL_ROLES, *([str(role)] if role else [])})
    if role:
        preferred = [candidate for member_role, candidate in members if member_role == role]
        choice = modes.choose(mode, preferred, cap=team.max_open_per_agent, needed=needed)
        data["role"] = role
        if choice is None or choice.agent_id is None:
            choice, data["role_fallback"] = None, True
    pool = [candidate for member_role, candidate in members if member_role in POOL_ROLES]
    if choice is None:
        choice = modes.choose(mode, pool, cap=team.max_open_per_agent, needed=needed)
    if choice is None:
        return None
    data["reason"] = choice.reason
    if mode == modes.Mode.SKILL:
        data["skills"] = sorted(needed)
    if choice.agent_id is None:
        history.record(session, ticket=ticket, actor=ASSIGNMENT, action="assignment_nobody_available", data=data)
        return None
    agent = session.get(User, choice.agent_id)
    assert agent is not None  # it was just read in the pool
    agent.last_assigned_at = modes.next_turn(utcnow(), pool)
    history.record(session, ticket=ticket, actor=ASSIGNMENT, action=f"assigned_{choice.reason}", data=data)
    tickets.assign(session, ticket, team=team, assignee=agent, actor=ASSIGNMENT)
    return agent


def _on_created(session: Session, event: events.Event) -> None:
    assert isinstance(event, events.TicketCreated)
    ticket = intake.being_created(session, event.ticket_id)
    if ticket is not None:
        auto_assign(session, ticket)


def _on_changed(session: Session, event: events.Event) -> None:
    """A ticket moved to another team with nobody on it goes to that team's pool."""
    assert isinstance(event, events.TicketChanged)
    moved = event.changes.get("team")
    if moved is None or moved[1] is None:
        return
    ticket = intake.being_created(session, event.ticket_id)
    # A ticket being created is assigned by _on_created once every intake handler has shaped it.
    if ticket is None or inspect(ticket).transient or ticket.assignee_id is not None:
        return
    if ticket.status in UNACCEPTED_STATUSES:
        auto_assign(session, ticket)


def install() -> None:
    """Subscribe last among the intake handlers: after triage and routing chose team and mode."""
    events.subscribe_in_transaction(events.TicketCreated, _on_created)
    events.subscribe_in_transaction(events.TicketChanged, _on_changed)


# --- unaccepted work goes back to the pool ------------------------------------------------------


def lapsed(session: Session, *, now: datetime) -> list[tuple[int, int, datetime]]:
    """(ticket id, assignee id, assigned_at) of work not accepted within its team's time."""
    rows = session.execute(
        select(Ticket.id, Ticket.assignee_id, Ticket.assigned_at, Team.accept_within_minutes)
        .join(Team, Team.id == Ticket.team_id)
        .where(
            Team.accept_within_minutes.is_not(None),
            Ticket.assignee_id.is_not(None),
            Ticket.accepted_at.is_(None),
            Ticket.assigned_at.is_not(None),
            Ticket.status.in_(UNACCEPTED_STATUSES),
        )
    )
    due: list[tuple[int, int, datetime]] = []
    for ticket_id, assignee_id, assigned_at, minutes in rows:
        if assignee_id is None or assigned_at is None or minutes is None:
            continue  # the query excludes these; the types do not know it
        if assigned_at + timedelta(minutes=minutes) <= now:
            due.append((ticket_id, assignee_id, assigned_at))
    return due


def return_unaccepted(session: Session, *, ticket_id: int, assignee_id: int, assigned_at: datetime) -> bool:
    """Take the ticket back from `assignee_id` if it is still theirs from `assigned_at` and
    unaccepted (so running twice does nothing more), tag it `returned_to_pool`, alert the team's
    supervisors, and assign it again by the team's mode to anyone but them."""
    ticket = session.scalar(repository.for_update(select(Ticket).where(Ticket.id == ticket_id)))
    if (
        ticket is None
        or ticket.assignee_id != assignee_id
        or ticket.accepted_at is not None
        or ticket.assigned_at != assigned_at
        or ticket.status not in UNACCEPTED_STATUSES
        or ticket.team is None
    ):
        return False
    lapsed_agent = ticket.assignee
    team = ticket.team
    history.record(
        session,
        ticket=ticket,
        actor=ASSIGNMENT,
        action="returned_to_pool",
        data={"from": lapsed_agent.email if lapsed_agent else None, "minutes": team.accept_within_minutes},
    )
    tickets.assign(session, ticket, team=team, assignee=None, actor=ASSIGNMENT)
    tickets.add_tags(session, ticket, tags=[RETURNED_TAG], actor=ASSIGNMENT)
    who = lapsed_agent.display_name if lapsed_agent else "?"
    alerts.alert_staff(
        session,
        kind="unaccepted",
        team_id=team.id,
        ticket_id=ticket.id,
        text_zh=f"工单 {ticket.number} 在 {team.accept_within_minutes} 分钟内未被 {who} 确认接收，已退回待分派池",
        text_en=(
            f"Ticket {ticket.number} was not accepted by {who} within {team.accept_within_minutes} min;"
            " it is back in the pool"
        ),
        urgent=ticket.priority == "urgent",
    )
    auto_assign(session, ticket, exclude=[assignee_id])
    return True


def sweep_lapsed(db: Database) -> None:
    """Periodic: one query for lapsed work, one job per ticket."""
    with db.write() as session:
        for ticket_id, assignee_id, assigned_at in lapsed(session, now=utcnow()):
            payload = {"ticket_id": ticket_id, "assignee_id": assignee_id, "assigned_at": assigned_at.isoformat()}
            outbox.enqueue(session, RETURN_JOB, payload)


def _return_job(db: Database, payload: dict[str, Any]) -> None:
    with db.write() as session:
        return_unaccepted(
            session,
            ticket_id=int(payload["ticket_id"]),
            assignee_id=int(payload["assignee_id"]),
            assigned_at=datetime.fromisoformat(payload["assigned_at"]),
        )


def register_jobs() -> None:
    jobs.register(RETURN_JOB, _return_job)
    jobs.register_periodic(SWEEP_JOB, sweep_lapsed, every=timedelta(minutes=1))


# --- availability, skills, team settings --------------------------------------------------------


def set_availability(session: Session, user: User, *, availability: str, actor: Actor) -> None:
    """Available / away / off shift; nobody away or off shift is given work. Audited."""
    if availability not in set(modes.Availability):
        raise InvalidInput(
            "availability is available, away or off_shift",
            code="invalid_availability",
            details={"field": "availability"},
        )
    audit.apply_changes(
        session,
        user,
        {"availability": availability},
        actor=actor,
        action="staff.availability_changed",
        object_type="staff",
        object_id=user.email,
    )


def set_skills(session: Session, user: User, *, skills: Iterable[str], actor: Actor) -> None:
    """The agent's skills (sub-category slugs, languages such as `zh`, `en`). Audited."""
    wanted = sorted({skill.strip().lower() for skill in skills if skill.strip()})
    audit.apply_changes(
        session,
        user,
        {"skills": wanted},
        actor=actor,
        action="staff.skills_changed",
        object_type="staff",
        object_id=user.email,
    )


TEAM_FIELDS = ("assignment_mode", "max_open_per_agent", "accept_within_minutes")


def configure_team(session: Session, team: Team, *, changes: dict[str, Any], actor: Actor) -> None:
    """Set the team's assignment fields present in `changes` (None clears a cap or deadline). Audited."""
    unknown = set(changes) - set(TEAM_FIELDS)
    if unknown:
        raise InvalidInput(f"these team fields cannot be changed here: {', '.join(sorted(unknown))}")
    if "assignment_mode" in changes and changes["assignment_mode"] not in set(modes.Mode):
        raise InvalidInput(
            "assignment_mode is manual, round_robin, least_loaded or skill",
            code="invalid_assignment_mode",
            details={"field": "assignment_mode"},
        )
    if changes.get("assignment_mode") is None:
        changes = {k: v for k, v in changes.items() if k != "assignment_mode"}
    for field in ("max_open_per_agent", "accept_within_minutes"):
        value = changes.get(field)
        if value is not None and (not isinstance(value, int) or value < 1):
            raise InvalidInput(f"{field} is a whole number of at least 1, or null", details={"field": field})
    teams.forget_cached(session)
    audit.apply_changes(
        session, team, changes, actor=actor, action="team.assignment_changed", object_type="team", object_id=team.slug
    )
