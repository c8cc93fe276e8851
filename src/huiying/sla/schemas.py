"""The JSON shapes of the SLA policy API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from huiying.kit.strings import CleanLine, InputModel
from huiying.tickets.enums import Priority

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,47}$")]
Name = Annotated[CleanLine, Field(min_length=1, max_length=100)]
Minutes = Annotated[int, Field(gt=0, le=525_600)]
Group = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,15}$")]


class PolicyPatch(InputModel):
    """Conditions (null: any) and targets in business minutes on `calendar` (`24x7`, a working
    calendar's slug, or null for the ticket team's calendar)."""

    name_zh: Name | None = None
    name_en: Name | None = None
    priority: Priority | None = None
    category: Slug | None = None
    subcategory: Slug | None = None
    group: Group | None = None
    first_response_minutes: Minutes | None = None
    next_response_minutes: Minutes | None = None
    resolution_minutes: Minutes | None = None
    calendar: Slug | None = None
    position: Annotated[int, Field(ge=0, le=100_000)] | None = None
    active: bool | None = None


class PolicyIn(PolicyPatch):
    slug: Slug
    name_zh: Name
    name_en: Name
    first_response_minutes: Minutes
    resolution_minutes: Minutes


class PolicyOut(BaseModel):
    slug: str
    name_zh: str
    name_en: str
    priority: str | None
    category: str | None
    subcategory: str | None
    group: str | None
    first_response_minutes: int
    next_response_minutes: int | None
    resolution_minutes: int
    calendar: str | None
    position: int
    active: bool
    updated_at: datetime


class PolicyList(BaseModel):
    items: list[PolicyOut]
