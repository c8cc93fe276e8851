"""The access log: one line per request — client, method, path, status, milliseconds.

Written by the app rather than uvicorn because uvicorn logs the full path and query string:
portal links carry their signed token in the path, and queries carry searches and contacts.
Long token-like path segments are cut to a prefix and query values are left out; the line
then goes through the masking formatter of logs.py like every other line.
"""

from __future__ import annotations

import logging
import re
import time
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("huiying.access")

# Signed portal tokens, session ids and the like: long runs of URL-safe characters. Ticket
# numbers (HY261123-0001), slugs and ids are shorter and stay readable.
_TOKEN = re.compile(r"[A-Za-z0-9_.~=-]{20,}")


def loggable_path(path: str, query_string: bytes) -> str:
    """`path` with token-like segments cut, and only the names of the query parameters."""
    shown = "/".join(f"{part[:6]}…" if _TOKEN.fullmatch(part) else part for part in path.split("/"))
    if query_string:
        names = dict.fromkeys(name for name, _ in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
        shown += "?" + "&".join(f"{name[:40]}=…" for name in names)
    return shown


class AccessLog:
    """Logs each HTTP request when its answer is finished (or failed)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers if the app raises before starting a response

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            client = scope.get("client")
            log.info(
                "%s %s %s %d %.1fms",
                client[0] if client else "-",
                scope["method"],
                loggable_path(scope["path"], scope.get("query_string", b"")),
                status,
                (time.perf_counter() - started) * 1000,
            )
