"""JSON shapes of login and staff."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

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


class StaffOut(BaseModel):
    email: str
    display_name: str
    role: str
    teams: list[str]
