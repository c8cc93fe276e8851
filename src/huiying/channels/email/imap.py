"""Mailboxes polled over IMAP into tickets: the `mail_poll` periodic job, `huiying mail poll`,
and the IDLE watchers that poll as soon as the server reports new mail.

A poll lists the folder's mails not marked yet (imap_client.Folder), and for each, oldest
first: fetch it (BODY.PEEK[]: not marked by reading), take it in (`service.import_one`: one
mail, one transaction), and only after that commit mark it on the server. So a crash between
the commit and the mark loses nothing and imports nothing twice: the next poll fetches the mail
again, `import_mail` calls it a duplicate, and then it is marked. A mail that cannot be read is
quarantined by `import_mail` and marked like any other; one whose import fails (an error, not
the mail) stays unmarked and is tried again at the next poll, and after FAILURES_TO_QUARANTINE
failures in a row it is quarantined with the error as its reason and marked — never lost, never
tried forever. One mail's trouble never stops the poll; a broken connection stops that
mailbox's poll, is logged, and the next poll (the job's schedule) tries again.

The mailboxes: HUIYING_IMAP_URL (CONTRACT.md). `mailboxes(settings)` is the one list the job,
the command and the watchers poll.
"""

from __future__ import annotations

import imaplib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from huiying.channels.email import quarantine_store
from huiying.channels.email.imap_client import (
    CONNECTION_ERRORS,
    Folder,
    ImapError,
    Mailbox,
    open_folder,
    parse_imap_url,
)
from huiying.channels.email.parse import parse_mail
from huiying.channels.email.service import ImportOutcome, Tally, import_one
from huiying.config import Settings
from huiying.db import Database

log = logging.getLogger(__name__)

JOB = "mail_poll"
EVERY = timedelta(seconds=60)
# The job runs inside a scheduler tick: a big backlog is taken in slices, the next one a minute
# after this one started, so the other periodic jobs keep their rhythm.
JOB_SECONDS = 45.0
FAILURES_TO_QUARANTINE = 3
# Re-issue IDLE well inside RFC 2177's 29 minutes (and most NAT timeouts).
IDLE_SECONDS = 240.0
RETRY_SECONDS = 5.0
MAX_RETRY_SECONDS = 300.0

WATCH_ERRORS: tuple[type[BaseException], ...] = (ImapError, *CONNECTION_ERRORS)

OnMail = Callable[[str, ImportOutcome], None]

_settings: Settings | None = None
# Failed imports by the mail's source (mailbox, UIDVALIDITY, UID), in this process.
_failures: dict[str, int] = {}
_failures_lock = threading.Lock()


@dataclass
class PollResult:
    tally: Tally = field(default_factory=Tally)
    errors: list[str] = field(default_factory=list)  # one per mailbox that could not be polled


def configure(settings: Settings) -> None:
    """The settings the job and the watchers read (wiring.configure)."""
    global _settings
    _settings = settings


def mailboxes(settings: Settings) -> list[Mailbox]:
    """Every mailbox to poll; ValueError (without the password) for a URL that is wrong."""
    return [parse_imap_url(settings.imap_url)] if settings.imap_url else []


def poll(
    db: Database,
    boxes: list[Mailbox],
    *,
    settings: Settings,
    on_mail: OnMail | None = None,
    deadline: float | None = None,
) -> PollResult:
    """Poll each mailbox once (until `deadline`, a time.monotonic() value, if given)."""
    result = PollResult()
    for mailbox in boxes:
        try:
            with open_folder(mailbox) as folder:
                poll_folder(db, folder, settings=settings, tally=result.tally, on_mail=on_mail, deadline=deadline)
        except ImapError as exc:
            log.warning("polling %s failed: %s", mailbox.display, exc)
            result.errors.append(str(exc))
    return result


def poll_folder(
    db: Database,
    folder: Folder,
    *,
    settings: Settings,
    tally: Tally,
    on_mail: OnMail | None = None,
    deadline: float | None = None,
) -> None:
    """Take in every unmarked mail of an open folder; ImapError when the connection breaks."""
    try:
        for uid in folder.unmarked():
            if deadline is not None and time.monotonic() > deadline:
                return
            source = folder.mailbox.source(folder.uid_validity, uid)
            outcome = _take(db, folder, uid, source, settings)
            if outcome is None:
                continue
            tally.add(outcome)
            if on_mail is not None:
                on_mail(source, outcome)
    except imaplib.IMAP4.abort as exc:
        raise ImapError(f"{folder.mailbox.display}: the connection broke: {exc}"[:500]) from None
    except CONNECTION_ERRORS as exc:
        raise ImapError(f"{folder.mailbox.display}: {type(exc).__name__}: {exc}"[:500]) from None
    finally:
        folder.forget_responses()


def _take(db: Database, folder: Folder, uid: str, source: str, settings: Settings) -> ImportOutcome | None:
    """One mail: fetch, take in, and mark after the commit; None when it vanished meanwhile."""
    try:
        raw = folder.fetch(uid)
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error as exc:  # this mail only (the server refused it): the next one goes on
        log.warning("fetching %s failed: %s", source, exc)
        return ImportOutcome("failed", reason=f"fetch: {exc}"[:300])
    if raw is None:
        return None
    outcome = import_one(db, raw, source=source, settings=settings)
    if outcome.result == "failed":
        outcome = _after_failure(db, raw, source, outcome, settings)
        if outcome.result == "failed":
            return outcome  # unmarked: tried again at the next poll
    elif _failures:
        with _failures_lock:
            _failures.pop(source, None)  # it failed before, and went in now
    _mark(folder, uid, source)
    return outcome


def _after_failure(db: Database, raw: bytes, source: str, failed: ImportOutcome, settings: Settings) -> ImportOutcome:
    """Count the failure; at the limit, quarantine the mail with the error as its reason."""
    with _failures_lock:
        count = _failures.get(source, 0) + 1
        _failures[source] = count
    if count < FAILURES_TO_QUARANTINE:
        return failed
    reason = f"import failed {count} times: {failed.reason}"
    try:
        with db.write() as session:
            entry = quarantine_store.put(
                session, raw=raw, mail=parse_mail(raw), reason=reason, source=source, root=settings.quarantine_dir
            )
    except Exception:  # the database itself is in trouble: keep the mail unmarked for later
        log.exception("quarantining %s failed", source)
        return failed
    with _failures_lock:
        _failures.pop(source, None)
    if entry is None:
        return ImportOutcome("duplicate", reason="quarantined before")
    return ImportOutcome("quarantined", reason=reason[: quarantine_store.REASON_CHARS], quarantine_id=entry)


def _mark(folder: Folder, uid: str, source: str) -> None:
    try:
        folder.mark(uid)
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error as exc:
        # Committed but unmarked: the next poll fetches it again and finds a duplicate.
        log.warning("marking %s failed (it will be fetched again, a duplicate): %s", source, exc)


# --- the periodic job -----------------------------------------------------------------------------


def poll_job(db: Database) -> None:
    """Periodic: poll every configured mailbox; a mailbox that could not be polled fails the run
    (after the others were polled), so `huiying jobs list` shows why."""
    settings = _settings
    if settings is None or not settings.imap_url:
        return
    result = poll(db, mailboxes(settings), settings=settings, deadline=time.monotonic() + JOB_SECONDS)
    if result.errors:
        raise ImapError("; ".join(result.errors))


def register_jobs() -> None:
    from huiying.jobs.registry import register_periodic

    register_periodic(JOB, poll_job, every=EVERY)


# --- IDLE -----------------------------------------------------------------------------------------


def watch(
    db: Database,
    mailbox: Mailbox,
    *,
    settings: Settings,
    stop: threading.Event,
    idle_seconds: float = IDLE_SECONDS,
    on_mail: OnMail | None = None,
) -> None:
    """Until `stop`: poll, wait in IDLE for new mail, poll again. A server without IDLE leaves it to
    the periodic job; a broken connection is logged and retried, waiting longer each time."""
    failures = 0
    while not stop.is_set():
        try:
            with open_folder(mailbox) as folder:
                if not folder.can_idle:
                    log.info("%s has no IDLE: the %s job polls it every %s", mailbox.display, JOB, EVERY)
                    return
                while not stop.is_set():
                    poll_folder(db, folder, settings=settings, tally=Tally(), on_mail=on_mail)
                    failures = 0
                    folder.wait(seconds=idle_seconds, stop=stop)
        except WATCH_ERRORS as exc:
            failures += 1
            log.warning("watching %s failed (%d in a row): %s", mailbox.display, failures, exc)
            stop.wait(min(RETRY_SECONDS * 2 ** (failures - 1), MAX_RETRY_SECONDS))


class Watchers:
    """One IDLE thread per configured mailbox, for a long-running process (serve, worker)."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self._db = db
        self._settings = settings
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> int:
        """Start the watchers; returns how many (0: no mailbox, or a URL that is wrong — logged)."""
        try:
            boxes = mailboxes(self._settings)
        except ValueError as exc:
            log.error("not watching mail: %s", exc)
            return 0
        for number, mailbox in enumerate(boxes, 1):
            kwargs = {"settings": self._settings, "stop": self._stop}
            thread = threading.Thread(
                target=watch, args=(self._db, mailbox), kwargs=kwargs, name=f"huiying-imap-{number}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return len(self._threads)

    def alive(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def stop(self, *, timeout: float = 10.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=timeout)
        self._threads.clear()
