"""The quarantine's store: a mail that could not be taken in keeps its raw bytes, never lost.

The bytes go to <data dir>/quarantine/<digest>.eml (owner-only, like the rest of the data
directory), written whole and renamed before the row commits: a rollback leaves at most a file
that the same mail's next visit finds ready. One entry per mail digest, claimed with INSERT … ON
CONFLICT DO NOTHING like an intake key, so a mailbox read twice quarantines a mail once.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from huiying.channels.email.models import MailQuarantine
from huiying.channels.email.parse import ParsedMail
from huiying.errors import Conflict
from huiying.kit.clock import utcnow
from huiying.kit.files import write_atomically
from huiying.kit.masking import mask_contact
from huiying.kit.sql import dialect_insert
from huiying.kit.strings import clean_line
from huiying.privacy import crypto

REASON_CHARS = 300


def put(session: Session, *, raw: bytes, mail: ParsedMail, reason: str, source: str, root: Path) -> int | None:
    """Quarantine `raw` for `reason`; its entry's id, or None when this mail is there already."""
    key = f"{mail.digest}.eml"
    _write(root, key, raw)
    now = utcnow()
    statement = (
        dialect_insert(session, MailQuarantine)
        .values(
            digest=mail.digest,
            storage_key=key,
            size=len(raw),
            reason=clean_line(reason)[:REASON_CHARS] or "unreadable",
            source=source[:255],
            subject=clean_line(mail.subject)[:200] or None,
            sender_masked=mask_contact(mail.from_address[:254]) if mail.from_address else None,
            sender_digest=crypto.digest(mail.from_address) if mail.from_address else None,
            status="open",
            attempts=1,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=[MailQuarantine.digest])
        .returning(MailQuarantine.id)
    )
    entry_id: int | None = session.execute(statement).scalar_one_or_none()
    return entry_id


def _write(root: Path, key: str, raw: bytes) -> None:
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    final = root / key
    if final.is_file() and final.stat().st_size == len(raw):
        return
    write_atomically(final, raw, prefix=".quarantine-")  # created 0600


def raw_of(entry: MailQuarantine, *, root: Path) -> bytes:
    """The quarantined mail's bytes; Conflict when they are gone (dropped, or lost on disk)."""
    path = root / entry.storage_key
    if entry.status == "dropped" or not path.is_file():
        raise Conflict("the raw mail of this quarantine entry is not kept any more", code="quarantine_raw_missing")
    return path.read_bytes()
