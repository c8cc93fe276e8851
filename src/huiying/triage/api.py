"""Triage over HTTP, for admins: the rules (with a dry run on recent tickets), the model
versions (activate or restore one), and what triage would decide for a piece of text."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.http.deps import DB, Staff
from huiying.http.responses import json_model, json_models
from huiying.kit.strings import CleanText, InputModel
from huiying.triage import service
from huiying.triage.engine import TARGETS, Given
from huiying.triage.models import ModelVersion

router = APIRouter(prefix="/api/v1/triage", tags=["triage"])

RuleId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
Target = Annotated[str, Path(pattern="^(category|priority|sentiment)$")]


class RuleIn(InputModel):
    """A rule as `triage.rules.Rule` reads it; validated in full by the service."""

    model_config = {"extra": "allow"}


class RuleOut(BaseModel):
    id: str
    position: int
    body: dict[str, Any]
    updated_at: datetime


class RuleTestOut(BaseModel):
    tried: int
    matched: int
    hits: list[dict[str, Any]]


class ModelOut(BaseModel):
    target: str
    version: int
    active: bool
    note: str
    created_at: datetime | None
    created_by: str
    metadata: dict[str, Any]


class AssessIn(InputModel):
    text: Annotated[CleanText, Field(min_length=1, max_length=20_000)]
    channel: Annotated[str, Field(max_length=16)] | None = None


def _model_out(row: ModelVersion) -> ModelOut:
    return ModelOut(
        target=row.target,
        version=row.version,
        active=row.active,
        note=row.note,
        created_at=row.created_at,
        created_by=row.created_by,
        metadata=row.metadata_,
    )


@router.get("/rules", response_model=list[RuleOut])
def list_rules(db: DB, actor: Staff) -> Response:
    access.require(actor, Permission.CONFIG_MANAGE)
    with db.read() as session:
        rows = service.list_rules(session)
        return json_models(
            [RuleOut(id=r.id, position=r.position, body=r.body, updated_at=r.updated_at) for r in rows], RuleOut
        )


@router.put("/rules/{rule_id}", response_model=RuleOut)
def save_rule(rule_id: RuleId, body: RuleIn, db: DB, actor: Staff) -> Response:
    """Create or replace a rule; an invalid one is a 422 naming the field."""
    access.require(actor, Permission.CONFIG_MANAGE)
    with db.write() as session:
        service.save_rule(session, {**body.model_dump(), "id": rule_id}, actor=actor)
        row = next(r for r in service.list_rules(session) if r.id == rule_id)
        return json_model(RuleOut(id=row.id, position=row.position, body=row.body, updated_at=row.updated_at))


@router.delete("/rules/{rule_id}", status_code=204)
def delete_rule(rule_id: RuleId, db: DB, actor: Staff) -> Response:
    access.require(actor, Permission.CONFIG_MANAGE)
    with db.write() as session:
        service.delete_rule(session, rule_id, actor=actor)
    return Response(status_code=204)


@router.post("/rules/test", response_model=RuleTestOut)
def test_rule(body: RuleIn, db: DB, actor: Staff) -> Response:
    """Before saving: which of the most recent tickets would this rule match, and what would it set?"""
    access.require(actor, Permission.CONFIG_MANAGE)
    with db.read() as session:
        tried, hits = service.test_rule(session, body.model_dump())
    return json_model(
        RuleTestOut(
            tried=tried,
            matched=len(hits),
            hits=[
                {
                    "number": h.number,
                    "title": h.title,
                    "keywords": list(h.keywords),
                    "current": h.current,
                    "would_set": h.would_set,
                }
                for h in hits[:100]
            ],
        )
    )


@router.get("/models", response_model=list[ModelOut])
def list_models(db: DB, actor: Staff) -> Response:
    """Every trained version per target (version 0 is the built-in starter model)."""
    access.require(actor, Permission.CONFIG_MANAGE)
    with db.read() as session:
        rows = service.list_models(session)
        trained_active = {r.target for r in rows if r.active}
        starters = [
            ModelOut(
                target=target,
                version=0,
                active=target not in trained_active,
                note="built-in starter model (public data, see MODEL_CARD.md)",
                created_at=None,
                created_by="huiying",
                metadata=dict(service.starter_metadata(target)),
            )
            for target in TARGETS
        ]
        return json_models([_model_out(r) for r in rows] + starters, ModelOut)


@router.post("/models/{target}/{version}/activate", response_model=list[ModelOut])
def activate_model(target: Target, version: Annotated[int, Path(ge=0, le=100_000)], db: DB, actor: Staff) -> Response:
    """Make a version the active one (0 restores the starter model)."""
    access.require(actor, Permission.CONFIG_MANAGE)
    with db.write() as session:
        service.activate(session, target=target, version=version, actor=actor)
    return list_models(db, actor)


class FieldOut(BaseModel):
    value: str | None
    confidence: float
    source: str
    reason: str


class AssessOut(BaseModel):
    category: FieldOut
    priority: FieldOut
    sentiment: FieldOut
    language: FieldOut
    needs_refinement: bool
    tags: list[str]
    rules: list[str]


@router.post("/assess", response_model=AssessOut)
def assess(body: AssessIn, db: DB, actor: Staff) -> Response:
    """What triage would decide for this text, with its reasons (nothing is stored)."""
    access.require(actor, Permission.CONFIG_MANAGE)
    with db.read() as session:
        result = service.assess(session, body.text, given=Given(channel=body.channel))
    return json_model(AssessOut.model_validate(result.to_dict()))
