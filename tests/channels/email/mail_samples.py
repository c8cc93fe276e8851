"""Raw mails for the import tests, built as bytes the way mailers send them."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

from huiying.channels.email.service import ImportOutcome, import_one
from huiying.config import Settings
from huiying.db import Database
from shared_data import shared_data_dir

SUPPORT = "support@help.example.com"


def new_id() -> str:
    return f"{uuid.uuid4().hex}@mail.example.net"


def mail(
    *,
    subject: str = "会员充值失败",
    body: str = "充值会员的时候提示支付失败，但是钱已经扣了。",
    sender: str = "li.lei@example.net",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    to: str = SUPPORT,
    headers: tuple[str, ...] = (),
    date: str = "Wed, 02 Dec 2026 10:00:00 +0800",
) -> bytes:
    """A UTF-8 plain-text mail (subject as RFC 2047, body base64)."""
    lines = [
        f"From: =?utf-8?b?{base64.b64encode('李雷'.encode()).decode()}?= <{sender}>",
        f"To: {to}",
        f"Subject: =?utf-8?b?{base64.b64encode(subject.encode()).decode()}?=" if subject else "Subject:",
        f"Date: {date}",
        f"Message-ID: <{message_id or new_id()}>",
        *([f"In-Reply-To: <{in_reply_to}>", f"References: <{in_reply_to}>"] if in_reply_to else []),
        *headers,
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: base64",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + base64.encodebytes(body.encode())


def with_attachment(*, filename: str, data: bytes, content_type: str = "application/pdf", **kwargs: str) -> bytes:
    """A multipart mail: the text, then one attachment."""
    sender = kwargs.get("sender", "li.lei@example.net")
    parts = (
        f"From: <{sender}>\r\nTo: {SUPPORT}\r\nSubject: {kwargs.get('subject', 'see attached')}\r\n"
        f"Message-ID: <{new_id()}>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nthe invoice is attached\r\n"
        f'--b1\r\nContent-Type: {content_type}\r\nContent-Disposition: attachment; filename="{filename}"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode()
    return parts + base64.encodebytes(data) + b"--b1--\r\n"


def take(db: Database, settings: Settings, raw: bytes, source: str = "test") -> ImportOutcome:
    outcome = import_one(db, raw, source=source, settings=settings)
    assert outcome.result != "failed", outcome
    return outcome


def corpus_files() -> list[Path]:
    """Every .eml of the shared corpus (../shared/data/emails), sorted; [] without it."""
    shared = shared_data_dir()
    folder = shared / "emails" if shared else None
    return sorted(folder.rglob("*.eml")) if folder and folder.is_dir() else []
