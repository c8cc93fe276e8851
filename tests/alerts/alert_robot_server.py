"""A real HTTP server standing in for WeCom / DingTalk / Feishu robots: it checks each payload and
signature (recomputed here with hmac) and counts messages."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

SECRET = "SECtest-secret"
# The moment the tests freeze time at (a DingTalk timestamp must be within an hour of it).
T0 = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


@dataclass
class Received:
    path: str
    query: dict[str, list[str]]
    body: dict[str, Any]
    problems: list[str] = field(default_factory=list)


class RobotServer:
    """Answers like a robot; checks DingTalk's query signature and Feishu's body signature."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.answers: list[tuple[int, str]] = []  # queued answers; then {"errcode":0}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                parts = urlsplit(self.path)
                got = Received(parts.path, parse_qs(parts.query), json.loads(raw))
                outer._check(got)
                outer.received.append(got)
                status, text = outer.answers.pop(0) if outer.answers else (200, '{"errcode":0,"errmsg":"ok"}')
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(text.encode())

            def log_message(self, *args: object) -> None:
                return

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"

    def _check(self, got: Received) -> None:
        if got.path == "/wecom":
            if set(got.body) != {"msgtype", "text"} or got.body["msgtype"] != "text":
                got.problems.append("wecom body")
            if len(got.body["text"]["content"].encode()) > 2048:
                got.problems.append("wecom too long")
        elif got.path == "/dingtalk":
            timestamp, sign = got.query["timestamp"][0], got.query["sign"][0]
            mac = hmac.new(SECRET.encode(), f"{timestamp}\n{SECRET}".encode(), hashlib.sha256).digest()
            if base64.b64encode(mac).decode() != sign:
                got.problems.append("dingtalk sign")
            if abs(int(timestamp) / 1000 - T0.timestamp()) > 3600:
                got.problems.append("dingtalk timestamp")
        elif got.path == "/feishu":
            timestamp = got.body["timestamp"]
            mac = hmac.new(f"{timestamp}\n{SECRET}".encode(), b"", hashlib.sha256).digest()
            if base64.b64encode(mac).decode() != got.body["sign"] or got.body["msg_type"] != "text":
                got.problems.append("feishu sign")

    def texts(self) -> list[str]:
        return [r.body["text"]["content"] if "text" in r.body else r.body["content"]["text"] for r in self.received]


def serve() -> Iterator[RobotServer]:
    server = RobotServer()
    threading.Thread(target=server.server.serve_forever, daemon=True).start()
    yield server
    server.server.shutdown()
