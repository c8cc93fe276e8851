"""FastAPI dependencies: the app's Database and settings, and who is calling."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from huiying.accounts import service as accounts
from huiying.accounts.actor import Actor, platform_user
from huiying.config import Settings
from huiying.db import Database
from huiying.errors import Unauthenticated

_bearer = HTTPBearer(auto_error=False, description="a token from POST /api/v1/auth/token")


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def optional_staff(
    request: Request,
    db: Annotated[Database, Depends(get_db)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor | None:
    """The staff member behind the bearer token, None without one; a bad token is a 401."""
    if credentials is None:
        return None
    with db.read() as session:
        token = accounts.resolve_token(session, credentials.credentials)
        scopes = frozenset(token.scopes) if token.kind == "api_key" and token.scopes else None
        return accounts.actor_for(token.user, scopes=scopes, ip=client_ip(request))


def staff(actor: Annotated[Actor | None, Depends(optional_staff)]) -> Actor:
    """The calling staff member; 401 without a valid bearer token."""
    if actor is None:
        raise Unauthenticated("this needs a staff bearer token: POST /api/v1/auth/token")
    return actor


def staff_or_user(
    request: Request, actor: Annotated[Actor | None, Depends(optional_staff)]
) -> Actor:
    """Staff when a token is sent, otherwise the anonymous platform user of a public endpoint."""
    return actor or platform_user(None, ip=client_ip(request))


DB = Annotated[Database, Depends(get_db)]
AppSettings = Annotated[Settings, Depends(get_settings)]
Staff = Annotated[Actor, Depends(staff)]
Caller = Annotated[Actor, Depends(staff_or_user)]
