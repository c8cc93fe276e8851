"""The mails we send a user, composed from plain values: no database, no settings, no I/O.

`build(letter)` answers an EmailMessage ready for SMTP: multipart/alternative, text and HTML
rendered from one template per language for a reply and one for every notice
(templates/{reply,notice}.<language>.html, blocks `subject`, `text` and `html`; a notice's
subject and news come from notices/wording.py, where admins may reword them), UTF-8, the
subject RFC 2047-encoded by the email package.
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
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from markupsafe import Markup, escape

from huiying.kit.locale import language_of
from huiying.notices import wording

# A person's reply, or one of the notices (notices/wording.py KINDS: received, resolved…).
Kind = str
REPLY = "reply"
KINDS: tuple[str, ...] = (REPLY, *wording.KINDS)
# RFC 3834: an acknowledgement answers the user's mail (auto-replied); every other notice answers
# nothing in particular (auto-generated). A person's reply is no automatic mail.
AUTO_REPLIED = "received"
# The notices that ask the user to rate the service (the survey link).
ASKS_SURVEY = frozenset({"resolved", "unsolvable"})
SUBJECT_CHARS = 150
# References keep the first mail of the thread and the newest ones (RFC 5322 §3.6.4 lets a long
# list be cut in the middle); clients thread on those.
MAX_REFERENCES = 10
TEMPLATES = Path(__file__).parent / "templates"

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
    # A notice's own detail (a delay's reason and new time…) and the admins' wording of its kind
    # (None: the default words); notices/wording.py fills the subject and the news from them.
    detail: dict[str, object] = field(default_factory=dict)
    template: wording.Texts | None = None


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
    """What the templates see: the letter's words, a notice's subject and news already filled in."""
    language = language_of(letter.language)
    sender_name = address_of(letter.mail_from)[0]
    values: dict[str, object] = {
        "kind": letter.kind,
        "number": letter.number,
        "title": clean_title(letter.title, letter.number),
        "user_name": (letter.user_name or "").strip(),
        "body": letter.body.strip(),
        "portal_url": letter.portal_url,
        "compensations": list(letter.compensations),
        "asks_survey": letter.kind in ASKS_SURVEY,
        "reply_address": reply_address(letter.mail_from, letter.number),
        "signature": sender_name or ("客服团队" if language == "zh-CN" else "Customer Support"),
    }
    if letter.kind != REPLY:
        facts = wording.Facts(
            kind=letter.kind,
            number=letter.number,
            now=letter.now,
            language=letter.language,
            title=clean_title(letter.title, letter.number),
            first_response_due=letter.first_response_due,
            resolution_due=letter.resolution_due,
            timezone=letter.timezone,
            detail=dict(letter.detail),
            compensations=letter.compensations,
        )
        texts = wording.rendered(facts, letter.template)
        values.update(notice_subject=texts.subject, notice_body=texts.body)
    return values


def build(letter: Letter) -> EmailMessage:
    """The mail for `letter`, every header set: ready for `huiying.smtp.send`."""
    language = language_of(letter.language)
    if letter.kind not in KINDS:
        raise ValueError(f"no mail for {letter.kind!r}")
    name = f"{'reply' if letter.kind == REPLY else 'notice'}.{language}.html"
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
    if letter.kind != REPLY:
        message["Auto-Submitted"] = "auto-replied" if letter.kind == AUTO_REPLIED else "auto-generated"
        # Exchange and Outlook send no out-of-office or read receipt back for it.
        message["X-Auto-Response-Suppress"] = "All"
    message["X-Huiying-Ticket"] = letter.number
    message.set_content(text, subtype="plain", charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    message["Content-Language"] = language  # after the parts: set_content drops Content-* headers
    return message
