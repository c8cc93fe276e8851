"""Staff accounts: create and change them, log them in (with lock-out), tokens and API keys."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from huiying.accounts import passwords, rights, teams, tokens
from huiying.accounts.access import API_KEY_SCOPES
from huiying.accounts.models import AccessToken, User
from huiying.audit import service as audit
from huiying.errors import Conflict, InvalidInput, NotFound, RateLimited, Unauthenticated
from huiying.kit.actor import SYSTEM, Actor, ActorType
from huiying.kit.clock import utcnow
from huiying.kit.roles import Role

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 10
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)

# Re-exported so callers keep one import for "accounts" (teams live in their own module).
team_by_slug = teams.team_by_slug
list_teams = teams.list_teams
ensure_default_teams = teams.ensure_default_teams


def actor_for(session: Session, user: User, *, scopes: frozenset[str] | None = None, ip: str | None = None) -> Actor:
    """The Actor a logged-in staff member acts as (teams include their sub-teams)."""
    return Actor(
        type=ActorType.STAFF,
        name=user.display_name,
        staff_id=user.id,
        role=Role(user.role),
        team_ids=teams.with_descendants(session, {team.id for team in user.teams}),
        scopes=scopes,
        ip=ip,
    )


def normalise_email(email: str) -> str:
    value = email.strip().lower()
    if len(value) > 254 or not _EMAIL.match(value):
        raise InvalidInput(f"not an email address: {email!r}", code="invalid_email")
    return value


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"the password needs at least {MIN_PASSWORD_LENGTH} characters", code="weak_password")


def _describe(user: User) -> dict[str, object]:
    return {
        "email": user.email,
        "role": user.role,
        "teams": sorted(t.slug for t in user.teams),
        "active": user.active,
        "display_name": user.display_name,
    }


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    role: Role,
    display_name: str | None = None,
    team_slugs: list[str] | None = None,
    actor: Actor = SYSTEM,
) -> User:
    """A new staff account. Refuses a taken email and passwords shorter than 10 characters."""
    address = normalise_email(email)
    _check_password(password)
    if session.scalar(select(User.id).where(User.email == address)) is not None:
        raise Conflict(f"a staff account for {address} already exists", code="email_taken")
    user = User(
        email=address,
        display_name=(display_name or address.split("@")[0])[:100],
        password_hash=passwords.hash_password(password),
        role=role.value,
        teams=[teams.team_by_slug(session, slug) for slug in dict.fromkeys(team_slugs or [])],
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="staff.created",
        object_type="staff",
        object_id=address,
        after=_describe(user),
    )
    return user


def update_user(
    session: Session,
    user: User,
    *,
    actor: Actor,
    role: Role | None = None,
    team_slugs: list[str] | None = None,
    active: bool | None = None,
    display_name: str | None = None,
    password: str | None = None,
) -> User:
    """Change a staff account; deactivating it revokes all its tokens at once, and any change
    to role, teams, name or active applies to the person's next request in every process."""
    before = _describe(user)
    if role is not None:
        user.role = role.value
    if team_slugs is not None:
        user.teams = [teams.team_by_slug(session, slug) for slug in dict.fromkeys(team_slugs)]
    if display_name is not None:
        user.display_name = display_name[:100]
    if password is not None:
        _check_password(password)
        user.password_hash = passwords.hash_password(password)
    if active is not None:
        user.active = active
        if not active:
            revoke_all_tokens(session, user)
    after = _describe(user)
    if after != before:
        rights.changed(session, [user.id])
    if after != before or password is not None:
        audit.record(
            session,
            actor=actor,
            action="staff.updated" if password is None else "staff.password_changed",
            object_type="staff",
            object_id=user.email,
            before=before,
            after=after,
        )
    return user


def authenticate(session: Session, *, email: str, password: str, actor: Actor) -> User:
    """The active user with these credentials. A locked account is a 429 saying until when;
    every other failure is the same vague 401 (no telling which emails exist)."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    now = utcnow()
    if user is not None and user.locked_until is not None and user.locked_until > now:
        wait = math.ceil((user.locked_until - now).total_seconds())
        raise RateLimited(
            f"this account is locked after {MAX_FAILED_LOGINS} failed logins; "
            f"try again in {math.ceil(wait / 60)} minutes (账号已锁定，请稍后再试)",
            retry_after=wait,
            code="account_locked",
        )
    ok = passwords.verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        raise Unauthenticated("wrong email or password", code="bad_credentials")
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_login_at = now
    user.failed_logins = 0
    audit.record(
        session,
        actor=_with_staff(actor, user),
        action="auth.login",
        object_type="staff",
        object_id=user.email,
    )
    return user


def note_failed_login(session: Session, *, email: str, actor: Actor) -> None:
    """Count a failed login; the fifth in a row locks the account for 15 minutes."""
    address = email.strip().lower()[:254]
    user = session.scalar(select(User).where(User.email == address))
    after: dict[str, object] | None = None
    if user is not None:
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = utcnow() + LOCKOUT
            user.failed_logins = 0
            after = {"locked_until": user.locked_until.isoformat()}
    audit.record(
        session,
        actor=actor,
        action="auth.login_failed",
        object_type="staff",
        object_id=address,
        after=after,
    )


def _with_staff(actor: Actor, user: User) -> Actor:
    return Actor(
        type=ActorType.STAFF,
        name=user.display_name,
        staff_id=user.id,
        role=Role(user.role),
        ip=actor.ip,
    )


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


def create_api_key(
    session: Session,
    *,
    user: User,
    name: str,
    scopes: Iterable[str],
    ttl: timedelta | None,
    actor: Actor,
) -> tuple[str, AccessToken]:
    """A long-lived key for an integration, limited to `scopes` (a subset of permissions)."""
    wanted = sorted(set(scopes))
    unknown = [s for s in wanted if s not in API_KEY_SCOPES]
    if unknown or not wanted:
        raise InvalidInput(
            f"unknown scopes: {', '.join(unknown)}" if unknown else "an API key needs at least one scope",
            code="invalid_scope",
            details={"allowed": sorted(API_KEY_SCOPES)},
        )
    key, row = issue_token(session, user=user, ttl=ttl, kind="api_key", name=name[:100], scopes=wanted)
    audit.record(
        session,
        actor=actor,
        action="apikey.created",
        object_type="apikey",
        object_id=str(row.id),
        after={"name": name, "user": user.email, "scopes": wanted},
    )
    return key, row


def list_api_keys(session: Session) -> list[AccessToken]:
    statement = select(AccessToken).where(AccessToken.kind == "api_key").order_by(AccessToken.id)
    return list(session.scalars(statement))


def revoke_api_key(session: Session, *, key_id: int, actor: Actor) -> AccessToken:
    row = session.get(AccessToken, key_id)
    if row is None or row.kind != "api_key":
        raise NotFound("no such API key", code="unknown_api_key")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record(
            session,
            actor=actor,
            action="apikey.revoked",
            object_type="apikey",
            object_id=str(row.id),
        )
    return row


def revoke_token(session: Session, token: str) -> None:
    """Log out: the token stops working at once."""
    session.execute(
        update(AccessToken)
        .where(AccessToken.token_hash == tokens.digest(token), AccessToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def revoke_all_tokens(session: Session, user: User) -> None:
    session.execute(
        update(AccessToken)
        .where(AccessToken.user_id == user.id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def token_rights_version(session: Session, token_hash: str) -> int | None:
    """The owner's rights version while the token works; None once it is revoked, expired or
    its owner deactivated. One indexed single-row read: the per-request check of a cached token."""
    row = session.execute(
        select(AccessToken.revoked_at, AccessToken.expires_at, User.active, User.rights_version)
        .join(User, User.id == AccessToken.user_id)
        .where(AccessToken.token_hash == token_hash)
    ).one_or_none()
    if row is None or row.revoked_at is not None or not row.active:
        return None
    if row.expires_at is not None and row.expires_at <= utcnow():
        return None
    return int(row.rights_version)


def resolve_token(session: Session, token: str) -> AccessToken:
    """The live token row for `token`, or Unauthenticated."""
    if not tokens.looks_like_token(token):
        raise Unauthenticated("the bearer token is malformed", code="bad_token")
    row = session.scalar(select(AccessToken).where(AccessToken.token_hash == tokens.digest(token)))
    if row is None or not row.usable_at(utcnow()) or not row.user.active:
        raise Unauthenticated("the bearer token is unknown, expired or revoked", code="bad_token")
    return row


def user_by_email(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"no staff account {email!r}", code="unknown_user")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))
