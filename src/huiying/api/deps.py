"""FastAPI dependencies: the app's Database and settings, and who is calling."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from huiying.accounts import service as accounts
from huiying.accounts import tokens
from huiying.accounts.actor import Actor, platform_user
from huiying.accounts.tokens import TTLCache
from huiying.config import Settings
from huiying.db import Database
from huiying.errors import Unauthenticated
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
    return request.client.host if request.client else None


_actors: TTLCache[Actor] = TTLCache(ttl=10.0)


def _actor_for_token(db: Database, token: str) -> Actor:
    key = tokens.digest(token)
    cached = _actors.get(key)
    if cached is not None:
        return cached
    with db.read() as session:
        row = accounts.resolve_token(session, token)
        scopes = frozenset(row.scopes) if row.kind == "api_key" and row.scopes else None
        actor = accounts.actor_for(session, row.user, scopes=scopes)
        not_after = None
        if row.expires_at is not None:
            not_after = time.monotonic() + (row.expires_at - utcnow()).total_seconds()
    _actors.put(key, actor, not_after=not_after)
    return actor


def forget_token(token: str) -> None:
    """Drop a token from this process's cache (after logout or revocation)."""
    _actors.forget(tokens.digest(token))


def forget_all_tokens() -> None:
    """Drop every cached token lookup (after a change to roles, teams or keys)."""
    _actors.clear()


async def optional_staff(
    request: Request,
    db: Annotated[Database, Depends(get_db)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor | None:
    """The staff member behind the bearer token, None without one; a bad token is a 401."""
    if credentials is None:
        return None
    actor = _actors.get(tokens.digest(credentials.credentials))
    if actor is None:
        actor = await run_in_threadpool(_actor_for_token, db, credentials.credentials)
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
