"""Mail whose import keeps failing: counted, and quarantined at the limit — never lost, never
tried forever. The IMAP poller and the SMTP receiver both take a mail in again after a failure
(the next poll, the sender's retry); an error that is not the mail's (the disk, the database)
passes, one that is would repeat without end, so after FAILURES_TO_QUARANTINE failures in a row
the mail goes to the quarantine with the error as its reason and the caller treats it as stored.
"""

from __future__ import annotations

import logging
import threading

from huiying.channels.email import quarantine_store
from huiying.channels.email.parse import parse_mail
from huiying.channels.email.service import ImportOutcome
from huiying.config import Settings
from huiying.db import Database

log = logging.getLogger(__name__)

FAILURES_TO_QUARANTINE = 3


class FailedImports:
    """Failures by a key that names one mail (its IMAP source, its digest), in this process."""

    def __init__(self, limit: int = FAILURES_TO_QUARANTINE) -> None:
        self.limit = limit
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def succeeded(self, key: str) -> None:
        if self._counts:
            with self._lock:
                self._counts.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()

    def failed(
        self, db: Database, raw: bytes, *, key: str, source: str, outcome: ImportOutcome, settings: Settings
    ) -> ImportOutcome:
        """Count the failure; at the limit, quarantine the mail (its outcome then says so). Still
        "failed" when under the limit, or when even the quarantine cannot be written."""
        with self._lock:
            count = self._counts.get(key, 0) + 1
            self._counts[key] = count
        if count < self.limit:
            return outcome
        reason = f"import failed {count} times: {outcome.reason}"
        try:
            with db.write() as session:
                entry = quarantine_store.put(
                    session, raw=raw, mail=parse_mail(raw), reason=reason, source=source, root=settings.quarantine_dir
                )
        except Exception:  # the database itself is in trouble: the mail stays where it is for later
            log.exception("quarantining %s failed", source)
            return outcome
        self.succeeded(key)
        if entry is None:
            return ImportOutcome("duplicate", reason="quarantined before")
        return ImportOutcome("quarantined", reason=reason[: quarantine_store.REASON_CHARS], quarantine_id=entry)
