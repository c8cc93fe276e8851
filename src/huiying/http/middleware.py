"""ASGI middleware: request body limits, contained errors and Prometheus request metrics."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from prometheus_client import Counter, Histogram
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from huiying.config import MIB

log = logging.getLogger(__name__)

REQUESTS = Counter("huiying_http_requests_total", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram(
    "huiying_http_request_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class BodyTooLarge(HTTPException):
    """Raised while reading the body; an HTTPException so FastAPI passes it through unchanged."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the limit of {limit} bytes")


# How much of a refused body is read and thrown away before the 413 goes out. Clients such as
# urllib and requests write the whole body before they read the answer; a server that answers
# and closes with their bytes unread makes the kernel reset the connection, and the client sees
# "connection reset" instead of the 413. Beyond this bound the connection is closed unread.
DRAIN_LIMIT = 32 * MIB


async def _drain(receive: Receive, already: int) -> bool:
    """Read and discard the rest of a request body; False if it ran past DRAIN_LIMIT."""
    drained = already
    while drained <= DRAIN_LIMIT:
        message = await receive()
        if message["type"] != "http.request":
            return False  # the client went away
        drained += len(message.get("body", b""))
        if not message.get("more_body", False):
            return True
    return False


def _expects_continue(scope: Scope) -> bool:
    # A client that asked for "100 Continue" has not sent its body: answer at once, read nothing.
    return any(n == b"expect" and v.lower() == b"100-continue" for n, v in scope.get("headers", []))


class BodyLimit:
    """Refuse bodies over the limit of their route, whether or not Content-Length is sent.

    The rest of a refused body is read and discarded (up to DRAIN_LIMIT) before answering, so a
    client that sends everything before reading still gets to read its 413.
    """

    def __init__(self, app: ASGIApp, *, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > limit:
                    if declared <= DRAIN_LIMIT and not _expects_continue(scope):
                        await _drain(receive, 0)
                    await _send_too_large(send, limit)
                    return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    if message.get("more_body", False):
                        await _drain(receive, received)
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited_receive, send)


async def _send_error(send: Send, status: int, code: str, message: str, details: object = None) -> None:
    body = json.dumps({"error": {"code": code, "message": message, "details": details}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _send_too_large(send: Send, limit: int) -> None:
    message = f"the request body is larger than the limit of {limit} bytes"
    await _send_error(send, 413, "payload_too_large", message, {"limit": limit})


class ContainErrors:
    """Answer an exception that escaped every handler with the app's 500, here, inside the
    other middleware: so the 500 carries the security headers and is counted like any answer,
    and the kept-alive connection stays usable. (Starlette's outermost ServerErrorMiddleware
    answers too, but then re-raises, and uvicorn drops the connection without a word, so the
    client's next request on it fails with "connection reset".)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if started:
                raise  # half an answer is out: only dropping the connection tells the client
            response = await _error_response(scope, receive, exc)
            await response(scope, receive, send)


async def _error_response(scope: Scope, receive: Receive, exc: Exception) -> Response:
    """The answer of the handler the app registered for Exception (see api/errors.py); a plain
    JSON 500 if there is none or it fails itself (say, a page that cannot be rendered)."""
    app = scope.get("app")
    handler = getattr(app, "exception_handlers", {}).get(Exception)
    if handler is not None:
        request = Request(scope, receive)
        try:
            if asyncio.iscoroutinefunction(handler):
                response: Response = await handler(request, exc)
            else:
                response = await run_in_threadpool(handler, request, exc)
            return response
        except Exception:  # the error answer must go out, whatever broke
            log.exception("the error handler failed")
    log.error("unhandled error", exc_info=exc)
    body = {"error": {"code": "internal_error", "message": "something went wrong on our side", "details": None}}
    return Response(json.dumps(body), status_code=500, media_type="application/json")


class RejectNulBytes:
    """A NUL in the path or query string is refused with a 400: databases cannot store or
    compare it (PostgreSQL refuses it in text, SQLite's driver in SQL parameters)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = unquote_to_bytes(scope.get("query_string", b"").replace(b"+", b" "))
            if "\x00" in scope["path"] or b"\x00" in query:
                await _send_error(send, 400, "bad_request", "the URL contains a NUL character")
                return
        await self.app(scope, receive, send)


class Metrics:
    """Count requests and time them, labelled by route template (not by raw path); the time to
    the first byte also goes to the client as `Server-Timing: app;dur=<ms>`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                elapsed = (time.perf_counter() - started) * 1000
                message["headers"] = [
                    *message.get("headers", []),
                    (b"server-timing", f"app;dur={elapsed:.2f}".encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            REQUESTS.labels(scope["method"], template, str(status)).inc()
            LATENCY.labels(scope["method"], template).observe(time.perf_counter() - started)
