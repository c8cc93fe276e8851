"""The platform user token (pure): what it proves, and every way it is refused."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from huiying.portal.user_token import MAX_AGE_SECONDS, UserClaim, sign, verify

SECRET = "platform-secret"
NOW = 1_764_626_400


def test_the_documented_recipe_makes_a_valid_token() -> None:
    # The README's example for app developers, spelled out.
    digest = hmac.new(SECRET.encode(), f"u10001\n1\n{NOW}".encode(), hashlib.sha256).hexdigest()
    token = f"{NOW}.1.{digest}"
    assert token == sign(SECRET, "u10001", vip=True, issued_at=NOW)
    assert verify(SECRET, "u10001", token, now=NOW + 60) == UserClaim(user_id="u10001", vip=True)


@pytest.mark.parametrize(
    ("user_id", "token", "now"),
    [
        ("u2", sign(SECRET, "u1", vip=False, issued_at=NOW), NOW),  # another user's token
        ("u1", sign("other", "u1", vip=False, issued_at=NOW), NOW),  # another platform's secret
        ("u1", sign(SECRET, "u1", vip=False, issued_at=NOW).replace(".0.", ".1.", 1), NOW),  # VIP flag forged
        ("u1", sign(SECRET, "u1", vip=False, issued_at=NOW), NOW + MAX_AGE_SECONDS + 1),  # too old
        ("u1", sign(SECRET, "u1", vip=False, issued_at=NOW + 3600), NOW),  # from the future
        ("u1", "", NOW),
        ("u1", "1.2", NOW),
        ("u1", f"{NOW}.0.ｆｆ", NOW),  # non-ASCII digest
        ("u1", f"１２３.0.{'0' * 64}", NOW),  # non-ASCII digits
        (None, sign(SECRET, "", vip=False, issued_at=NOW), NOW),
    ],
)
def test_a_token_is_refused(user_id: str | None, token: str, now: int) -> None:
    assert verify(SECRET, user_id, token, now=now) is None


def test_no_secret_configured_accepts_no_token() -> None:
    assert verify("", "u1", sign("", "u1", vip=True, issued_at=NOW), now=NOW) is None
