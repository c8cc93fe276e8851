"""One raw mail as plain values: `parse_mail(raw)` never raises.

A mail it cannot make sense of (no bytes, no header fields, a structure the parser chokes on)
comes back with `problem` set, so the caller quarantines it with its raw bytes; everything it
repaired or guessed on the way is listed in `defects`. Python's `email` parses the structure
(compat32: it keeps 8-bit bytes as they came); every header and body is decoded here, through
charsets.py, because the library's own decoding turns a "gb2312" part's GBK-only characters
into U+FFFD. Message-IDs are kept without their angle brackets; addresses in lower case.
"""

from __future__ import annotations

import binascii
import hashlib
import mimetypes
import quopri
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from enum import StrEnum
from urllib.parse import unquote_to_bytes

from huiying.channels.email import charsets, html_text
from huiying.kit.strings import clean, clean_line

# Deeper or wider MIME trees are built to exhaust a parser, not to be read.
MAX_DEPTH = 30
MAX_PARTS = 500
PROBLEM_CHARS = 300


class Flag(StrEnum):
    """A header fact about automation; noise.py turns them into a kind."""

    AUTO_SUBMITTED = "auto-submitted"  # Auto-Submitted: anything but "no" (RFC 3834)
    PRECEDENCE_BULK = "precedence-bulk"  # Precedence: bulk or junk
    PRECEDENCE_LIST = "precedence-list"
    PRECEDENCE_AUTO_REPLY = "precedence-auto-reply"
    X_AUTOREPLY = "x-autoreply"
    X_AUTORESPOND = "x-autorespond"
    LIST_ID = "list-id"
    LIST_UNSUBSCRIBE = "list-unsubscribe"
    NULL_RETURN_PATH = "null-return-path"  # Return-Path: <> (bounces and auto-replies)
    SPAM = "spam"  # X-Spam-Flag: YES, X-Spam-Status: Yes, X-Spam: yes (flagged upstream)
    DELIVERY_REPORT = "delivery-report"  # multipart/report; report-type=delivery-status
    DISPOSITION_REPORT = "disposition-report"  # a read receipt (disposition-notification)


@dataclass(frozen=True)
class Attachment:
    filename: str | None  # decoded (RFC 2231 and 2047), without any directory part
    content_type: str
    data: bytes = field(repr=False)
    content_id: str | None = None  # without angle brackets: what `cid:` links in the HTML name
    inline: bool = False

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class ParsedMail:
    digest: str  # sha256 of the normalised raw mail, see content_digest
    message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    subject: str = ""
    from_address: str | None = None
    from_name: str | None = None
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    reply_to: tuple[str, ...] = ()
    date: datetime | None = None  # aware, UTC
    text: str = ""  # the whole body as text (from the HTML when there is no plain part)
    text_new: str = ""  # `text` without quoted history and signature: what the sender wrote now
    html: str | None = None  # sanitised
    attachments: tuple[Attachment, ...] = ()
    flags: tuple[Flag, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()  # every header, decoded, name in lower case
    defects: tuple[str, ...] = ()  # what was repaired or guessed: the mail is still usable
    problem: str | None = None  # the mail could not be understood: quarantine it

    def header(self, name: str) -> str | None:
        """The first value of a header (any case), decoded; None when absent."""
        name = name.lower()
        return next((value for key, value in self.headers if key == name), None)


def parse_mail(raw: bytes) -> ParsedMail:
    """The mail in `raw` as plain values; `problem` set when it is not a readable mail."""
    raw = bytes(raw)
    digest = content_digest(raw)
    if not raw.strip():
        return ParsedMail(digest=digest, problem="empty input: no bytes of a mail")
    try:
        return _parse(raw, digest)
    except Exception as exc:  # noqa: BLE001 - the contract: quarantine, never crash the poller
        return ParsedMail(digest=digest, problem=f"cannot parse: {type(exc).__name__}: {exc}"[:PROBLEM_CHARS])


# The header fields at least one of which a mail has; bytes with none of them are not a mail.
_MAIL_FIELDS = {"from", "sender", "reply-to", "to", "cc", "bcc", "subject", "date", "message-id", "in-reply-to"}
_MAIL_FIELDS |= {"references", "received", "return-path", "mime-version", "content-type", "delivered-to"}


# Obsolete syntax (RFC 5322 4.5) Python's parser does not take: space before a header's colon.
_OBSOLETE_FIELD_NAME = re.compile(rb"^([\x21-\x39\x3b-\x7e]+)[ \t]+:", re.MULTILINE)
_HEADER_END = re.compile(rb"\r?\n\r?\n")


def _parse(raw: bytes, digest: str) -> ParsedMail:
    end = match.start() if (match := _HEADER_END.search(raw)) else len(raw)
    repaired = _OBSOLETE_FIELD_NAME.sub(rb"\1:", raw[:end]) + raw[end:]
    message = BytesParser(policy=policy.compat32).parsebytes(repaired)
    raw_headers = [(name.strip().lower(), value) for name, value in message.raw_items()]
    if not any(name in _MAIL_FIELDS for name, _ in raw_headers):
        return ParsedMail(digest=digest, problem="no mail header fields: not a mail")
    body = _Body()
    _collect(message, body, depth=0)
    hint = body.charsets[0] if body.charsets else None  # for raw 8-bit header bytes
    headers = tuple((name, clean_line(charsets.decode_header(value, hint=hint))) for name, value in raw_headers)
    first = dict(reversed(raw_headers))  # name -> its first raw value
    first_decoded = dict(reversed(headers))

    def addresses(*names: str) -> list[tuple[str, str]]:
        values = [value for name, value in raw_headers if name in names]
        return _addresses(values, hint=hint)

    senders = addresses("from") or addresses("sender")
    from_name, from_address = senders[0] if senders else ("", "")
    text, html = body.text()
    defects = [f"{type(defect).__name__} in the headers" for defect in message.defects] + body.defects
    defects += [
        f"{name} header: bytes invalid in every charset replaced by U+FFFD"
        for (name, value), (_, raw_value) in zip(headers, raw_headers, strict=True)
        if "\ufffd" in value and "\ufffd".encode() not in charsets.header_bytes(raw_value)
    ]
    if not from_address:
        defects.append("no sender address")
    return ParsedMail(
        digest=digest,
        message_id=next(iter(_message_ids(first.get("message-id"))), None),
        in_reply_to=next(iter(_message_ids(first.get("in-reply-to"))), None),
        references=tuple(dict.fromkeys(_message_ids(first.get("references")))),
        subject=first_decoded.get("subject", ""),
        from_address=from_address or None,
        from_name=from_name or None,
        to=tuple(address for _, address in addresses("to") if address),
        cc=tuple(address for _, address in addresses("cc") if address),
        reply_to=tuple(address for _, address in addresses("reply-to") if address),
        date=_date(first.get("date")),
        text=text,
        text_new=trim_quoted(text),
        html=html,
        attachments=tuple(body.attachments),
        flags=_flags(first_decoded, message),
        headers=headers,
        defects=tuple(dict.fromkeys(defects)),
    )


# --- headers ----------------------------------------------------------------------------------

_ANGLE_ID = re.compile(r"<\s*([^<>\s]+?)\s*>")
_ADDRESS = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+")


def _message_ids(value: str | None) -> list[str]:
    """The ids in a Message-ID, In-Reply-To or References value; bare ones when none is bracketed."""
    if not value:
        return []
    text = charsets.decode_header(value)
    found = _ANGLE_ID.findall(text) or [token.strip("<>,;") for token in re.split(r"[\s,]+", text) if "@" in token]
    return [found_id for found_id in map(clean_line, found) if found_id]


def _addresses(values: list[str], *, hint: str | None) -> list[tuple[str, str]]:
    """(display name, address) pairs; the list is split before the names' encoded words are
    decoded, since a decoded name may hold a comma. An address without "@" is no address; a
    value the address parser cannot split ("Big Bug bb@bug.com") gives the addresses in it."""
    found = []
    for value in values:
        text = charsets.decode_raw_8bit(value, hint=hint)
        pairs = []
        for name, address in getaddresses([text]):
            name = clean_line(charsets.decode_header(name, hint=hint)).strip("\"' ")
            address = clean_line(charsets.decode_header(address)).strip("<>")
            if _ADDRESS.fullmatch(address):
                address = address.lower()
            else:
                name, address = name or address, ""
            if name or address:
                pairs.append((name, address))
        if not any(address for _, address in pairs) and (loose := _ADDRESS.findall(text)):
            lead = clean_line(charsets.decode_header(text[: text.find(loose[0])], hint=hint)).strip("\"'<( ")
            pairs = [(lead if number == 0 else "", address.lower()) for number, address in enumerate(loose)]
        found += pairs
    return found


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(charsets.decode_header(value))
        # No zone ("-0000" or none at all) is read as UTC.
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


_PRECEDENCE_FLAGS = {"bulk": Flag.PRECEDENCE_BULK, "junk": Flag.PRECEDENCE_BULK, "list": Flag.PRECEDENCE_LIST}
_PRECEDENCE_FLAGS["auto_reply"] = Flag.PRECEDENCE_AUTO_REPLY
_PRESENT_FLAGS = {"list-id": Flag.LIST_ID, "list-unsubscribe": Flag.LIST_UNSUBSCRIBE}
_UNLESS_NO_FLAGS = {"x-autoreply": Flag.X_AUTOREPLY, "x-autorespond": Flag.X_AUTORESPOND}
_NO = ("no", "false", "0")
_REPORT_FLAGS = {"delivery-status": Flag.DELIVERY_REPORT, "disposition-notification": Flag.DISPOSITION_REPORT}


def _flags(first: dict[str, str], message: Message) -> tuple[Flag, ...]:
    """The automation facts of the headers (`first`: name -> first decoded value)."""
    flags: list[Flag] = []
    auto_submitted = first.get("auto-submitted", "").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        flags.append(Flag.AUTO_SUBMITTED)
    precedence = first.get("precedence", "").strip().lower().replace("-", "_")
    if precedence in _PRECEDENCE_FLAGS:
        flags.append(_PRECEDENCE_FLAGS[precedence])
    flags += [flag for name, flag in _UNLESS_NO_FLAGS.items() if first.get(name, "no").strip().lower() not in _NO]
    flags += [flag for name, flag in _PRESENT_FLAGS.items() if name in first]
    if "return-path" in first and first["return-path"].replace(" ", "") in ("<>", ""):
        flags.append(Flag.NULL_RETURN_PATH)
    spam = (first.get("x-spam-flag", ""), first.get("x-spam-status", ""), first.get("x-spam", ""))
    if any(value.strip().lower().startswith("yes") for value in spam):
        flags.append(Flag.SPAM)
    if message.get_content_type() == "multipart/report":
        report_type = _params(_raw_header(message, "content-type") or "")[1].get("report-type", "").lower()
        if report_type in _REPORT_FLAGS:
            flags.append(_REPORT_FLAGS[report_type])
    return tuple(flags)


def _raw_header(part: Message, name: str) -> str | None:
    """A header as the parser stored it (8-bit bytes as surrogates): compat32's own `get`
    wraps such a value in a Header that has lost the bytes."""
    return next((value for key, value in part.raw_items() if key.lower() == name), None)


def _params(value: str) -> tuple[str, dict[str, str]]:
    """A Content-Type or Content-Disposition value: its main value and raw parameters."""
    pieces: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for ch in value:
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == ";" and not quoted:
            pieces.append("".join(current))
            current = []
            continue
        current.append(ch)
    pieces.append("".join(current))
    params: dict[str, str] = {}
    for piece in pieces[1:]:
        name, _, param = piece.partition("=")
        param = param.strip()
        if param.startswith('"'):
            param = re.sub(r"\\(.)", r"\1", param[1:-1] if param.endswith('"') and len(param) > 1 else param[1:])
        params.setdefault(name.strip().lower(), param)
    return pieces[0].strip().lower(), params


def _param(params: dict[str, str], key: str, *, hint: str | None) -> str | None:
    """A parameter decoded: RFC 2231 (`name*=gb2312''%D5%C5`, continuations `name*0*=`),
    else RFC 2047 words or raw 8-bit bytes in a plain value (what most mailers send)."""
    sections: dict[int, tuple[str, bool]] = {}
    for name, value in params.items():
        if name == f"{key}*":
            sections[0] = (value, True)
        elif (match := re.fullmatch(rf"{re.escape(key)}\*(\d+)(\*?)", name)) and len(match[1]) < 4:
            sections[int(match[1])] = (value, bool(match[2]))
    if not sections:
        return charsets.decode_header(params[key], hint=hint) if key in params else None
    ordered = [sections[number] for number in sorted(sections)]
    charset = None
    if ordered[0][1] and ordered[0][0].count("'") >= 2:
        charset, _language, first_value = ordered[0][0].split("'", 2)
        ordered[0] = (first_value, True)
    data = b"".join(
        unquote_to_bytes(charsets.header_bytes(value)) if encoded else charsets.header_bytes(value)
        for value, encoded in ordered
    )
    return clean_line(charsets.decode(data, charset or None, hint=hint))


# --- the body ---------------------------------------------------------------------------------


@dataclass
class _Body:
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    charsets: list[str] = field(default_factory=list)  # of the text parts, as decoded
    defects: list[str] = field(default_factory=list)
    parts: int = 0

    def text(self) -> tuple[str, str | None]:
        """The body text (plain parts, else the HTML's text) and the sanitised HTML."""
        html = html_text.sanitize("\n".join(self.html)) if self.html else None
        plain = html_text.tidy("\n\n".join(part for part in self.plain if part.strip()))
        if not plain.strip() and html:
            plain = html_text.to_text(html, sanitized=True)
        return plain, html


_UUENCODINGS = {"x-uuencode", "uuencode", "uue", "x-uue"}
_UU_BEGIN = re.compile(rb"begin [0-7]{3,4} (.+)")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_REPORT_PARTS = {"message/delivery-status", "message/disposition-notification", "text/rfc822-headers"}


def _collect(part: Message, body: _Body, *, depth: int) -> None:
    if depth > MAX_DEPTH or body.parts >= MAX_PARTS:
        body.defects.append(f"MIME tree deeper than {MAX_DEPTH} or wider than {MAX_PARTS} parts: the rest is skipped")
        return
    body.parts += 1
    content_type = part.get_content_type()
    if depth:  # the top's defects are reported with the headers
        body.defects += [f"{type(defect).__name__} in a {content_type} part" for defect in part.defects]
    disposition, disposition_params = _params(_raw_header(part, "content-disposition") or "")
    _, type_params = _params(_raw_header(part, "content-type") or "")
    hint = body.charsets[0] if body.charsets else None
    filename = _param(disposition_params, "filename", hint=hint) or _param(type_params, "name", hint=hint)
    if part.get_content_maintype() == "message" or content_type in _REPORT_PARTS:
        # An attached mail or a report: kept whole, never read as this mail's body.
        body.attachments.append(_attachment(part, content_type, filename, _message_bytes(part, body)))
        return
    if part.is_multipart():
        for child in part.get_payload():
            if isinstance(child, Message):
                _collect(child, body, depth=depth + 1)
        return
    data = _transfer_decode(part, body)
    is_text = content_type in ("text/plain", "text/html") or part.get_content_maintype() == "multipart"
    if not is_text or disposition == "attachment" or filename:
        body.attachments.append(_attachment(part, content_type, filename, data))
        return
    if content_type != "text/html":
        data, files = _split_uuencoded(data)  # Outlook Express put files in the text this way
        for raw_name, content in files:
            name = clean_line(charsets.decode(raw_name, hint=hint))
            uu_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            body.attachments.append(Attachment(_basename(name), uu_type, content))
    label = type_params.get("charset")
    if content_type == "text/html" and (meta := _META_CHARSET.search(data[:4096])):
        # The page's own <meta> charset: the label when the part has none, else the fallback.
        label, hint = (label, meta[1].decode("ascii")) if label else (meta[1].decode("ascii"), hint)
    decoded = charsets.decode_bytes(data, label, hint=hint)
    if decoded.lossy:
        body.defects.append(f"{content_type} part: bytes invalid in {decoded.charset} replaced by U+FFFD")
    body.charsets.append(decoded.charset)
    text = clean(decoded.text.replace("\r\n", "\n").replace("\r", "\n"))
    if content_type == "text/html":
        body.html.append(text)
    elif type_params.get("format", "").lower() == "flowed":
        body.plain.append(_unflow(text, delsp=type_params.get("delsp", "").lower() == "yes"))
    else:
        body.plain.append(text)


def _attachment(part: Message, content_type: str, filename: str | None, data: bytes) -> Attachment:
    disposition = _params(_raw_header(part, "content-disposition") or "")[0]
    content_id = next(iter(_message_ids(_raw_header(part, "content-id"))), None)
    if content_id is None and (raw_id := _raw_header(part, "content-id")):
        content_id = clean_line(raw_id).strip("<>") or None
    inline = disposition == "inline" or (not disposition and content_id is not None)
    return Attachment(_basename(filename), content_type, data, content_id=content_id, inline=inline)


def _basename(filename: str | None) -> str | None:
    if not filename:
        return None
    name = clean_line(re.split(r"[/\\]", filename)[-1]).strip(". ")
    return name[:255] or None


def _message_bytes(part: Message, body: _Body) -> bytes:
    """An attached mail (or report) as bytes. The parser reads it as a message even when it is
    base64-encoded, which some mailers do: then the "message" is the encoded text."""
    if not part.is_multipart():
        return _transfer_decode(part, body)
    inner = [child for child in part.get_payload() if isinstance(child, Message)]
    try:
        data = b"\n".join(child.as_bytes(policy=policy.compat32) for child in inner)
    except Exception:  # noqa: BLE001 - the generator refuses some broken parts; keep what parsed
        body.defects.append(f"{part.get_content_type()} part could not be kept byte for byte")
        data = b"\n".join(charsets.header_bytes(str(child)) for child in inner)
    return _undo_transfer_encoding(data, _transfer_encoding(part), body)


def _transfer_encoding(part: Message) -> str:
    return re.split(r"[\s;]+", (_raw_header(part, "content-transfer-encoding") or "").strip().lower())[0]


def _transfer_decode(part: Message, body: _Body) -> bytes:
    return _undo_transfer_encoding(_raw_payload(part), _transfer_encoding(part), body)


def _undo_transfer_encoding(raw: bytes, encoding: str, body: _Body) -> bytes:
    """Content-Transfer-Encoding undone leniently (`base64 ` with a space, lines of junk in
    base64, uuencode); 7bit, 8bit, binary and unknown encodings leave the bytes as they are."""
    if encoding == "base64":
        return charsets.lenient_b64decode(raw)
    if encoding == "quoted-printable":
        return quopri.decodestring(raw)
    if encoding in _UUENCODINGS:
        _, files = _split_uuencoded(raw)
        if files:
            return b"".join(content for _, content in files)
        if raw.strip():
            body.defects.append("uuencoded part without a begin line: kept as it came")
    return raw


def _raw_payload(part: Message) -> bytes:
    """The body bytes as they came. `get_payload()` would decode an 8-bit body with the declared
    charset and "replace", the very U+FFFD we avoid; the parser keeps the bytes in `_payload`
    (8-bit ones as surrogates)."""
    payload = vars(part).get("_payload")
    if isinstance(payload, bytes):
        return payload
    return charsets.header_bytes(payload) if isinstance(payload, str) else b""


def _split_uuencoded(data: bytes) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """The bytes without their uuencoded blocks ("begin 644 name" … "end"), and the files in
    them as (name, content). One pass over the lines: a begin without an end is just text."""
    kept: list[bytes] = []
    files: list[tuple[bytes, bytes]] = []
    block: list[bytes] | None = None
    name = b""
    for line in data.splitlines(keepends=True):
        stripped = line.rstrip(b"\r\n")
        if block is None:
            if match := _UU_BEGIN.fullmatch(stripped):
                block, name = [line], match[1].strip()
            else:
                kept.append(line)
        elif stripped.rstrip() == b"end":
            files.append((name, _uu_lines(block[1:])))
            block = None
        else:
            block.append(line)
    if block is not None:
        kept += block
    return b"".join(kept), files


def _uu_lines(lines: list[bytes]) -> bytes:
    out = bytearray()
    for line in lines:
        line = line.rstrip(b"\r\n")
        if not line.strip() or line.strip() == b"`":
            continue
        try:
            out += binascii.a2b_uu(line)
        except binascii.Error:
            # Trailing garbage some encoders add: decode only the length the line announces.
            length = (((line[0] - 32) & 63) * 4 + 5) // 3
            try:
                out += binascii.a2b_uu(line[:length])
            except binascii.Error:
                continue
    return bytes(out)


def _unflow(text: str, *, delsp: bool) -> str:
    """format=flowed (RFC 3676): a line ending in a space continues on the next line."""
    lines: list[str] = []
    pending: tuple[int, str] | None = None
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        content = content[1:] if content.startswith(" ") else content  # space-stuffing
        flowed = content.endswith(" ") and content != "-- "
        if delsp and flowed:
            content = content[:-1]
        if pending is not None and pending[0] == depth:
            pending = (depth, pending[1] + content)
        else:
            if pending is not None:
                lines.append(_quoted(*pending))
            pending = (depth, content)
        if not flowed:
            lines.append(_quoted(*pending))
            pending = None
    if pending is not None:
        lines.append(_quoted(*pending))
    return "\n".join(lines)


def _quoted(depth: int, content: str) -> str:
    return f"{'>' * depth} {content}" if depth else content


# --- quoted history ---------------------------------------------------------------------------

_SIGNATURE = re.compile(r"^--[ \u00a0]?$")
_SEPARATOR = re.compile(
    r"^[\s>]*[-_=]{2,}[\s\u00a0]*(original message|forwarded message|原始邮件|原始郵件|邮件原件|郵件原件|"
    r"转发邮件|轉寄郵件|回复的原邮件)[\s\u00a0]*[-_=]{2,}\s*$",
    re.IGNORECASE,
)
_REPLY_INTRO = re.compile(
    r"^\s*(在.{1,200}(写道|寫道)\s*[:：]?|On\b.{1,300}\bwrote\s*:|Am\b.{1,300}\bschrieb.{0,100}:|"
    r"Le\b.{1,300}a écrit\s*:)\s*$",
    re.IGNORECASE,
)
_FROM_LINE = re.compile(r"^[\s>*]*(from|发件人|發件人|寄件者|寄件人)[\s*]*[:：]", re.IGNORECASE)
_HEADER_LINE = re.compile(
    r"^[\s>*]*(sent|date|to|cc|subject|发送时间|發送時間|时间|日期|收件人|收件者|抄送|副本|主题|主題|主旨|寄件日期)[\s*]*[:：]",
    re.IGNORECASE,
)
_MOBILE_SIGNATURE = re.compile(
    r"^\s*(sent from my \w+.*|get outlook for \w+.*|发自我的\s*\w+.*|从我的\s*\w+\s*发送|来自\s*\w+\s*客户端.*|"
    r"获取\s*outlook\s*for\s*\w+.*)$",
    re.IGNORECASE,
)


def trim_quoted(text: str) -> str:
    """What the sender wrote now: `text` up to the first signature ("-- "), reply intro ("On …
    wrote:", "在 … 写道："), "-----Original Message-----" or From:/发件人: header block, without
    ">" lines and a trailing "Sent from my iPhone". The whole text when nothing would be left."""
    lines = text.split("\n")
    end = next((number for number in range(len(lines)) if _history_starts(lines, number)), len(lines))
    kept = [line for line in lines[:end] if not line.lstrip().startswith(">")]
    while kept and (not kept[-1].strip() or _MOBILE_SIGNATURE.match(kept[-1]) or set(kept[-1].strip()) <= set("_-=")):
        kept.pop()
    trimmed = "\n".join(kept).strip("\n")
    return trimmed if trimmed.strip() else text


def _history_starts(lines: list[str], number: int) -> bool:
    line = lines[number]
    if _SIGNATURE.match(line) or _SEPARATOR.match(line):
        return True
    # Mail clients wrap a long reply intro over two or three lines.
    for length in (1, 2, 3):
        if _REPLY_INTRO.match(" ".join(lines[number : number + length])):
            return True
    if _FROM_LINE.match(line):
        return any(_HEADER_LINE.match(following) for following in lines[number + 1 : number + 5])
    return False


# --- the digest -------------------------------------------------------------------------------

# Added on the way or by the mailbox: the same mail delivered twice, or read once over IMAP and
# once from an mbox export, differs only in these.
_TRACE_HEADERS = {b"received", b"return-path", b"delivered-to", b"x-original-to", b"envelope-to", b"x-envelope-to"}
_TRACE_HEADERS |= {b"x-envelope-from", b"x-received", b"received-spf", b"authentication-results", b"arc-seal"}
_TRACE_HEADERS |= {b"arc-message-signature", b"arc-authentication-results", b"x-spam-flag", b"x-spam-status"}
_TRACE_HEADERS |= {b"x-spam-score", b"x-spam-level", b"x-spam-checker-version", b"x-virus-scanned", b"status"}
_TRACE_HEADERS |= {b"x-status", b"x-keywords", b"x-uid", b"content-length", b"lines", b"x-mozilla-status"}
_TRACE_HEADERS |= {b"x-mozilla-status2", b"x-gmail-labels", b"x-gm-thrid"}


def content_digest(raw: bytes) -> str:
    """sha256 (hex) of the mail with LF line ends, without an mbox "From " line, the trace and
    mailbox headers (_TRACE_HEADERS) and trailing blank lines: one mail, one digest."""
    text = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if text.startswith(b"From "):
        text = text.partition(b"\n")[2]
    head, _, rest = text.partition(b"\n\n")
    fields: list[list[bytes]] = []  # each header's lines, continuation lines with it
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1].append(line)
        else:
            fields.append([line])
    kept = (lines for lines in fields if lines[0].partition(b":")[0].strip().lower() not in _TRACE_HEADERS)
    return hashlib.sha256(b"\n".join(b"\n".join(lines) for lines in kept) + b"\n\n" + rest.rstrip()).hexdigest()
