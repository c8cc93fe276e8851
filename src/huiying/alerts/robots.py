"""The three group robots Chinese teams use, as pure functions: the request body and signature
each expects, how long its text may be, how fast it may be called, and what its answer means.

No HTTP, no database, no clock: the time is handed in. The published documents behind it:
- WeCom 群机器人 (developer.work.weixin.qq.com/document/path/91770): the key is part of the URL;
  `{"msgtype":"text","text":{"content":…}}`, content at most 2048 bytes of UTF-8; 20 messages a
  minute per robot.
- DingTalk 自定义机器人 加签: `timestamp` (ms) and `sign` query parameters, sign =
  urlencode(base64(HMAC-SHA256(key=secret, msg=timestamp + "\\n" + secret))); 20 messages a
  minute, after which the robot is throttled for 10 minutes.
- Feishu/Lark 自定义机器人 签名校验: `timestamp` (s) and `sign` in the JSON body, sign =
  base64(HMAC-SHA256(key=timestamp + "\\n" + secret, msg="")); 100 a minute and 5 a second.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import quote_plus

Kind = Literal["wecom", "dingtalk", "feishu"]
KINDS: tuple[Kind, ...] = ("wecom", "dingtalk", "feishu")

# Text limits in UTF-8 bytes. WeCom's is documented; DingTalk documents none for text, so we keep
# to a conservative 4 KB; Feishu limits the whole request body to 20 KB.
MAX_TEXT_BYTES: dict[str, int] = {"wecom": 2048, "dingtalk": 4096, "feishu": 18000}

# (messages, per window) — every pair must hold.
RATE_LIMITS: dict[str, tuple[tuple[int, timedelta], ...]] = {
    "wecom": ((20, timedelta(minutes=1)),),
    "dingtalk": ((20, timedelta(minutes=1)),),
    "feishu": ((100, timedelta(minutes=1)), (5, timedelta(seconds=1))),
}
# How long a robot that said "too fast" is left alone (DingTalk's documented penalty; the others
# say nothing, so the same).
THROTTLE_PENALTY = timedelta(minutes=10)
# Error codes meaning "you are sending too fast": WeCom 45009, DingTalk 130101, Feishu 11232.
_THROTTLE_CODES = frozenset({45009, 130101, 11232})

ELLIPSIS = "…"


@dataclass(frozen=True)
class Request:
    url: str
    body: dict[str, Any]


@dataclass(frozen=True)
class Answer:
    """What a robot's reply means: `error` None when the message was taken."""

    error: str | None
    throttled: bool = False


def truncate_utf8(text: str, limit: int) -> str:
    """`text` cut to at most `limit` bytes of UTF-8 on a character boundary (with "…" if cut)."""
    encoded = text.encode()
    if len(encoded) <= limit:
        return text
    room = limit - len(ELLIPSIS.encode())
    return encoded[: max(room, 0)].decode("utf-8", "ignore") + ELLIPSIS


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """base64(HMAC-SHA256(secret, f"{timestamp_ms}\\n{secret}")) — before URL encoding."""
    message = f"{timestamp_ms}\n{secret}".encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """base64(HMAC-SHA256(key=f"{timestamp_s}\\n{secret}", msg=b"")) — Feishu keys with the string."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def build_request(kind: str, *, url: str, secret: str | None, text: str, now: datetime) -> Request:
    """The URL and JSON body that post `text` (cut to the robot's limit) to a robot at `now`."""
    content = truncate_utf8(text, MAX_TEXT_BYTES[kind])
    if kind == "wecom":
        return Request(url, {"msgtype": "text", "text": {"content": content}})
    if kind == "dingtalk":
        if secret:
            timestamp_ms = int(now.timestamp() * 1000)
            joiner = "&" if "?" in url else "?"
            sign = quote_plus(dingtalk_sign(secret, timestamp_ms))
            url = f"{url}{joiner}timestamp={timestamp_ms}&sign={sign}"
        return Request(url, {"msgtype": "text", "text": {"content": content}})
    if kind == "feishu":
        body: dict[str, Any] = {"msg_type": "text", "content": {"text": content}}
        if secret:
            timestamp_s = int(now.timestamp())
            body = {"timestamp": str(timestamp_s), "sign": feishu_sign(secret, timestamp_s), **body}
        return Request(url, body)
    raise ValueError(f"unknown robot kind {kind!r}")


def read_answer(status: int, text: str) -> Answer:
    """A robot's HTTP status and body: taken, refused (why) or "too fast"."""
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        data = None
    code: object = None
    message = ""
    if isinstance(data, dict):
        # WeCom and DingTalk answer errcode/errmsg, Feishu code/msg (older: StatusCode).
        code = data.get("errcode", data.get("code", data.get("StatusCode")))
        message = str(data.get("errmsg", data.get("msg", data.get("StatusMessage", ""))))
    throttled = status == 429 or (isinstance(code, int) and code in _THROTTLE_CODES)
    if status >= 400:
        return Answer(f"HTTP {status}: {text[:200]}", throttled)
    if code not in (None, 0):
        return Answer(f"robot error {code}: {message[:200]}", throttled)
    return Answer(None)


def next_send_at(kind: str, recent: list[datetime], *, now: datetime, throttled_until: datetime | None) -> datetime:
    """The earliest moment a robot may take another message, given when it took its last ones."""
    earliest = now
    if throttled_until is not None and throttled_until > earliest:
        earliest = throttled_until
    ordered = sorted(recent)
    for count, window in RATE_LIMITS[kind]:
        inside = [t for t in ordered if t > now - window]
        if len(inside) >= count:
            earliest = max(earliest, inside[-count] + window)
    return earliest


def keep_recent(kind: str, recent: list[datetime], *, now: datetime) -> list[datetime]:
    """The send times that still matter for the robot's widest window."""
    widest = max(window for _, window in RATE_LIMITS[kind])
    return sorted(t for t in recent if t > now - widest)


def digest_text(alerts: list[tuple[str, str]], *, limit: int) -> str:
    """One message for one alert (Chinese, then English), or a digest of several that fits `limit`
    bytes: a count line, then one line per alert, and "… N more" when they do not all fit."""
    if len(alerts) == 1:
        zh, en = alerts[0]
        return truncate_utf8(f"{zh}\n{en}", limit)
    header = f"【汇总】{len(alerts)} 条提醒 / Digest: {len(alerts)} alerts"
    lines = [header]
    used = len(header.encode())
    for index, (zh, en) in enumerate(alerts):
        line = f"{index + 1}. {zh} / {en}"
        left = len(alerts) - index
        tail = f"… 另有 {left} 条 / {left} more"
        # Keep room for the "more" line unless this is the last alert.
        need = len(line.encode()) + 1 + (0 if left == 1 else len(tail.encode()) + 1)
        if used + need > limit:
            lines.append(tail)
            break
        lines.append(line)
        used += len(line.encode()) + 1
    return truncate_utf8("\n".join(lines), limit)
