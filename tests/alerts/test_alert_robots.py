"""The robots' payloads, signatures, limits and answers (pure).

No official document publishes a (timestamp, secret, sign) triple: DingTalk's and Feishu's pages
give the algorithm and sample code only, WeCom has no signature. The vectors below were
computed independently with `openssl dgst -sha256 -hmac … -binary | base64` (see each case) and
are checked again here with Python's hmac; the WeCom body is the document's own curl example.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from huiying.alerts import robots

T0 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


# printf '1577262236757\nSECabc123' | openssl dgst -sha256 -hmac SECabc123 -binary | base64
DINGTALK = ("SECabc123", 1577262236757, "sP2tUmwYDrLqnFjDuYnBJi0Od0TLi424Z2c6qlTmCao=")
# printf '' | openssl dgst -sha256 -hmac "$(printf '1599360473\ndemo-secret')" -binary | base64
# (1599360473 is the example timestamp of Feishu's 签名校验 section)
FEISHU = ("demo-secret", 1599360473, "3/MaVZ8JLIy4TUG+7KSFJqvUkTKd+HWY8g+56DZWq8s=")


def test_dingtalk_sign_matches_the_vector_and_hmac() -> None:
    secret, timestamp, expected = DINGTALK
    assert robots.dingtalk_sign(secret, timestamp) == expected
    by_hand = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    assert base64.b64decode(expected) == by_hand


def test_feishu_sign_matches_the_vector_and_hmac() -> None:
    secret, timestamp, expected = FEISHU
    assert robots.feishu_sign(secret, timestamp) == expected
    by_hand = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    assert base64.b64decode(expected) == by_hand
    # Not DingTalk's scheme with seconds: the key really is the string.
    assert expected != robots.dingtalk_sign(secret, timestamp)


def test_wecom_body_is_the_documents_example() -> None:
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693axxx6-7aoc-4bc4-97a0-0ec2sifa5aaa"
    request = robots.build_request("wecom", url=url, secret=None, text="hello world", now=T0)
    assert request.url == url
    assert request.body == {"msgtype": "text", "text": {"content": "hello world"}}


def test_dingtalk_request_signs_in_the_query() -> None:
    secret, timestamp_ms, expected = DINGTALK
    now = datetime.fromtimestamp(timestamp_ms / 1000, UTC)
    request = robots.build_request(
        "dingtalk", url="https://oapi.dingtalk.com/robot/send?access_token=abc", secret=secret, text="告警", now=now
    )
    query = parse_qs(urlsplit(request.url).query)
    assert query == {"access_token": ["abc"], "timestamp": [str(timestamp_ms)], "sign": [expected]}
    assert "sign=sP2tUmwYDrLqnFjDuYnBJi0Od0TLi424Z2c6qlTmCao%3D" in request.url  # URL-encoded "="
    assert request.body == {"msgtype": "text", "text": {"content": "告警"}}


def test_feishu_request_signs_in_the_body() -> None:
    secret, timestamp_s, expected = FEISHU
    now = datetime.fromtimestamp(timestamp_s, UTC)
    request = robots.build_request(
        "feishu", url="https://open.feishu.cn/open-apis/bot/v2/hook/x", secret=secret, text="hi", now=now
    )
    assert request.body == {
        "timestamp": str(timestamp_s),
        "sign": expected,
        "msg_type": "text",
        "content": {"text": "hi"},
    }
    unsigned = robots.build_request("feishu", url="https://h/x", secret=None, text="hi", now=now)
    assert "sign" not in unsigned.body


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("abc", 3, "abc"),
        ("abcd", 4, "abcd"),
        ("abcdef", 5, "ab…"),  # "…" is 3 bytes
        ("工单工单", 12, "工单工单"),
        ("工单工单", 11, "工单…"),  # 6 + 3 = 9 ≤ 11; a third 工 (3 bytes) would not fit with "…"
        ("工单工单", 10, "工单…"),
        ("a工单", 6, "a…"),  # never half a character
    ],
)
def test_truncate_cuts_on_a_character_boundary(text: str, limit: int, expected: str) -> None:
    result = robots.truncate_utf8(text, limit)
    assert result == expected
    assert len(result.encode()) <= limit


def test_a_wecom_message_never_passes_2048_bytes() -> None:
    request = robots.build_request("wecom", url="https://h/x", secret=None, text="超时" * 2000, now=T0)
    content = request.body["text"]["content"]
    assert len(content.encode()) <= 2048 and content.endswith("…")
    content.encode().decode("utf-8")  # whole characters only


@pytest.mark.parametrize(
    ("kind", "sent_seconds_ago", "throttled_for", "wait_seconds"),
    [
        ("wecom", [], None, 0),
        ("wecom", [59] * 19, None, 0),  # the 20th of the minute may go
        ("wecom", [59] * 20, None, 1),  # the 21st waits until the oldest leaves the window
        ("wecom", [30] * 10 + [10] * 10, None, 30),
        ("wecom", [61] * 20, None, 0),  # last minute's do not count
        ("dingtalk", [5] * 20, None, 55),
        ("dingtalk", [], 600, 600),  # said "too fast": 10 minutes off
        ("feishu", [0.5] * 5, None, 0.5),  # 5 a second
        ("feishu", [2] * 5, None, 0),
        ("feishu", [50] * 99, None, 0),
        ("feishu", [50] * 100, None, 10),  # 100 a minute
    ],
)
def test_next_send_at_keeps_each_robots_rate(
    kind: str, sent_seconds_ago: list[float], throttled_for: int | None, wait_seconds: float
) -> None:
    recent = [T0 - timedelta(seconds=s) for s in sent_seconds_ago]
    throttled = T0 + timedelta(seconds=throttled_for) if throttled_for else None
    assert robots.next_send_at(kind, recent, now=T0, throttled_until=throttled) == T0 + timedelta(seconds=wait_seconds)


def test_keep_recent_forgets_what_no_window_needs() -> None:
    recent = [T0 - timedelta(seconds=s) for s in (120, 61, 59, 1)]
    assert robots.keep_recent("wecom", recent, now=T0) == [T0 - timedelta(seconds=59), T0 - timedelta(seconds=1)]


@pytest.mark.parametrize(
    ("status", "body", "error", "throttled"),
    [
        (200, '{"errcode":0,"errmsg":"ok"}', None, False),  # WeCom, DingTalk
        (200, '{"code":0,"msg":"success","data":{}}', None, False),  # Feishu
        (200, '{"StatusCode":0,"StatusMessage":"success"}', None, False),  # Feishu, older
        (200, "", None, False),
        (200, '{"errcode":310000,"errmsg":"sign not match"}', "robot error 310000: sign not match", False),
        (200, '{"errcode":130101,"errmsg":"send too fast"}', "robot error 130101: send too fast", True),
        (200, '{"errcode":45009,"errmsg":"api freq out of limit"}', "robot error 45009: api freq out of limit", True),
        (200, '{"code":11232,"msg":"frequency limited"}', "robot error 11232: frequency limited", True),
        (200, '{"code":19021,"msg":"sign match fail"}', "robot error 19021: sign match fail", False),
        (429, "slow down", "HTTP 429: slow down", True),
        (502, "<html>bad gateway</html>", "HTTP 502: <html>bad gateway</html>", False),
    ],
)
def test_read_answer(status: int, body: str, error: str | None, throttled: bool) -> None:
    assert robots.read_answer(status, body) == robots.Answer(error, throttled)


def test_one_alert_is_itself_and_several_are_one_digest() -> None:
    assert robots.digest_text([("工单超时", "Ticket overdue")], limit=2048) == "工单超时\nTicket overdue"
    alerts = [(f"工单 {i} 即将超时", f"Ticket {i} due soon") for i in range(50)]
    text = robots.digest_text(alerts, limit=2048)
    assert text.startswith("【汇总】50 条提醒 / Digest: 50 alerts")
    assert len(text.encode()) <= 2048
    listed = [line for line in text.splitlines() if line[:1].isdigit()]
    assert 10 < len(listed) < 50
    assert text.splitlines()[-1] == f"… 另有 {50 - len(listed)} 条 / {50 - len(listed)} more"
    everything = robots.digest_text(alerts[:3], limit=2048).splitlines()
    assert everything[1:] == [f"{i + 1}. 工单 {i} 即将超时 / Ticket {i} due soon" for i in range(3)]
