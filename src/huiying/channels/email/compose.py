"""The mails we send a user, composed from plain values: no database, no settings, no I/O.

`build(letter)` answers an EmailMessage ready for SMTP: multipart/alternative, text and HTML
rendered from ONE template per kind and language (templates/<kind>.<language>.html, with the
blocks `subject`, `text` and `html`), UTF-8, the subject RFC 2047-encoded by the email package.
Threading: a Message-ID under our own domain, In-Reply-To and References naming the user's last
mail, a Reply-To (`support+<number>@domain`) and the number in the subject, so the answer comes
back to the same ticket. Automatic mail (the acknowledgement, status notices) says so in
Auto-Submitted (RFC 3834), so robots at the other end do not answer it and no loop starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from markupsafe import Markup, escape

Kind = Literal["received", "reply", "resolved", "closed"]
Language = Literal["zh-CN", "en"]
KINDS: tuple[Kind, ...] = ("received", "reply", "resolved", "closed")
# Which template a kind is written in: both status notices share one.
TEMPLATE_OF: dict[Kind, str] = {"received": "ack", "reply": "reply", "resolved": "status", "closed": "status"}
# RFC 3834: an acknowledgement answers the user's mail (auto-replied); a status notice answers
# nothing in particular (auto-generated). A person's reply is no automatic mail.
AUTO_SUBMITTED: dict[Kind, str] = {"received": "auto-replied", "resolved": "auto-generated", "closed": "auto-generated"}
SUBJECT_CHARS = 150
# References keep the first mail of the thread and the newest ones (RFC 5322 §3.6.4 lets a long
# list be cut in the middle); clients thread on those.
MAX_REFERENCES = 10
TEMPLATES = Path(__file__).parent / "templates"

# The zones people here know by a name of their own; any other is said with its UTC offset.
_ZONE_NAMES: dict[str, tuple[str, str]] = {
    "Asia/Shanghai": ("北京时间", "Beijing time"),
    "Asia/Hong_Kong": ("香港时间", "Hong Kong time"),
    "Asia/Taipei": ("台北时间", "Taipei time"),
}
_WEEKDAYS_ZH = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
_WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
# "Re:", "回复：", "Fwd:"… and our own "[#number]" in front of a title: the subject adds its own.
_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|sv|答复|回复|转发|回覆|轉寄)\s*[:：]\s*|\[#[^\]]*\]\s*)+", re.IGNORECASE)
# What may stand between the angle brackets of an id we repeat: printable ASCII, with an "@".
_SAFE_ID = re.compile(r"^[!-;=?-~]+@[!-;=?-~]+$")


@dataclass(frozen=True)
class Letter:
    """Everything one mail says, as plain values (outbound.py gathers them from the ticket)."""

    kind: Kind
    number: str
    to: str
    mail_from: str  # HUIYING_MAIL_FROM, with or without a display name
    message_id: str  # ours, without <>
    now: datetime  # aware; "today" and "tomorrow" are counted from it
    title: str = ""
    language: str | None = None  # the ticket's ("zh", "en", …); anything but English gets zh-CN
    user_name: str | None = None
    body: str = ""  # a reply's text
    in_reply_to: str | None = None  # the user's last mail, without <>
    references: tuple[str, ...] = field(default_factory=tuple)  # the thread, oldest first, without <>
    first_response_due: datetime | None = None
    resolution_due: datetime | None = None
    portal_url: str | None = None
    timezone: str = "Asia/Shanghai"
    # The resolution notice lists the approved compensation, each already in words of the
    # letter's language ("优惠券 20 元"); outbound.py fills it from huiying.compensation.
    compensations: tuple[str, ...] = field(default_factory=tuple)


def language_of(ticket_language: str | None) -> Language:
    """English for a ticket written in English; zh-CN for everything else, the platform's own."""
    return "en" if (ticket_language or "").lower().startswith("en") else "zh-CN"


def address_of(mail_from: str) -> tuple[str, str]:
    """(display name, address) of HUIYING_MAIL_FROM; a value without "@" is made one at localhost."""
    name, address = parseaddr(mail_from)
    if "@" not in address:
        address = f"{address or 'support'}@localhost"
    return name, address


def reply_address(mail_from: str, number: str) -> str:
    """`support+<number>@domain` beside HUIYING_MAIL_FROM: the answer routes back to the ticket."""
    local, _, domain = address_of(mail_from)[1].rpartition("@")
    return f"{local.partition('+')[0]}+{number}@{domain}"


def new_message_id(mail_from: str, *, key: str) -> str:
    """A fresh Message-ID (without <>) under the domain of HUIYING_MAIL_FROM; `key` goes in it."""
    domain = address_of(mail_from)[1].rpartition("@")[2]
    return make_msgid(idstring=re.sub(r"[^A-Za-z0-9.-]", "", key) or None, domain=domain).strip("<>")


def clean_title(title: str, number: str) -> str:
    """The ticket's title for a subject: without "Re:"-style prefixes or our "[#number]"."""
    cleaned = _PREFIX.sub("", title.replace(f"[#{number}]", "")).strip()
    return re.sub(r"\s+", " ", cleaned)


def zone_words(zone: str, at: datetime, language: Language) -> str:
    """The zone a time is said in: its name people know ("北京时间"), else its UTC offset."""
    tz = ZoneInfo(zone)
    offset = at.astimezone(tz).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign, minutes = ("+" if minutes >= 0 else "-"), abs(minutes)
    utc = f"UTC{sign}{minutes // 60}" + (f":{minutes % 60:02d}" if minutes % 60 else "")
    named = _ZONE_NAMES.get(zone)
    if named is not None:
        return named[0] if language == "zh-CN" else f"{named[1]}, {utc}"
    return f"{zone} 时间，{utc}" if language == "zh-CN" else f"{zone} time, {utc}"


def when_words(due: datetime, *, now: datetime, zone: str, language: Language) -> str:
    """A due time as people say it, in the local time of `zone`: "今天 16:00", "明天 09:30",
    "3月8日（星期六）18:00"; "16:00 today", "18:00 on Saturday 8 March" (a year when not this one)."""
    tz = ZoneInfo(zone)
    local, today = due.astimezone(tz), now.astimezone(tz).date()
    clock = f"{local:%H:%M}"
    days = (local.date() - today).days
    if language == "zh-CN":
        if days in (0, 1, 2):
            return f"{('今天', '明天', '后天')[days]} {clock}"
        year = f"{local.year}年" if local.year != today.year else ""
        return f"{year}{local.month}月{local.day}日（{_WEEKDAYS_ZH[local.weekday()]}）{clock}"
    if days in (0, 1):
        return f"{clock} {('today', 'tomorrow')[days]}"
    year = f" {local.year}" if local.year != today.year else ""
    return f"{clock} on {_WEEKDAYS_EN[local.weekday()]} {local.day} {_MONTHS_EN[local.month - 1]}{year}"


def _paragraphs(text: str) -> Markup:
    """Plain text as HTML: escaped, blank lines between paragraphs, single newlines kept."""
    blocks = [block.strip("\n") for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if block.strip()]
    return Markup("\n").join(
        Markup("<p>{}</p>").format(Markup("<br>\n").join(map(escape, b.split("\n")))) for b in blocks
    )


def _environment(*, html: bool) -> Environment:
    # Two environments over the same files: the HTML block is always escaped (a user's name or
    # title cannot become markup), the subject and text blocks never are (no "&amp;" in a mail).
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=html,  # noqa: S701 - the text environment renders plain text, never HTML
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["paragraphs"] = _paragraphs
    return environment


_TEXT, _HTML = _environment(html=False), _environment(html=True)


def _block(template: Template, name: str, values: dict[str, object]) -> str:
    return "".join(template.blocks[name](template.new_context(values)))


def _text(rendered: str) -> str:
    """Template output as a mail body: no trailing spaces, at most one blank line in a row."""
    lines = [line.rstrip() for line in rendered.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def _ids(values: tuple[str | None, ...]) -> list[str]:
    """Ids we can repeat in a header safely, once each, in order."""
    bare = (value.strip().strip("<>").strip() for value in values if value)
    return list(dict.fromkeys(i for i in bare if _SAFE_ID.match(i) and len(i) <= 250))


def values_for(letter: Letter) -> dict[str, object]:
    """What the templates see: the letter's words, due times already said in words."""
    language = language_of(letter.language)
    due = letter.first_response_due or letter.resolution_due

    def words(at: datetime | None) -> str | None:
        return when_words(at, now=letter.now, zone=letter.timezone, language=language) if at else None

    sender_name = address_of(letter.mail_from)[0]
    return {
        "kind": letter.kind,
        "number": letter.number,
        "title": clean_title(letter.title, letter.number),
        "user_name": (letter.user_name or "").strip(),
        "body": letter.body.strip(),
        "first_response": words(letter.first_response_due),
        "resolution": words(letter.resolution_due),
        "zone": zone_words(letter.timezone, due or letter.now, language),
        "portal_url": letter.portal_url,
        "compensations": list(letter.compensations),
        "reply_address": reply_address(letter.mail_from, letter.number),
        "signature": sender_name or ("客服团队" if language == "zh-CN" else "Customer Support"),
    }


def build(letter: Letter) -> EmailMessage:
    """The mail for `letter`, every header set: ready for `huiying.smtp.send`."""
    language = language_of(letter.language)
    name = f"{TEMPLATE_OF[letter.kind]}.{language}.html"
    values = values_for(letter)
    subject = re.sub(r"\s+", " ", _block(_TEXT.get_template(name), "subject", values)).strip()
    if len(subject) > SUBJECT_CHARS:
        subject = subject[: SUBJECT_CHARS - 1] + "…"
    values["subject"] = subject
    text = _text(_block(_TEXT.get_template(name), "text", values))
    html = _block(_HTML.get_template(name), "html", values).strip() + "\n"

    message = EmailMessage()
    sender_name, sender = address_of(letter.mail_from)
    message["From"] = formataddr((sender_name, sender)) if sender_name else sender
    message["To"] = letter.to
    message["Reply-To"] = reply_address(letter.mail_from, letter.number)
    message["Subject"] = subject  # RFC 2047 (UTF-8) when not ASCII: the email package encodes it
    message["Date"] = format_datetime(letter.now.astimezone(ZoneInfo(letter.timezone)))
    message["Message-ID"] = f"<{letter.message_id}>"
    parent = _ids((letter.in_reply_to,))
    if parent:
        message["In-Reply-To"] = f"<{parent[0]}>"
    # The mail it answers comes last (RFC 5322 §3.6.4: the parent's References, then the parent).
    thread = [i for i in _ids(letter.references) if i not in parent] + parent
    if len(thread) > MAX_REFERENCES:
        thread = [thread[0], *thread[-(MAX_REFERENCES - 1) :]]
    if thread:
        message["References"] = " ".join(f"<{i}>" for i in thread)
    automatic = AUTO_SUBMITTED.get(letter.kind)
    if automatic is not None:
        message["Auto-Submitted"] = automatic
        # Exchange and Outlook send no out-of-office or read receipt back for it.
        message["X-Auto-Response-Suppress"] = "All"
    message["X-Huiying-Ticket"] = letter.number
    message.set_content(text, subtype="plain", charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    message["Content-Language"] = language  # after the parts: set_content drops Content-* headers
    return message
