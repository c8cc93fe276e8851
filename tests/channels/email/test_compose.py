"""Composing our mail (pure, channels/email/compose.py), as tables: due times said in words in the
platform's local time, the reply address, subjects, and the message itself — multipart text +
HTML from one template per kind and language, UTF-8, RFC 2047 subject, threading headers, and
Auto-Submitted on the automatic ones."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from huiying.channels.email import compose
from huiying.kit import locale

# Wednesday 2 December 2026, 10:00 in Beijing.
NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
SHANGHAI = "Asia/Shanghai"


def _letter(**overrides: object) -> compose.Letter:
    values: dict[str, object] = {
        "kind": "received",
        "number": "HY261202-0042",
        "to": "li.lei@example.net",
        "mail_from": "回应客服 <support@help.example.com>",
        "message_id": "abc.hy7@help.example.com",
        "now": NOW,
        "title": "退款一直没有到账",
        "in_reply_to": "user-1@mail.example.net",
        "references": ("user-1@mail.example.net",),
        "first_response_due": NOW + timedelta(hours=4),
        "resolution_due": NOW + timedelta(days=5),
        "portal_url": "https://help.example.com/portal/t/token",
    }
    values.update(overrides)
    return compose.Letter(**values)  # type: ignore[arg-type]


def _wire(message: EmailMessage) -> tuple[bytes, EmailMessage]:
    raw = message.as_bytes(policy=policy.SMTP)
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return raw, parsed


def _text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def _html(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


@pytest.mark.parametrize(
    ("due", "language", "words"),
    [
        (datetime(2026, 12, 2, 7, 30, tzinfo=UTC), "zh-CN", "今天 15:30"),
        (datetime(2026, 12, 2, 7, 30, tzinfo=UTC), "en", "15:30 today"),
        # 17:00 UTC is already Thursday 01:00 in Beijing: "tomorrow" is the local date's.
        (datetime(2026, 12, 2, 17, 0, tzinfo=UTC), "zh-CN", "明天 01:00"),
        (datetime(2026, 12, 2, 17, 0, tzinfo=UTC), "en", "01:00 tomorrow"),
        (datetime(2026, 12, 4, 1, 0, tzinfo=UTC), "zh-CN", "后天 09:00"),
        (datetime(2026, 12, 4, 1, 0, tzinfo=UTC), "en", "09:00 on Friday 4 December"),
        (datetime(2026, 12, 7, 10, 0, tzinfo=UTC), "zh-CN", "12月7日（星期一）18:00"),
        (datetime(2026, 12, 7, 10, 0, tzinfo=UTC), "en", "18:00 on Monday 7 December"),
        (datetime(2027, 1, 4, 1, 0, tzinfo=UTC), "zh-CN", "2027年1月4日（星期一）09:00"),
        (datetime(2027, 1, 4, 1, 0, tzinfo=UTC), "en", "09:00 on Monday 4 January 2027"),
    ],
)
def test_due_times_are_said_in_local_words(due: datetime, language: locale.Language, words: str) -> None:
    assert locale.when_words(due, now=NOW, zone=SHANGHAI, language=language) == words


@pytest.mark.parametrize(
    ("zone", "language", "words"),
    [
        (SHANGHAI, "zh-CN", "北京时间"),
        (SHANGHAI, "en", "Beijing time, UTC+8"),
        ("Asia/Kolkata", "en", "Asia/Kolkata time, UTC+5:30"),
        ("America/New_York", "zh-CN", "America/New_York 时间，UTC-5"),
        ("UTC", "en", "UTC time, UTC+0"),
    ],
)
def test_the_zone_is_named_or_given_its_offset(zone: str, language: locale.Language, words: str) -> None:
    assert locale.zone_words(zone, NOW, language) == words


@pytest.mark.parametrize(
    ("mail_from", "address"),
    [
        ("support@help.example.com", "support+HY261202-0042@help.example.com"),
        ("回应客服 <support@help.example.com>", "support+HY261202-0042@help.example.com"),
        ("support+inbox@help.example.com", "support+HY261202-0042@help.example.com"),
        ("support@localhost", "support+HY261202-0042@localhost"),
        ("", "support+HY261202-0042@localhost"),
    ],
)
def test_the_reply_address_routes_back_to_the_ticket(mail_from: str, address: str) -> None:
    assert compose.reply_address(mail_from, "HY261202-0042") == address


@pytest.mark.parametrize(
    ("title", "clean"),
    [
        ("退款一直没有到账", "退款一直没有到账"),
        ("Re: RE: 退款一直没有到账", "退款一直没有到账"),
        ("回复：[#HY261202-0042] 退款  一直没有到账", "退款 一直没有到账"),
        ("Fwd: AW: order missing", "order missing"),
        ("Refund [#HY261202-0042]", "Refund"),
        ("Re: regarding Re: unrelated", "regarding Re: unrelated"),
    ],
)
def test_titles_lose_reply_prefixes_and_our_number(title: str, clean: str) -> None:
    assert compose.clean_title(title, "HY261202-0042") == clean


@pytest.mark.parametrize(
    ("language", "chosen"), [(None, "zh-CN"), ("zh", "zh-CN"), ("other", "zh-CN"), ("en", "en"), ("EN", "en")]
)
def test_english_tickets_get_english_everything_else_chinese(language: str | None, chosen: str) -> None:
    assert locale.language_of(language) == chosen


def test_message_ids_are_ours_and_fresh() -> None:
    first = compose.new_message_id("回应客服 <support@help.example.com>", key="hy17")
    second = compose.new_message_id("support@help.example.com", key="hy17")
    assert first != second
    assert first.endswith(".hy17@help.example.com") and "<" not in first


def test_the_acknowledgement_is_multipart_utf8_and_an_auto_reply() -> None:
    raw, message = _wire(compose.build(_letter()))
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii() and b"Subject: [#HY261202-0042] =?utf-8?" in head
    assert message["Subject"] == "[#HY261202-0042] 我们已收到您的邮件：退款一直没有到账"
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert {part.get_content_charset() for part in message.iter_parts()} == {"utf-8"}
    assert message["Message-ID"] == "<abc.hy7@help.example.com>"
    assert message["In-Reply-To"] == "<user-1@mail.example.net>"
    assert message["References"] == "<user-1@mail.example.net>"
    assert message["Reply-To"] == "support+HY261202-0042@help.example.com"
    assert message["Auto-Submitted"] == "auto-replied" and message["X-Auto-Response-Suppress"] == "All"
    assert message["Date"] == "Wed, 02 Dec 2026 10:00:00 +0800"
    assert message["Content-Language"] == "zh-CN" and message["X-Huiying-Ticket"] == "HY261202-0042"
    text = _text(message)
    assert "我们会在今天 14:00 前给您首次答复，预计在12月7日（星期一）10:00 前处理完毕（北京时间）。" in text
    assert "https://help.example.com/portal/t/token" in text
    assert "今天 14:00" in _html(message)


@pytest.mark.parametrize(
    ("first", "resolution", "zh", "en"),
    [
        (None, None, "我们会尽快给您答复。", "We will reply as soon as we can."),
        (
            NOW + timedelta(hours=1),
            None,
            "我们会在今天 11:00 前给您首次答复（北京时间）。",
            "We will reply by 11:00 today (Beijing",
        ),
        (
            None,
            NOW + timedelta(days=1),
            "我们预计在明天 10:00 前处理完毕（北京时间）。",
            "resolved by 10:00 tomorrow (Beijing",
        ),
    ],
)
def test_a_missing_due_time_is_not_made_up(
    first: datetime | None, resolution: datetime | None, zh: str, en: str
) -> None:
    letter = _letter(first_response_due=first, resolution_due=resolution)
    assert zh in _text(compose.build(letter))
    assert en in _text(compose.build(replace(letter, language="en")))


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("kind", compose.KINDS)
def test_every_kind_renders_in_both_languages_with_little_to_go_on(kind: str, language: str) -> None:
    letter = _letter(
        kind=kind, language=language, title="", user_name=None, portal_url=None, in_reply_to=None, references=()
    )
    _, message = _wire(compose.build(letter))
    assert message["Subject"].startswith(("[#HY261202-0042]", "Re: [#HY261202-0042]"))
    assert message["In-Reply-To"] is None and message["References"] is None
    assert message["Content-Language"] == ("en" if language == "en" else "zh-CN")
    assert (message["Auto-Submitted"] is None) == (kind == "reply")
    assert "HY261202-0042" in _text(message) and "HY261202-0042" in _html(message)
    assert "\n\n\n" not in _text(message)


def test_a_reply_keeps_the_agents_words_and_the_html_cannot_be_injected() -> None:
    body = "您好 <b>李雷</b>，退款已原路退回 & 请查收。\n第二行\n\n另起一段"
    letter = _letter(kind="reply", body=body, title="<script>x</script>", user_name="<img src=x>")
    _, message = _wire(compose.build(letter))
    assert message["Subject"] == "Re: [#HY261202-0042] <script>x</script>"
    assert _text(message).startswith(body + "\n")  # plain text is never escaped
    html = _html(message)
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert "<p>您好 &lt;b&gt;李雷&lt;/b&gt;，退款已原路退回 &amp; 请查收。<br>\n第二行</p>\n<p>另起一段</p>" in html


def test_a_long_thread_keeps_its_first_mail_and_the_newest_and_drops_unsafe_ids() -> None:
    thread = tuple(f"m{i}@mail.example.net" for i in range(15))
    letter = _letter(
        kind="reply",
        in_reply_to="m7@mail.example.net",
        references=(*thread, "bad id@x", "no-at-sign", "<m3@mail.example.net>"),
    )
    _, message = _wire(compose.build(letter))
    ids = [i.strip("<>") for i in str(message["References"]).split()]
    assert len(ids) == compose.MAX_REFERENCES
    assert ids[0] == "m0@mail.example.net" and ids[-1] == "m7@mail.example.net"  # the parent last
    assert "bad id@x" not in ids and "no-at-sign" not in ids and len(set(ids)) == len(ids)


def test_a_header_injection_in_the_address_fails_instead_of_sending() -> None:
    with pytest.raises(ValueError):
        compose.build(_letter(to="li.lei@example.net\r\nBcc: everyone@example.com"))


def test_status_notices_say_what_happened() -> None:
    resolved = compose.build(_letter(kind="resolved"))
    closed = compose.build(_letter(kind="closed", language="en"))
    assert resolved["Subject"] == "[#HY261202-0042] 您的问题已处理完毕：退款一直没有到账"
    assert closed["Subject"] == "[#HY261202-0042] Your ticket is closed: 退款一直没有到账"
    assert resolved["Auto-Submitted"] == closed["Auto-Submitted"] == "auto-generated"
    assert "如果问题仍未解决" in _text(resolved) and "is closed" in _text(closed)
