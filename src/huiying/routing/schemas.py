"""The JSON shapes of the routing API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from huiying.kit.strings import InputModel


class RuleIn(InputModel):
    """A rule as `routing.rules.validate_rule` reads it; validated in full by the service."""

    model_config = {"extra": "allow"}


class OrderIn(InputModel):
    ids: Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=10_000)]


class RuleOut(BaseModel):
    id: str
    position: int
    body: dict[str, Any]
    updated_at: datetime


class RuleTestOut(BaseModel):
    tried: int
    matched: int
    hits: list[dict[str, Any]]


class RuleList(BaseModel):
    items: list[RuleOut]
