"""Routing rules over HTTP, for admins: list, create, change, delete, reorder, and a dry run of
a draft rule on recent tickets. Bad input is a JSON 4xx naming the field."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.errors import InvalidInput
from huiying.http.deps import DB, Staff
from huiying.http.responses import json_model
from huiying.routing import service
from huiying.routing.models import RoutingRuleRow
from huiying.routing.schemas import OrderIn, RuleIn, RuleList, RuleOut, RuleTestOut

router = APIRouter(prefix="/api/v1/routing", tags=["routing"])

RuleId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]


def _out(row: RoutingRuleRow) -> RuleOut:
    return RuleOut(id=row.id, position=row.position, body=row.body, updated_at=row.updated_at)


@router.get("/rules", response_model=RuleList)
def list_rules(db: DB, actor: Staff) -> Response:
    """Every rule in the order they are tried: `{items}`."""
    access.require(actor, Permission.CONFIG_MANAGE)
    with db.read() as session:
        return json_model(RuleList(items=[_out(r) for r in service.list_rules(session)]))


@router.post("/rules", response_model=RuleOut, status_code=201)
def create_rule(body: RuleIn, db: DB, actor: Staff) -> Response:
    """A new rule, tried after the existing ones (reorder to move it)."""
    access.require(actor, Permission.CONFIG_MANAGE)
    with db.write() as session:
        row = service.save_rule(session, body.model_dump(), actor=actor, create=True)
        return json_model(_out(row), status_code=201)


@router.patch("/rules/{rule_id}", response_model=RuleOut)
def patch_rule(rule_id: RuleId, body: RuleIn, db: DB, actor: Staff) -> Response:
    """Change the given top-level keys (`name`, `enabled`, `stop`, `when`, `then`, ...)."""
    access.require(actor, Permission.CONFIG_MANAGE)
    patch: dict[str, Any] = body.model_dump()
    if patch.get("id", rule_id) != rule_id:
        raise InvalidInput("a rule's id cannot change; create a new rule", code="invalid_rule", details={"field": "id"})
    with db.write() as session:
        row = service.get_rule(session, rule_id)
        row = service.save_rule(session, {**row.body, **patch, "id": rule_id}, actor=actor)
        return json_model(_out(row))


@router.delete("/rules/{rule_id}", status_code=204)
def delete_rule(rule_id: RuleId, db: DB, actor: Staff) -> Response:
    access.require(actor, Permission.CONFIG_MANAGE)
    with db.write() as session:
        service.delete_rule(session, rule_id, actor=actor)
    return Response(status_code=204)


@router.put("/rules/order", response_model=RuleList)
def reorder(body: OrderIn, db: DB, actor: Staff) -> Response:
    """`{ids: [...]}`: every rule id once, in the new order."""
    access.require(actor, Permission.CONFIG_MANAGE)
    with db.write() as session:
        rows = service.reorder(session, list(body.ids), actor=actor)
        return json_model(RuleList(items=[_out(r) for r in rows]))


@router.post("/rules/test", response_model=RuleTestOut)
def test_rule(body: RuleIn, db: DB, actor: Staff, recent: Annotated[int, Query(ge=1, le=2000)] = 300) -> Response:
    """Before saving: how many of the last `recent` tickets this draft matches, with examples."""
    access.require(actor, Permission.CONFIG_MANAGE)
    with db.read() as session:
        tried, hits = service.test_rule(session, {"id": "draft", "name": "draft", **body.model_dump()}, recent=recent)
    return json_model(RuleTestOut(tried=tried, matched=len(hits), hits=hits[:50]))
