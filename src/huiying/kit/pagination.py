"""Opaque cursors for keyset pagination: the sort values of the last row seen, signed-free.

A cursor only narrows a query the caller may already run, so it needs no signature; it is
validated on decode so a tampered cursor is a clear 4xx, not a 500.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from huiying.errors import InvalidInput


def encode_cursor(values: dict[str, Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeError) as exc:
        raise InvalidInput("cursor is not one this server gave out", code="bad_cursor") from exc
    if not isinstance(values, dict):
        raise InvalidInput("cursor is not one this server gave out", code="bad_cursor")
    return values
