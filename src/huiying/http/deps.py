"""FastAPI dependencies: the app's Database and settings, and who is calling."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from huiying.accounts import service as accounts
from huiying.accounts import tokens
from huiying.accounts.tokens import TTLCache
from huiying.config import Settings
from huiying.db import Database
from huiying.errors import Unauthenticated
from huiying.kit.actor import Actor, platform_user
from huiying.kit.clock import utcnow

bearer = HTTPBearer(auto_error=False, description="a token from POST /api/v1/auth/token")


# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency on the
# thread pool, a hop that costs more than the work.


async def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def client_ip(request: Request) -> str | None:
    """The caller's IP for limits and the audit log: the TCP peer, or the client a proxy named in
    HUIYING_TRUSTED_PROXIES forwarded for (uvicorn resolves it; `huiying serve` configures it)."""
    return request.client.host if request.client else None


@dataclass(frozen=True)
class _CachedActor:
    actor: Actor
    rights_version: int


# Entries may live long: every use is checked against the database (see _actor_for_token).
CACHE_SECONDS = 300.0
_cache_lock = threading.Lock()


def _actor_cache(request: Request) -> TTLCache[_CachedActor]:
    """The token cache of this app, i.e. of this server process; two apps never share one."""
    state = request.app.state
    cache: TTLCache[_CachedActor] | None = getattr(state, "actor_cache", None)
    if cache is None:
        with _cache_lock:
            cache = getattr(state, "actor_cache", None)
            if cache is None:
                cache = TTLCache(ttl=CACHE_SECONDS)
                state.actor_cache = cache
    return cache


def _actor_for_token(db: Database, cache: TTLCache[_CachedActor], token: str) -> Actor:
    """The staff member behind `token`, or Unauthenticated.

    A cached actor is used only while the token still works and its owner's rights version is
    the one it was built at — one indexed single-row read, so logout, revocation, deactivation
    and rights changes made by any process apply to the very next request. Rebuilding (the
    token, the person, their teams and the team tree) costs three queries; the cache saves those.
    """
    key = tokens.digest(token)
    with db.read() as session:
        cached = cache.get(key)
        if cached is not None:
            version = accounts.token_rights_version(session, key)
            if version == cached.rights_version:
                return cached.actor
            cache.forget(key)
        row = accounts.resolve_token(session, token)  # Unauthenticated for a dead token
        scopes = frozenset(row.scopes) if row.kind == "api_key" and row.scopes else None
        # The version is read with the token row, before the teams: rights built here are at
        # least as new as the version they are stored under.
        version = row.user.rights_version
        actor = accounts.actor_for(session, row.user, scopes=scopes)
        not_after = None
        if row.expires_at is not None:
            not_after = time.monotonic() + (row.expires_at - utcnow()).total_seconds()
    cache.put(key, _CachedActor(actor, version), not_after=not_after)
    return actor


async def optional_staff(
    request: Request,
    db: Annotated[Database, Depends(get_db)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor | None:
    """The staff member behind the bearer token, None without one; a bad token is a 401."""
    if credentials is None:
        return None
    actor = await run_in_threadpool(_actor_for_token, db, _actor_cache(request), credentials.credentials)
    return replace(actor, ip=client_ip(request))


async def staff(actor: Annotated[Actor | None, Depends(optional_staff)]) -> Actor:
    """The calling staff member; 401 without a valid bearer token."""
    if actor is None:
        raise Unauthenticated("this needs a staff bearer token: POST /api/v1/auth/token")
    return actor


async def staff_or_user(request: Request, actor: Annotated[Actor | None, Depends(optional_staff)]) -> Actor:
    """Staff when a token is sent, otherwise the anonymous platform user of a public endpoint."""
    return actor or platform_user(None, ip=client_ip(request))


# Ids in paths and queries: database integers, so out-of-range values are a 422, not a crash.
MAX_ID = 2**31 - 1
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]

DB = Annotated[Database, Depends(get_db)]
AppSettings = Annotated[Settings, Depends(get_settings)]
Staff = Annotated[Actor, Depends(staff)]
Caller = Annotated[Actor, Depends(staff_or_user)]
