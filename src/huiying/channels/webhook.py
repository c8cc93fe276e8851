"""A signed JSON POST to the platform (its in-app push endpoint, its SMS gateway), as both use it.

The body is compact UTF-8 JSON, Chinese as it is; `X-Huiying-Signature: sha256=<hex HMAC-SHA256
of those exact bytes>` (CONTRACT.md). Answers: 2xx is delivered; 408, 429 and 5xx, timeouts and
refused connections are retried with the job's backoff; any other 4xx (or a 3xx) is refused for
good and fails at once, as sending it again would only be refused again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx

from huiying.channels.base import DeliveryFailed

SIGNATURE_HEADER = "X-Huiying-Signature"
TIMEOUT_SECONDS = 10.0
# Refusals that mean "not now" rather than "never": retried like a server error.
RETRY_STATUSES = frozenset({408, 429})


def post_id(delivery_id: int, resent: int) -> str:
    """The `id` of a delivery's post: the same on every attempt (the platform drops a repeat by
    it), a new one for each resend by staff (which must not be dropped)."""
    return f"hy-{delivery_id}" + (f"-r{resent}" if resent else "")


def body_of(fields: dict[str, Any]) -> bytes:
    """The exact bytes posted (and signed)."""
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def signature(secret: str, body: bytes) -> str:
    """The X-Huiying-Signature value of `body`: "sha256=" and the hex HMAC-SHA256."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def post_signed(url: str, secret: str, fields: dict[str, Any], *, what: str) -> None:
    """POST `fields` signed; DeliveryFailed (permanent or not, as above) unless it was taken."""
    body = body_of(fields)
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature(secret, body)}
    try:
        answer = httpx.post(url, content=body, headers=headers, timeout=TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:  # refused, reset, timed out: the platform may be back soon
        raise DeliveryFailed(f"the {what} did not answer: {type(exc).__name__}: {exc}") from exc
    if answer.is_success:
        return
    error = f"the {what} answered {answer.status_code}: {answer.text[:300]}".rstrip(": ")
    permanent = answer.status_code < 500 and answer.status_code not in RETRY_STATUSES
    raise DeliveryFailed(error, permanent=permanent)
