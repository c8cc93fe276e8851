"""Teams and their sub-teams; who belongs to which."""

from __future__ import annotations

import re
import time
import weakref
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.pool import Pool

from huiying.accounts import rights
from huiying.accounts.defaults import DEFAULT_TEAMS
from huiying.accounts.models import Team, User
from huiying.audit import service as audit
from huiying.db import call_after_commit
from huiying.errors import Conflict, InvalidInput, NotFound
from huiying.kit.actor import Actor

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,47}$")


def list_teams(session: Session) -> list[Team]:
    return list(session.scalars(select(Team).order_by(Team.id)))


def team_by_slug(session: Session, slug: str) -> Team:
    team = session.scalar(select(Team).where(Team.slug == slug))
    if team is None:
        raise NotFound(f"no team with slug {slug!r}", code="unknown_team")
    return team


# Triage routes every new ticket to its category's team; teams change rarely, so each process
# keeps the active ones for a few seconds (and drops them at once when it edits one itself).
CACHE_SECONDS = 10.0
# Keyed by the connection pool: a Database's read and write engines are two option views of one
# engine (different objects), and an edit through either must drop what both see.
_cache: weakref.WeakKeyDictionary[Pool, tuple[float, dict[str, Team]]] = weakref.WeakKeyDictionary()


def _active_teams(session: Session) -> dict[str, Team]:
    pool = session.get_bind().engine.pool
    cached = _cache.get(pool)
    now = time.monotonic()
    if cached is None or cached[0] < now:
        found = {team.slug: team for team in map(_detached_copy, session.execute(_ACTIVE_TEAMS).mappings())}
        cached = (now + CACHE_SECONDS, found)
        _cache[pool] = cached
    return cached[1]


def active_team(session: Session, slug: str) -> Team | None:
    """The active team `slug`, from a short-lived per-process cache, attached to `session`
    without a query (merge with load=False: the cached copy is taken as the row's state)."""
    team = _active_teams(session).get(slug)
    return session.merge(team, load=False) if team is not None else None


def active_team_names(session: Session, team_id: int) -> tuple[str, str] | None:
    """The (zh, en) names of the active team `team_id`, from the same cache (labels on the
    timeline: no query, no entity)."""
    team = next((t for t in _active_teams(session).values() if t.id == team_id), None)
    return (team.name_zh, team.name_en) if team is not None else None


_ACTIVE_TEAMS = select(*Team.__table__.columns).where(Team.active)


def _detached_copy(row: Any) -> Team:
    team = Team(**row)
    make_transient_to_detached(team)  # a copy of a stored row, owned by no session
    return team


def forget_cached(session: Session) -> None:
    """Drop the cached teams now and again once this change is committed (another request may
    fill the cache meanwhile, without the change)."""
    pool = session.get_bind().engine.pool

    def forget() -> None:
        _cache.pop(pool, None)

    forget()
    call_after_commit(session, forget)


def with_descendants(session: Session, team_ids: set[int]) -> frozenset[int]:
    """`team_ids` and every team below them (members of a team see its sub-teams' work)."""
    if not team_ids:
        return frozenset()
    children: dict[int, list[int]] = {}
    for team_id, parent_id in session.execute(select(Team.id, Team.parent_id)):
        if parent_id is not None:
            children.setdefault(parent_id, []).append(team_id)
    found = set(team_ids)
    frontier = list(team_ids)
    while frontier:
        for child in children.get(frontier.pop(), []):
            if child not in found:
                found.add(child)
                frontier.append(child)
    return frozenset(found)


def create_team(session: Session, *, slug: str, name_zh: str, name_en: str, parent: str | None, actor: Actor) -> Team:
    if not _SLUG.match(slug):
        raise InvalidInput("a team slug is lower-case letters, digits and dashes", code="invalid_slug")
    if session.scalar(select(Team.id).where(Team.slug == slug)) is not None:
        raise Conflict(f"team {slug!r} exists already", code="team_exists")
    team = Team(
        slug=slug,
        name_zh=name_zh,
        name_en=name_en,
        parent_id=team_by_slug(session, parent).id if parent else None,
    )
    session.add(team)
    session.flush()
    forget_cached(session)
    if team.parent_id is not None:
        # Members of the teams above now see this one too; team trees change rarely, so
        # everyone's cached rights are rebuilt rather than working out whose.
        rights.changed(session, None)
    audit.record(
        session,
        actor=actor,
        action="team.created",
        object_type="team",
        object_id=slug,
        after={"name_zh": name_zh, "name_en": name_en, "parent": parent},
    )
    return team


def update_team(
    session: Session,
    team: Team,
    *,
    actor: Actor,
    name_zh: str | None = None,
    name_en: str | None = None,
    active: bool | None = None,
) -> Team:
    wanted: dict[str, Any] = {"name_zh": name_zh, "name_en": name_en, "active": active}
    forget_cached(session)
    audit.apply_changes(
        session,
        team,
        {field: value for field, value in wanted.items() if value is not None},
        actor=actor,
        action="team.updated",
        object_type="team",
        object_id=team.slug,
    )
    return team


def set_membership(session: Session, team: Team, user: User, *, member: bool, actor: Actor) -> None:
    """Add `user` to `team` or take them out."""
    present = any(t.id == team.id for t in user.teams)
    if member and not present:
        user.teams.append(team)
    elif not member and present:
        user.teams = [t for t in user.teams if t.id != team.id]
    else:
        return
    rights.changed(session, [user.id])
    audit.record(
        session,
        actor=actor,
        action="team.member_added" if member else "team.member_removed",
        object_type="team",
        object_id=team.slug,
        after={"staff": user.email},
    )


def ensure_default_teams(session: Session) -> int:
    """Create the default teams that are missing; returns how many were created."""
    existing = {team.slug: team for team in list_teams(session)}
    created = 0
    for seed in DEFAULT_TEAMS:
        if seed.slug in existing:
            continue
        parent = existing.get(seed.parent) if seed.parent else None
        team = Team(
            slug=seed.slug,
            name_zh=seed.name_zh,
            name_en=seed.name_en,
            parent_id=parent.id if parent else None,
        )
        session.add(team)
        session.flush()
        existing[seed.slug] = team
        created += 1
    if created:
        rights.changed(session, None)  # a new sub-team widens what its parents' members see
    return created
