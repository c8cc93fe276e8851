"""Errors on web pages are web pages: a short page in the reader's language (zh-CN or English).

The API keeps its JSON errors (api/errors.py); which a request gets is decided there
(`answers_html`). The page touches nothing but the request, so it can be shown when the
database is down.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

from huiying.web import i18n
from huiying.web.auth import render

PUBLIC_PREFIXES = ("/feedback", "/portal")

_MESSAGES = {
    401: "error.unauthenticated",
    403: "error.forbidden",
    404: "error.not_found",
    429: "error.rate_limited",
    500: "error.internal",
    503: "error.unavailable",
}
_TITLES = {403: "error.title.403", 404: "error.title.404", 500: "error.title.500", 503: "error.title.503"}


def error_page(request: Request, status: int, headers: dict[str, str] | None = None) -> Response:
    """The page for an error `status`, for staff pages or the public ones."""
    t = i18n.translator(i18n.language_of(request))
    path = request.url.path
    public = path.startswith(PUBLIC_PREFIXES)
    if status == 401:
        home, home_label = "/login", "login.submit"
    elif path.startswith("/portal"):
        home, home_label = "/portal", "error.portal_home"
    elif public:
        home, home_label = "/feedback", "error.feedback_home"
    else:
        home, home_label = "/", "error.home"  # `/` leads each role to its own first page
    message = _MESSAGES.get(status, "error.bad_request" if status < 500 else "error.internal")
    response = render(
        request,
        "error.html",
        status_code=status,
        heading=t(_TITLES.get(status, "error.title.other" if status < 500 else "error.title.500")),
        message=t(message),
        public=public,
        home=home,
        home_label=home_label,
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def install(app: FastAPI) -> None:
    app.state.html_error_page = error_page
