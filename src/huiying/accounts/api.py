"""Login, the caller's own account, and the team list."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter

from huiying.accounts import service
from huiying.accounts.models import User
from huiying.accounts.schemas import StaffOut, TeamOut, TokenOut, TokenRequest
from huiying.api.deps import DB, AppSettings, Staff
from huiying.errors import Unauthenticated

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.post("/auth/token", response_model=TokenOut)
def login(body: TokenRequest, db: DB, settings: AppSettings) -> TokenOut:
    """Exchange email and password for a bearer token that expires."""
    with db.write() as session:
        user = service.authenticate(session, email=body.email, password=body.password)
        token, row = service.issue_token(
            session, user=user, ttl=timedelta(minutes=settings.token_ttl_minutes)
        )
        return TokenOut(access_token=token, expires_at=row.expires_at)


@router.get("/me", response_model=StaffOut)
def me(db: DB, actor: Staff) -> StaffOut:
    with db.read() as session:
        user = session.get(User, actor.staff_id)
        if user is None:
            raise Unauthenticated("the account behind this token is gone")
        return StaffOut(
            email=user.email,
            display_name=user.display_name,
            role=user.role,
            teams=[team.slug for team in user.teams],
        )


@router.get("/teams", response_model=list[TeamOut])
def teams(db: DB, actor: Staff) -> list[TeamOut]:
    with db.read() as session:
        rows = service.list_teams(session)
        slugs = {team.id: team.slug for team in rows}
        return [
            TeamOut(
                slug=t.slug,
                name_zh=t.name_zh,
                name_en=t.name_en,
                parent=slugs.get(t.parent_id or 0),
            )
            for t in rows
        ]
