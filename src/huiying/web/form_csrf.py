"""Double-submit CSRF for forms of anonymous visitors (feedback form, portal): a random token in a
strict cookie and the same token in a hidden field. Staff forms use their session's token instead."""

from __future__ import annotations

import secrets

from fastapi import Request
from fastapi.responses import HTMLResponse

from huiying.web.sessions import csrf_matches

FORM_COOKIE = "hy_form_csrf"


def form_token(request: Request) -> str:
    """The visitor's token: the one in their cookie, or a new one for `with_form_cookie` to set."""
    return request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(32)


def with_form_cookie(response: HTMLResponse, token: str) -> HTMLResponse:
    response.set_cookie(FORM_COOKIE, token, httponly=True, samesite="strict", max_age=86400)
    return response


def csrf_ok(request: Request, given: str) -> bool:
    return csrf_matches(request.cookies.get(FORM_COOKIE), given)
