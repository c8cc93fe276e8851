"""Attachment files: stored under the data directory, typed by their content, served safely.

The declared content type and the file name are never trusted: the type comes from the bytes
(`filetype` reads magic numbers), only an allow-list is accepted, and files are stored under a
random id, so a name like `../../etc/passwd` or `x.html` is just a label.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

import filetype
from sqlalchemy import select
from sqlalchemy.orm import Session

from huiying.errors import InvalidInput, NotFound, PayloadTooLarge, UnsupportedMedia
from huiying.kit.files import ServedFile, write_atomically
from huiying.tickets.models import Attachment

CHUNK = 64 * 1024

# Sniffed type -> whether a browser may show it inline. Nothing here can run script.
ALLOWED_TYPES: dict[str, bool] = {
    "image/png": True,
    "image/jpeg": True,
    "image/gif": True,
    "image/webp": True,
    "image/heic": False,
    "video/mp4": True,
    "video/quicktime": False,
    "video/webm": True,
    "audio/mpeg": True,
    "audio/mp4": True,
    "audio/x-wav": True,
    "audio/amr": False,
    "application/pdf": False,
    "application/zip": False,
    "text/plain": False,
}


def safe_filename(name: str | None) -> str:
    """A display name: no directories, no control characters, at most 200 characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if ch.isprintable())
    base = base.strip().lstrip(".") or "file"
    return base[-200:]


def sniff(head: bytes) -> str | None:
    """The content type of a file from its first bytes, or None if not on the allow-list."""
    kind = filetype.guess(head)
    if kind is not None:
        mime = "audio/mp4" if kind.mime == "audio/x-m4a" else kind.mime
        return mime if mime in ALLOWED_TYPES else None
    if not head:
        return None
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sniffed window is still text.
        if exc.start < len(head) - 3:
            return None
    return "text/plain"


def _storage_path(root: Path, storage_key: str) -> Path:
    return root / storage_key[:2] / storage_key


def store_upload(
    session: Session,
    *,
    source: BinaryIO,
    filename: str | None,
    root: Path,
    max_bytes: int,
    uploaded_by_id: int | None,
) -> Attachment:
    """Copy `source` into the store, refusing oversized or disallowed files; add its row."""
    root.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    head = b""
    fd, tmp_name = tempfile.mkstemp(dir=root, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLarge(
                        f"the file is larger than the limit of {max_bytes} bytes",
                        details={"limit": max_bytes},
                    )
                if len(head) < 8192:
                    head += chunk[: 8192 - len(head)]
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise InvalidInput("the file is empty", code="empty_file")
        content_type = sniff(head)
        if content_type is None:
            raise UnsupportedMedia(
                "this kind of file is not accepted",
                details={"allowed": sorted(ALLOWED_TYPES)},
            )
        attachment_id = uuid.uuid4().hex
        final = _storage_path(root, attachment_id)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp_name, final)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    attachment = Attachment(
        id=attachment_id,
        filename=safe_filename(filename),
        content_type=content_type,
        size=size,
        sha256=digest.hexdigest(),
        storage_key=attachment_id,
        uploaded_by_id=uploaded_by_id,
    )
    session.add(attachment)
    session.flush()
    return attachment


def store_bytes(session: Session, *, data: bytes, filename: str | None, root: Path, content_type: str) -> Attachment:
    """Bytes already in hand (a mail's part) into the store with their row; the caller has typed
    them and applied its limits. Unclaimed, like an upload: a ticket or message claims it."""
    attachment_id = uuid.uuid4().hex
    final = _storage_path(root, attachment_id)
    final.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(final, data, prefix=".store-")
    attachment = Attachment(
        id=attachment_id,
        filename=safe_filename(filename),
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        storage_key=attachment_id,
        uploaded_by_id=None,
    )
    session.add(attachment)
    return attachment


def store_uploads(
    session: Session,
    *,
    files: Iterable[tuple[str | None, BinaryIO]],
    root: Path,
    max_bytes: int,
    uploaded_by_id: int | None,
) -> list[str]:
    """Store several (filename, stream) uploads of one form; returns their ids (empty files
    without a name, as browsers send for an untouched file field, are skipped)."""
    return [
        store_upload(
            session, source=source, filename=name, root=root, max_bytes=max_bytes, uploaded_by_id=uploaded_by_id
        ).id
        for name, source in files
        if name
    ]


def claim(session: Session, *, ids: list[str], ticket_id: int, message_id: int | None, limit: int) -> list[Attachment]:
    """Attach uploaded, not yet claimed files to a ticket (and message)."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    if len(wanted) > limit:
        raise InvalidInput(f"at most {limit} attachments per ticket", code="too_many_attachments")
    rows = {a.id: a for a in session.scalars(select(Attachment).where(Attachment.id.in_(wanted)))}
    unusable = [i for i in wanted if i not in rows or rows[i].ticket_id is not None]
    if unusable:
        raise InvalidInput(
            "unknown or already used attachment ids; upload with POST /api/v1/attachments first",
            code="unknown_attachment",
            details={"ids": unusable},
        )
    for attachment in rows.values():
        attachment.ticket_id = ticket_id
        attachment.message_id = message_id
    return [rows[i] for i in wanted]


def served(attachment: Attachment, *, root: Path) -> ServedFile:
    """How to send a stored file: its type if harmless, otherwise a download."""
    path = _storage_path(root, attachment.storage_key)
    if not path.is_file():
        raise NotFound("the file of this attachment is missing", code="attachment_missing")
    inline = ALLOWED_TYPES.get(attachment.content_type, False)
    media_type = attachment.content_type if attachment.content_type in ALLOWED_TYPES else ("application/octet-stream")
    if media_type == "text/plain":
        media_type = "text/plain; charset=utf-8"
    return ServedFile(path=path, media_type=media_type, inline=inline, filename=attachment.filename)
