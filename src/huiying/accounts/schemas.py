"""JSON shapes of login, staff, teams and API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from huiying.kit.roles import Role
from huiying.kit.strings import CleanLine, InputModel

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,47}$")]
Name = Annotated[CleanLine, Field(min_length=1, max_length=100)]
Password = Annotated[str, Field(min_length=10, max_length=1024)]


class Strict(InputModel):
    """A request body (see InputModel)."""


class TokenRequest(Strict):
    email: Annotated[str, Field(min_length=3, max_length=254)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth 2 token type name
    expires_at: datetime | None


class TeamOut(BaseModel):
    slug: str
    name_zh: str
    name_en: str
    parent: str | None
    active: bool
    assignment_mode: str = "manual"
    max_open_per_agent: int | None = None
    accept_within_minutes: int | None = None


class TeamIn(Strict):
    slug: Slug
    name_zh: Name
    name_en: Name
    parent: Slug | None = None


class TeamPatch(Strict):
    name_zh: Name | None = None
    name_en: Name | None = None
    active: bool | None = None
    # How new work is handed out (assignment/modes.py); null clears the cap or the accept time.
    assignment_mode: Literal["manual", "round_robin", "least_loaded", "skill"] | None = None
    max_open_per_agent: Annotated[int, Field(ge=1, le=10_000)] | None = None
    accept_within_minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60)] | None = None


class StaffOut(BaseModel):
    email: str
    display_name: str
    role: str
    teams: list[str]
    active: bool


class StaffIn(Strict):
    email: Annotated[str, Field(min_length=3, max_length=254)]
    role: Role
    password: Password
    display_name: Name | None = None
    teams: Annotated[list[Slug], Field(max_length=20)] = []


class StaffPatch(Strict):
    role: Role | None = None
    teams: Annotated[list[Slug], Field(max_length=20)] | None = None
    active: bool | None = None
    display_name: Name | None = None
    password: Password | None = None


class ApiKeyIn(Strict):
    name: Name
    user: Annotated[str, Field(min_length=3, max_length=254)]
    scopes: Annotated[list[str], Field(min_length=1, max_length=20)]
    expires_in_days: Annotated[int, Field(gt=0, le=3650)] | None = None


class ApiKeyOut(BaseModel):
    id: int
    name: str
    user: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    revoked: bool


class ApiKeyCreated(ApiKeyOut):
    key: str
