"""Every error answer is `{"error": {"code", "message", "details"}}` (CONTRACT.md).

That is the API's answer. A web page's error is an HTML page instead (`answers_html`; the page
comes from huiying.web.errors, installed as `app.state.html_error_page`). A database that is
down, stopped or locked answers 503 with Retry-After, never a 500 or a hang.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import OperationalError as DatabaseOperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from huiying.db import DatabaseUnavailable
from huiying.errors import HuiyingError, RateLimited

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}

# Paths that are the API (JSON errors) rather than pages a person reads.
API_PREFIXES = ("/api/", "/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/redoc")
# Seconds a client is asked to wait when the database is unavailable.
DATABASE_RETRY_AFTER = 10

HtmlErrorPage = Callable[[Request, int, dict[str, str] | None], Response]


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    """The shape of every error answer."""

    error: ErrorDetail


def _documented(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


# Documented on every API route, so clients (and schemathesis) know what an error looks like.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _documented("Malformed request (e.g. the body is not JSON)"),
    401: _documented("No valid bearer token"),
    403: _documented("The caller's role may not do this"),
    404: _documented("No such resource, or not visible to the caller"),
    409: _documented("The current state forbids this change"),
    413: _documented("The body is larger than the limit"),
    415: _documented("This kind of file is not accepted"),
    422: _documented("A value is missing, of the wrong type or not allowed"),
    429: _documented("Too many requests; see Retry-After"),
    503: _documented("The database is unavailable for a moment; see Retry-After"),
}


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details}}
    return JSONResponse(body, status_code=status, headers=headers)


def answers_html(request: Request) -> bool:
    """Whether this request is for a page (an HTML error) rather than the API (JSON)."""
    if request.url.path.startswith(API_PREFIXES):
        return False
    accept = request.headers.get("accept", "")
    return "text/html" in accept or "application/json" not in accept


def _html_page(request: Request) -> HtmlErrorPage | None:
    if not answers_html(request):
        return None
    page: HtmlErrorPage | None = getattr(request.app.state, "html_error_page", None)
    return page


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Never echo the input back: it may be huge or hold personal data.
    return [
        {
            "field": _location(tuple(e.get("loc", ()))),
            "message": e.get("msg", ""),
            "type": e.get("type"),
        }
        for e in exc.errors()
    ]


async def _on_validation(request: Request, exc: RequestValidationError) -> Response:
    if page := _html_page(request):
        return page(request, 422, None)
    details = _validation_details(exc)
    if any(d["type"] == "json_invalid" for d in details):
        return error_response(400, "malformed_json", "the request body is not valid JSON", details)
    first = details[0] if details else {"field": "", "message": "invalid input"}
    message = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
    return error_response(422, "validation_error", message, details)


async def _on_domain(request: Request, exc: HuiyingError) -> Response:
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    if exc.status_code >= 500:
        log.error("internal error: %s", exc.message)
    if page := _html_page(request):
        return page(request, exc.status_code, headers)
    return error_response(exc.status_code, exc.code, exc.message, exc.details, headers)


async def _on_http(request: Request, exc: StarletteHTTPException) -> Response:
    if page := _html_page(request):
        return page(request, exc.status_code, getattr(exc, "headers", None))
    code = _HTTP_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    if exc.status_code == 404 and message == "Not Found":
        message = "no such path; see /openapi.json"
    return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)
    if page := _html_page(request):
        return page(request, 500, None)
    return error_response(500, "internal_error", "something went wrong on our side; it was logged")


def is_database_outage(exc: BaseException) -> bool:
    """Down, stopped, locked or out of connections: worth retrying later, not a bug."""
    if isinstance(exc, DatabaseUnavailable | PoolTimeout | DatabaseOperationalError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


async def _on_database_error(request: Request, exc: Exception) -> Response:
    if not is_database_outage(exc):
        return await _on_unexpected(request, exc)
    log.error("database unavailable (%s)", type(exc).__name__, exc_info=exc)
    headers = {"Retry-After": str(DATABASE_RETRY_AFTER)}
    if page := _html_page(request):
        return page(request, 503, headers)
    message = "the database is unavailable for a moment; please retry shortly (系统繁忙，请稍后再试)"
    return error_response(503, "database_unavailable", message, headers=headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation)  # type: ignore[arg-type]
    app.add_exception_handler(HuiyingError, _on_domain)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _on_http)  # type: ignore[arg-type]
    for database_error in (DBAPIError, PoolTimeout, DatabaseUnavailable):
        app.add_exception_handler(database_error, _on_database_error)
    app.add_exception_handler(Exception, _on_unexpected)
