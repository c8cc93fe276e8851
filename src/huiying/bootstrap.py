"""What a fresh install needs before anyone logs in: default teams, categories, an admin."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiying.accounts import service as accounts
from huiying.accounts.models import User
from huiying.calendars import service as calendars
from huiying.categories import service as categories
from huiying.kit.roles import Role
from huiying.macros import service as macros
from huiying.routing import service as routing
from huiying.sla import service as sla
from huiying.triage import service as triage


def ensure_defaults(session: Session) -> int:
    """Add the default teams, taxonomy, macros and triage rules where missing; returns how many
    rows were added."""
    return (
        accounts.ensure_default_teams(session)
        + categories.ensure_defaults(session)
        + macros.ensure_defaults(session)
        + triage.ensure_default_rules(session)
        # The working calendar before anything that computes due times on it.
        + calendars.ensure_defaults(session)
        + routing.ensure_default_rules(session)
        + sla.ensure_defaults(session)
    )


def ensure_admin(session: Session, *, email: str, password: str) -> bool:
    """Create the first admin unless any admin exists; True if one was created."""
    if session.scalar(select(User.id).where(User.role == Role.ADMIN.value).limit(1)) is not None:
        return False
    accounts.create_user(session, email=email, password=password, role=Role.ADMIN, display_name="管理员 Admin")
    return True
