"""Creating, finding and ending web sessions; CSRF tokens bound to them."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from huiying.accounts.models import User
from huiying.kit.clock import utcnow
from huiying.web.models import WebSession

COOKIE = "hy_session"
LOGIN_CSRF_COOKIE = "hy_login_csrf"
# Refresh last_seen_at at most this often, so every page view is not a write.
TOUCH_EVERY = timedelta(minutes=5)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def start(
    session: Session, *, user: User, ttl: timedelta, ip: str | None, user_agent: str | None
) -> tuple[str, WebSession]:
    """A new session; returns the cookie value (shown once) and the row."""
    cookie = secrets.token_urlsafe(32)
    now = utcnow()
    row = WebSession(
        id=_digest(cookie),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + ttl,
        last_seen_at=now,
        ip=ip,
        user_agent=(user_agent or "")[:300],
    )
    session.add(row)
    session.flush()
    return cookie, row


def find(session: Session, cookie: str | None) -> WebSession | None:
    """The live session for a cookie value, or None."""
    if not cookie or len(cookie) > 100:
        return None
    row = session.get(WebSession, _digest(cookie))
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now or not row.user.active:
        return None
    return row


def rights_version(session: Session, cookie: str) -> int | None:
    """The rights version of the session's person while the session lives; None once it has
    ended (logout, expiry, deactivation). One indexed single-row read, for long-lived streams."""
    row = session.execute(
        select(WebSession.revoked_at, WebSession.expires_at, User.active, User.rights_version)
        .join(User, User.id == WebSession.user_id)
        .where(WebSession.id == _digest(cookie))
    ).one_or_none()
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow() or not row.active:
        return None
    return int(row.rights_version)


def needs_touch(row: WebSession) -> bool:
    return utcnow() - row.last_seen_at > TOUCH_EVERY


def touch(session: Session, cookie: str) -> None:
    session.execute(update(WebSession).where(WebSession.id == _digest(cookie)).values(last_seen_at=utcnow()))


def end(session: Session, cookie: str | None) -> None:
    if cookie:
        session.execute(update(WebSession).where(WebSession.id == _digest(cookie)).values(revoked_at=utcnow()))


def end_all(session: Session, user_id: int) -> None:
    session.execute(
        update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def csrf_matches(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of a submitted CSRF token with the expected one."""
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))
