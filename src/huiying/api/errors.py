"""Every error answer is `{"error": {"code", "message", "details"}}` (CONTRACT.md)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

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
}


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details}}
    return JSONResponse(body, status_code=status, headers=headers)


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


async def _on_validation(_: Request, exc: RequestValidationError) -> JSONResponse:
    details = _validation_details(exc)
    if any(d["type"] == "json_invalid" for d in details):
        return error_response(400, "malformed_json", "the request body is not valid JSON", details)
    first = details[0] if details else {"field": "", "message": "invalid input"}
    message = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
    return error_response(422, "validation_error", message, details)


async def _on_domain(_: Request, exc: HuiyingError) -> JSONResponse:
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    if exc.status_code >= 500:
        log.error("internal error: %s", exc.message)
    return error_response(exc.status_code, exc.code, exc.message, exc.details, headers)


async def _on_http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = _HTTP_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    if exc.status_code == 404 and message == "Not Found":
        message = "no such path; see /openapi.json"
    return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))


async def _on_unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "internal_error", "something went wrong on our side; it was logged")


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation)  # type: ignore[arg-type]
    app.add_exception_handler(HuiyingError, _on_domain)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _on_http)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _on_unexpected)
