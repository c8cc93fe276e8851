"""Availability (an agent's own; supervisors set their team's members') and skills."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from huiying.accounts import access
from huiying.accounts import service as accounts
from huiying.accounts.access import Permission
from huiying.accounts.models import User
from huiying.assignment import service
from huiying.assignment.schemas import AvailabilityIn, SkillsIn, WorkStateOut
from huiying.errors import Forbidden, Unauthenticated
from huiying.http.deps import DB, Staff
from huiying.http.responses import json_model
from huiying.kit.actor import Actor

router = APIRouter(prefix="/api/v1", tags=["assignment"])


def work_state_out(user: User) -> WorkStateOut:
    return WorkStateOut(email=user.email, availability=user.availability, skills=list(user.skills or []))


def _managed_user(session: Session, actor: Actor, email: str) -> User:
    """A person the actor may manage: anyone for admins, members of their teams (and sub-teams)
    for supervisors; 403 otherwise."""
    access.require(actor, Permission.TEAM_MANAGE)
    user = accounts.user_by_email(session, email)
    if not access.has(actor, Permission.CONFIG_MANAGE) and not any(t.id in actor.team_ids for t in user.teams):
        raise Forbidden(f"{user.email} is not in a team you supervise")
    return user


@router.put("/me/availability", response_model=WorkStateOut)
def set_my_availability(body: AvailabilityIn, db: DB, actor: Staff) -> Response:
    """Available / away / off shift: nobody away or off shift is given work. Only roles that
    work tickets have an availability (QA and auditors are never given tickets)."""
    access.require(actor, Permission.TICKET_WRITE)
    with db.write() as session:
        user = session.get(User, actor.staff_id)
        if user is None:
            raise Unauthenticated("the account behind this token is gone")
        service.set_availability(session, user, availability=body.availability.value, actor=actor)
        return json_model(work_state_out(user))


@router.put("/staff/{email}/availability", response_model=WorkStateOut)
def set_availability(email: str, body: AvailabilityIn, db: DB, actor: Staff) -> Response:
    """A supervisor sets a member of their team away or back (an admin anyone's)."""
    with db.write() as session:
        user = _managed_user(session, actor, email)
        service.set_availability(session, user, availability=body.availability.value, actor=actor)
        return json_model(work_state_out(user))


@router.put("/staff/{email}/skills", response_model=WorkStateOut)
def set_skills(email: str, body: SkillsIn, db: DB, actor: Staff) -> Response:
    """Skills by-skill assignment matches: sub-category slugs and languages (`zh`, `en`)."""
    with db.write() as session:
        user = _managed_user(session, actor, email)
        service.set_skills(session, user, skills=body.skills, actor=actor)
        return json_model(work_state_out(user))


@router.get("/staff/{email}/work-state", response_model=WorkStateOut)
def work_state(email: str, db: DB, actor: Staff) -> Response:
    with db.read() as session:
        return json_model(work_state_out(_managed_user(session, actor, email)))
