"""Request and response bodies of the alert robot endpoints: a secret goes in, never out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator

from huiying.alerts.robots import Kind
from huiying.kit.strings import CleanLine, InputModel

Url = Annotated[CleanLine, Field(min_length=8, max_length=2000)]
Secret = Annotated[CleanLine, Field(max_length=500)]
Slug = Annotated[CleanLine, Field(min_length=1, max_length=48)]


def _http_url(value: str) -> str:
    """Any http(s) address, loopback and private ones included (company gateways are internal)."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("url must be an http:// or https:// address")
    return value


class RobotIn(InputModel):
    kind: Kind
    url: Url
    secret: Secret | None = None  # DingTalk 加签 / Feishu 签名校验; a WeCom robot has none
    teams: Annotated[list[Slug], Field(max_length=100)] = []

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return _http_url(value)


class RobotPatch(InputModel):
    kind: Kind | None = None
    url: Url | None = None
    secret: Secret | None = None  # "" or null removes it
    teams: Annotated[list[Slug], Field(max_length=100)] | None = None

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value)


class RobotOut(BaseModel):
    id: int
    kind: str
    url: str
    has_secret: bool
    teams: list[str]
    created_at: datetime
    last_sent_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    throttled_until: datetime | None
    pending: int  # alerts waiting for this robot (held for service hours, or for its rate window)


class RobotList(BaseModel):
    items: list[RobotOut]
