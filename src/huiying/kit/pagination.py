"""Opaque cursors for keyset pagination: the sort values of the last row seen, signed-free.

A cursor only narrows a query the caller may already run, so it needs no signature; it is
checked on decode against the shape its query expects (strictly: no type coercion, ids within
the 64-bit range of the database), so a tampered cursor is a clear 422 `bad_cursor`, never a 500.
"""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from huiying.errors import InvalidInput

# A row id as the database stores it (BIGINT): larger numbers would overflow the driver.
RowId = Annotated[int, Field(ge=1, le=2**63 - 1)]


class CursorValues(BaseModel):
    """Base of a cursor's shape: exactly these fields, each of exactly its type."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


C = TypeVar("C", bound=CursorValues)


def encode_cursor(values: dict[str, Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, shape: type[C]) -> C:
    """The values of a cursor this server gave out, or InvalidInput (422 `bad_cursor`)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return shape.model_validate_json(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, ValidationError) as exc:  # binascii.Error is a ValueError
        raise InvalidInput("cursor is not one this server gave out", code="bad_cursor") from exc
