"""Signed links to a user's ticket page: sent in every notification, no login needed."""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer

from huiying.errors import NotFound

_SALT = "huiying.portal.v1"


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=_SALT)


def portal_token(secret_key: str, number: str) -> str:
    return _serializer(secret_key).dumps({"n": number})


def portal_url(base_url: str, secret_key: str, number: str) -> str:
    return f"{base_url.rstrip('/')}/portal/t/{portal_token(secret_key, number)}"


def number_from_token(secret_key: str, token: str) -> str:
    """The ticket number a portal token was made for; NotFound if the signature is wrong."""
    try:
        data = _serializer(secret_key).loads(token)
    except BadSignature as exc:
        raise NotFound("this link is not valid", code="bad_portal_link") from exc
    if not isinstance(data, dict) or not isinstance(data.get("n"), str):
        raise NotFound("this link is not valid", code="bad_portal_link")
    number: str = data["n"]
    return number
