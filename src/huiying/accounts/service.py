"""Staff accounts and teams: create, authenticate, issue and resolve tokens."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiying.accounts import passwords, tokens
from huiying.accounts.actor import Actor, ActorType
from huiying.accounts.defaults import DEFAULT_TEAMS
from huiying.accounts.models import AccessToken, Team, User
from huiying.accounts.roles import Role
from huiying.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from huiying.kit.clock import utcnow

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 10


def actor_for(user: User, *, scopes: frozenset[str] | None = None, ip: str | None = None) -> Actor:
    """The Actor a logged-in staff member acts as."""
    return Actor(
        type=ActorType.STAFF,
        name=user.display_name,
        staff_id=user.id,
        role=Role(user.role),
        team_ids=frozenset(team.id for team in user.teams),
        scopes=scopes,
        ip=ip,
    )


def normalise_email(email: str) -> str:
    value = email.strip().lower()
    if len(value) > 254 or not _EMAIL.match(value):
        raise InvalidInput(f"not an email address: {email!r}", code="invalid_email")
    return value


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    role: Role,
    display_name: str | None = None,
    team_slugs: list[str] | None = None,
) -> User:
    """A new staff account. Refuses a taken email and passwords shorter than 10 characters."""
    address = normalise_email(email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"the password needs at least {MIN_PASSWORD_LENGTH} characters", code="weak_password"
        )
    if session.scalar(select(User.id).where(User.email == address)) is not None:
        raise Conflict(f"a staff account for {address} already exists", code="email_taken")
    user = User(
        email=address,
        display_name=display_name or address.split("@")[0],
        password_hash=passwords.hash_password(password),
        role=role.value,
        teams=[team_by_slug(session, slug) for slug in team_slugs or []],
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, *, email: str, password: str) -> User:
    """The active user with these credentials; one vague error for every failure."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    ok = passwords.verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        raise Unauthenticated("wrong email or password", code="bad_credentials")
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_login_at = utcnow()
    return user


def issue_token(
    session: Session,
    *,
    user: User,
    ttl: timedelta | None,
    kind: str = "bearer",
    name: str | None = None,
    scopes: list[str] | None = None,
) -> tuple[str, AccessToken]:
    """A new token for `user`; the clear text is returned once and never stored."""
    token = tokens.new_token()
    now = utcnow()
    row = AccessToken(
        user_id=user.id,
        token_hash=tokens.digest(token),
        kind=kind,
        name=name,
        scopes=scopes,
        created_at=now,
        expires_at=now + ttl if ttl else None,
    )
    session.add(row)
    session.flush()
    return token, row


def resolve_token(session: Session, token: str) -> AccessToken:
    """The live token row for `token`, or Unauthenticated."""
    if not tokens.looks_like_token(token):
        raise Unauthenticated("the bearer token is malformed", code="bad_token")
    row = session.scalar(select(AccessToken).where(AccessToken.token_hash == tokens.digest(token)))
    if row is None or not row.usable_at(utcnow()) or not row.user.active:
        raise Unauthenticated("the bearer token is unknown, expired or revoked", code="bad_token")
    return row


def team_by_slug(session: Session, slug: str) -> Team:
    team = session.scalar(select(Team).where(Team.slug == slug))
    if team is None:
        raise NotFound(f"no team with slug {slug!r}", code="unknown_team")
    return team


def user_by_email(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"no staff account {email!r}", code="unknown_user")
    return user


def list_teams(session: Session) -> list[Team]:
    return list(session.scalars(select(Team).order_by(Team.id)))


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
    return created
