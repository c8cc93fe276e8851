"""A mail's files as ticket attachments: the original mail itself, then its attachments and
inline images, within the attachment limits of the settings.

Unlike a public upload, a mail's file is not refused for its type: a mail carries winmail.dat,
Outlook .msg and office files that staff need. Its type still comes from its bytes (the
upload allow-list), never from the mail; anything else is stored as application/octet-stream,
which `tickets.attachments.served` only ever offers as a download. Files are stored where
uploads are (<attachments dir>/<id[:2]>/<id>), unclaimed: the ticket or message claims them.
A file over the size limit or past the count limit is listed (name, size, why) for the
timeline, not stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from huiying.channels.email.parse import Attachment as MailFile
from huiying.tickets.attachments import sniff, store_bytes

ORIGINAL_NAME = "original.eml"
OCTET_STREAM = "application/octet-stream"
# Names for the parts a mail gives none: the kept whole mail of a forward, a bounce's report.
_UNNAMED = {
    "message/rfc822": "attached-mail.eml",
    "message/global": "attached-mail.eml",
    "message/delivery-status": "delivery-status.txt",
    "message/disposition-notification": "disposition-notification.txt",
    "text/rfc822-headers": "returned-headers.txt",
}


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_files: int


@dataclass
class Stored:
    ids: list[str] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)  # {filename, size, reason}


def store_mail_files(session: Session, *, raw: bytes, parts: Sequence[MailFile], root: Path, limits: Limits) -> Stored:
    """Store the original mail and its `parts` (in that order) up to the limits; list the rest."""
    stored = Stored()
    wanted: list[tuple[str, bytes]] = [(ORIGINAL_NAME, raw)]
    wanted += [(_name(part, number), part.data) for number, part in enumerate(parts, 1) if part.data]
    for name, data in wanted:
        if len(data) > limits.max_bytes:
            stored.skipped.append({"filename": name, "size": len(data), "reason": "too_large"})
        elif len(stored.ids) >= limits.max_files:
            stored.skipped.append({"filename": name, "size": len(data), "reason": "too_many"})
        else:
            content_type = sniff(data[:8192]) or OCTET_STREAM
            attachment = store_bytes(session, data=data, filename=name, root=root, content_type=content_type)
            stored.ids.append(attachment.id)
    return stored


def _name(part: MailFile, number: int) -> str:
    return part.filename or _UNNAMED.get(part.content_type) or f"attachment-{number}"
