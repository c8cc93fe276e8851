"""Platform user tokens: the platform's servers vouch for their logged-in user (pure).

The platform shares a secret with Huiying (HUIYING_PLATFORM_USER_SECRET) and signs, for the user
who is logged in to its app, the message

    "{user_id}\\n{vip}\\n{issued_at}"      vip: "1" or "0"; issued_at: Unix seconds

with HMAC-SHA256. The token is `"{issued_at}.{vip}.{hex digest}"`. It proves two things: this
visitor is that platform user (so the portal may list their feedback), and whether the platform
counts them as VIP (so intake may mark the ticket VIP). A token is accepted for a day: it travels
in URLs the app opens, and a leaked one must not open the user's feedback for ever.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

MAX_AGE_SECONDS = 24 * 3600
# Tolerated clock difference between the platform's servers and ours.
CLOCK_SKEW_SECONDS = 300


@dataclass(frozen=True)
class UserClaim:
    """What a valid token says about its user."""

    user_id: str
    vip: bool


def _digest(secret: str, user_id: str, vip: str, issued_at: str) -> str:
    message = f"{user_id}\n{vip}\n{issued_at}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, user_id: str, *, vip: bool, issued_at: int) -> str:
    """The token the platform would make (the reference for app developers and for tests)."""
    flag = "1" if vip else "0"
    return f"{issued_at}.{flag}.{_digest(secret, user_id, flag, str(issued_at))}"


def verify(secret: str, user_id: str | None, token: str | None, *, now: float) -> UserClaim | None:
    """The claim if `token` was signed with `secret` for `user_id` and is fresh; None otherwise."""
    if not secret or not user_id or not token:
        return None
    parts = token.strip().split(".")
    if len(parts) != 3:
        return None
    issued_at, flag, given = parts
    if not issued_at.isascii() or not issued_at.isdigit() or len(issued_at) > 12 or flag not in ("0", "1"):
        return None
    age = now - int(issued_at)
    if age > MAX_AGE_SECONDS or age < -CLOCK_SKEW_SECONDS:
        return None
    if not given.isascii() or not hmac.compare_digest(_digest(secret, user_id, flag, issued_at), given.lower()):
        return None
    return UserClaim(user_id=user_id, vip=flag == "1")
