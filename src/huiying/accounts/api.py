"""Login and logout, the caller's account, staff and team administration, API keys."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy.orm import Session

from huiying.accounts import access, service, teams
from huiying.accounts.access import Permission
from huiying.accounts.models import AccessToken, Team, User
from huiying.accounts.schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    StaffIn,
    StaffOut,
    StaffPatch,
    TeamIn,
    TeamOut,
    TeamPatch,
    TokenOut,
    TokenRequest,
)
from huiying.assignment import service as assignment
from huiying.errors import Forbidden, Unauthenticated
from huiying.http.deps import (
    DB,
    AppSettings,
    PathId,
    Staff,
    bearer,
    client_ip,
)
from huiying.http.ratelimit import limits_of
from huiying.http.responses import json_model, json_models
from huiying.kit.actor import Actor, platform_user
from huiying.kit.roles import Role

router = APIRouter(prefix="/api/v1", tags=["accounts"])


def staff_out(user: User) -> StaffOut:
    return StaffOut(
        email=user.email,
        display_name=user.display_name,
        role=user.role,
        teams=[team.slug for team in user.teams],
        active=user.active,
    )


def team_out(team: Team, slugs: dict[int, str]) -> TeamOut:
    return TeamOut(
        slug=team.slug,
        name_zh=team.name_zh,
        name_en=team.name_en,
        parent=slugs.get(team.parent_id) if team.parent_id else None,
        active=team.active,
        assignment_mode=team.assignment_mode,
        max_open_per_agent=team.max_open_per_agent,
        accept_within_minutes=team.accept_within_minutes,
    )


def api_key_out(row: AccessToken) -> ApiKeyOut:
    return ApiKeyOut(
        id=row.id,
        name=row.name or "",
        user=row.user.email,
        scopes=row.scopes or [],
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked=row.revoked_at is not None,
    )


@router.post("/auth/token", response_model=TokenOut)
def login(body: TokenRequest, request: Request, db: DB, settings: AppSettings) -> Response:
    """Exchange email and password for a bearer token that expires. Five wrong passwords in a
    row lock the account for 15 minutes; attempts are also limited per account and per IP."""
    caller = platform_user(None, ip=client_ip(request))
    limits_of(request).login.check(ip=caller.ip, email=body.email)
    try:
        with db.write() as session:
            user = service.authenticate(session, email=body.email, password=body.password, actor=caller)
            token, row = service.issue_token(session, user=user, ttl=timedelta(minutes=settings.token_ttl_minutes))
            answer = TokenOut(access_token=token, expires_at=row.expires_at)
    except Unauthenticated:
        with db.write() as session:
            service.note_failed_login(session, email=body.email, actor=caller)
        raise
    return json_model(answer)


@router.post("/auth/logout", status_code=204)
def logout(
    db: DB,
    actor: Staff,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Response:
    """Revoke the bearer token of this request."""
    if credentials is not None:
        with db.write() as session:
            service.revoke_token(session, credentials.credentials)
    return Response(status_code=204)


@router.get("/me", response_model=StaffOut)
def me(db: DB, actor: Staff) -> Response:
    with db.read() as session:
        user = session.get(User, actor.staff_id)
        if user is None:
            raise Unauthenticated("the account behind this token is gone")
        return json_model(staff_out(user))


@router.get("/teams", response_model=list[TeamOut])
def list_teams(db: DB, actor: Staff) -> Response:
    if not (access.has(actor, Permission.TICKET_READ) or access.has(actor, Permission.CONFIG_MANAGE)):
        access.require(actor, Permission.TICKET_READ)
    with db.read() as session:
        rows = teams.list_teams(session)
        slugs = {t.id: t.slug for t in rows}
        return json_models([team_out(t, slugs) for t in rows], TeamOut)


@router.post("/teams", status_code=201, response_model=TeamOut)
def create_team(body: TeamIn, db: DB, actor: Staff) -> Response:
    access.require(actor, Permission.CONFIG_MANAGE)
    with db.write() as session:
        team = teams.create_team(
            session,
            slug=body.slug,
            name_zh=body.name_zh,
            name_en=body.name_en,
            parent=body.parent,
            actor=actor,
        )
        slugs = {t.id: t.slug for t in teams.list_teams(session)}
        return json_model(team_out(team, slugs), status_code=201)


@router.patch("/teams/{slug}", response_model=TeamOut)
def update_team(slug: str, body: TeamPatch, db: DB, actor: Staff) -> Response:
    access.require(actor, Permission.CONFIG_MANAGE)
    patch = body.model_dump(exclude_unset=True)
    assignment_fields = {k: patch.pop(k) for k in assignment.TEAM_FIELDS if k in patch}
    with db.write() as session:
        team = teams.update_team(session, teams.team_by_slug(session, slug), actor=actor, **patch)
        if assignment_fields:
            assignment.configure_team(session, team, changes=assignment_fields, actor=actor)
        slugs = {t.id: t.slug for t in teams.list_teams(session)}
        return json_model(team_out(team, slugs))


def _managed_team(session: Session, actor: Actor, slug: str) -> Team:
    """A team the actor may manage: any for admins, their own (and sub-teams) for supervisors."""
    access.require(actor, Permission.TEAM_MANAGE)
    team = teams.team_by_slug(session, slug)
    if not access.has(actor, Permission.CONFIG_MANAGE) and team.id not in actor.team_ids:
        raise Forbidden(f"you do not supervise team {slug!r}")
    return team


@router.put("/teams/{slug}/members/{email}", response_model=StaffOut)
def add_member(slug: str, email: str, db: DB, actor: Staff) -> Response:
    with db.write() as session:
        team = _managed_team(session, actor, slug)
        user = service.user_by_email(session, email)
        teams.set_membership(session, team, user, member=True, actor=actor)
        return json_model(staff_out(user))


@router.delete("/teams/{slug}/members/{email}", response_model=StaffOut)
def remove_member(slug: str, email: str, db: DB, actor: Staff) -> Response:
    with db.write() as session:
        team = _managed_team(session, actor, slug)
        user = service.user_by_email(session, email)
        teams.set_membership(session, team, user, member=False, actor=actor)
        return json_model(staff_out(user))


@router.get("/staff", response_model=list[StaffOut])
def list_staff(db: DB, actor: Staff) -> Response:
    access.require(actor, Permission.STAFF_MANAGE)
    with db.read() as session:
        return json_models([staff_out(u) for u in service.list_users(session)], StaffOut)


@router.post("/staff", status_code=201, response_model=StaffOut)
def create_staff(body: StaffIn, db: DB, actor: Staff) -> Response:
    access.require(actor, Permission.STAFF_MANAGE)
    with db.write() as session:
        user = service.create_user(
            session,
            email=body.email,
            password=body.password,
            role=body.role,
            display_name=body.display_name,
            team_slugs=body.teams,
            actor=actor,
        )
        return json_model(staff_out(user), status_code=201)


@router.patch("/staff/{email}", response_model=StaffOut)
def update_staff(email: str, body: StaffPatch, db: DB, actor: Staff) -> Response:
    """Change role, teams, name, password or active; deactivation logs the person out."""
    access.require(actor, Permission.STAFF_MANAGE)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("active") is False and email.strip().lower() == _own_email(db, actor):
        raise Forbidden("you cannot deactivate your own account")
    with db.write() as session:
        user = service.update_user(
            session,
            service.user_by_email(session, email),
            actor=actor,
            role=Role(changes["role"]) if changes.get("role") else None,
            team_slugs=changes.get("teams"),
            active=changes.get("active"),
            display_name=changes.get("display_name"),
            password=changes.get("password"),
        )
        answer = json_model(staff_out(user))
    return answer


def _own_email(db: DB, actor: Actor) -> str:
    with db.read() as session:
        user = session.get(User, actor.staff_id)
        return user.email if user else ""


@router.get("/api-keys", response_model=list[ApiKeyOut])
def list_api_keys(db: DB, actor: Staff) -> Response:
    access.require(actor, Permission.APIKEY_MANAGE)
    with db.read() as session:
        return json_models([api_key_out(k) for k in service.list_api_keys(session)], ApiKeyOut)


@router.post("/api-keys", status_code=201, response_model=ApiKeyCreated)
def create_api_key(body: ApiKeyIn, db: DB, actor: Staff) -> Response:
    """A long-lived key for an integration, acting as `user` but limited to `scopes`. The key
    is shown once, in this answer."""
    access.require(actor, Permission.APIKEY_MANAGE)
    with db.write() as session:
        key, row = service.create_api_key(
            session,
            user=service.user_by_email(session, body.user),
            name=body.name,
            scopes=body.scopes,
            ttl=timedelta(days=body.expires_in_days) if body.expires_in_days else None,
            actor=actor,
        )
        return json_model(ApiKeyCreated(key=key, **api_key_out(row).model_dump()), status_code=201)


@router.delete("/api-keys/{key_id}", response_model=ApiKeyOut)
def revoke_api_key(key_id: PathId, db: DB, actor: Staff) -> Response:
    access.require(actor, Permission.APIKEY_MANAGE)
    with db.write() as session:
        answer = json_model(api_key_out(service.revoke_api_key(session, key_id=key_id, actor=actor)))
    return answer
