"""SLA policies over HTTP, for admins: list, add, change (each change audited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.http.deps import DB, Staff
from huiying.http.responses import json_model
from huiying.sla import service
from huiying.sla.models import SlaPolicyRow
from huiying.sla.schemas import PolicyIn, PolicyList, PolicyOut, PolicyPatch

router = APIRouter(prefix="/api/v1/sla", tags=["sla"])

PolicySlug = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,47}$")]


def policy_out(row: SlaPolicyRow) -> PolicyOut:
    return PolicyOut.model_validate(row, from_attributes=True)


@router.get("/policies", response_model=PolicyList)
def list_policies(db: DB, actor: Staff) -> Response:
    access.require(actor, Permission.CONFIG_MANAGE)
    with db.read() as session:
        return json_model(PolicyList(items=[policy_out(r) for r in service.list_policies(session)]))


@router.post("/policies", status_code=201, response_model=PolicyOut)
def create_policy(body: PolicyIn, db: DB, actor: Staff) -> Response:
    access.require(actor, Permission.CONFIG_MANAGE)
    values = body.model_dump(mode="json", exclude={"slug"}, exclude_none=True)
    with db.write() as session:
        row = service.create_policy(session, slug=body.slug, values=values, actor=actor)
        return json_model(policy_out(row), status_code=201)


@router.patch("/policies/{slug}", response_model=PolicyOut)
def update_policy(slug: PolicySlug, body: PolicyPatch, db: DB, actor: Staff) -> Response:
    access.require(actor, Permission.CONFIG_MANAGE)
    with db.write() as session:
        row = service.get_policy(session, slug)
        changes = body.model_dump(mode="json", exclude_unset=True)
        return json_model(policy_out(service.update_policy(session, row, changes=changes, actor=actor)))
