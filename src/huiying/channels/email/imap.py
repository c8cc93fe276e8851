"""Mailboxes polled over IMAP into tickets: the `mail_poll` periodic job, `huiying mail poll`,
and the IDLE watchers that poll as soon as the server reports new mail.

A poll lists the folder's mails not marked yet (imap_client.Folder) and takes them oldest first,
BATCH_SIZE at a time: fetch them (BODY.PEEK[]: not marked by reading), take them in
(`service.import_many`: one commit for the batch, a savepoint per mail), and only after that
commit mark each on the server. So a crash between the commit and the marks loses nothing and
imports nothing twice: the next poll fetches those mails again, `import_mail` calls them
duplicates, and then they are marked. A mail that cannot be read is
quarantined by `import_mail` and marked like any other; one whose import fails (an error, not
the mail) stays unmarked and is tried again at the next poll, and after
retries.FAILURES_TO_QUARANTINE failures in a row it is quarantined with the error as its reason
and marked — never lost, never tried forever. One mail's trouble never stops the poll; a broken connection stops that
mailbox's poll, is logged, and the next poll (the job's schedule) tries again.

The mailboxes: HUIYING_IMAP_URL (CONTRACT.md), `mailboxes(settings)`, and the enabled ones admins
configured (channels/email/accounts.py). `configured_mailboxes(db, settings)` is the one list the
job, the command and the watchers poll; after each admin-configured mailbox's poll its last poll
and error are recorded on it, and one mailbox's failure never stops the others.
"""

from __future__ import annotations

import imaplib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from huiying.channels.email import accounts
from huiying.channels.email.imap_client import (
    CONNECTION_ERRORS,
    Folder,
    ImapError,
    Mailbox,
    open_folder,
    parse_imap_url,
)
from huiying.channels.email.importer import Found
from huiying.channels.email.retries import FailedImports
from huiying.channels.email.service import BATCH_SIZE, ImportOutcome, Tally, import_many
from huiying.config import Settings
from huiying.db import Database

log = logging.getLogger(__name__)

JOB = "mail_poll"
EVERY = timedelta(seconds=60)
# The job runs inside a scheduler tick: a big backlog is taken in slices, the next one a minute
# after this one started, so the other periodic jobs keep their rhythm.
JOB_SECONDS = 45.0
# Re-issue IDLE well inside RFC 2177's 29 minutes (and most NAT timeouts).
IDLE_SECONDS = 240.0
RETRY_SECONDS = 5.0
MAX_RETRY_SECONDS = 300.0
REFRESH_SECONDS = 60.0  # how soon a mailbox an admin added gets its IDLE watcher

WATCH_ERRORS: tuple[type[BaseException], ...] = (ImapError, *CONNECTION_ERRORS)

OnMail = Callable[[str, ImportOutcome], None]

_settings: Settings | None = None
# Failed imports by the mail's source (mailbox, UIDVALIDITY, UID), in this process.
failures = FailedImports()


@dataclass
class PollResult:
    tally: Tally = field(default_factory=Tally)
    errors: list[str] = field(default_factory=list)  # one per mailbox that could not be polled


def configure(settings: Settings) -> None:
    """The settings the job and the watchers read (wiring.configure)."""
    global _settings
    _settings = settings


@dataclass(frozen=True)
class Configured:
    """A mailbox to poll and where it was configured: HUIYING_IMAP_URL, or an admin's account."""

    mailbox: Mailbox
    account_id: int | None = None  # mail_accounts.id
    name: str | None = None  # the account's name, for errors


def mailboxes(settings: Settings) -> list[Mailbox]:
    """HUIYING_IMAP_URL's mailbox, if set; ValueError (without the password) for a URL that is wrong."""
    return [parse_imap_url(settings.imap_url)] if settings.imap_url else []


def account_mailboxes(db: Database) -> list[Configured]:
    """The enabled mailboxes admins configured."""
    with db.read() as session:
        return [
            Configured(accounts.to_mailbox(account), account_id=account.id, name=account.name)
            for account in accounts.enabled_accounts(session)
        ]


def configured_mailboxes(db: Database, settings: Settings) -> list[Configured]:
    """Every mailbox to poll: HUIYING_IMAP_URL's, then the admins'; ValueError for a wrong URL."""
    return [Configured(mailbox) for mailbox in mailboxes(settings)] + account_mailboxes(db)


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
        error = _poll_one(db, mailbox, settings=settings, result=result, on_mail=on_mail, deadline=deadline)
        if error is not None:
            result.errors.append(error)
    return result


def poll_configured(
    db: Database,
    boxes: list[Configured],
    *,
    settings: Settings,
    on_mail: OnMail | None = None,
    deadline: float | None = None,
) -> PollResult:
    """Poll each mailbox once and record each account's poll (when, and its error or none).
    With a `deadline`, each mailbox gets an equal share of the time left, so one big backlog does
    not starve the mailboxes after it."""
    result = PollResult()
    for index, box in enumerate(boxes):
        share = None
        if deadline is not None:
            share = time.monotonic() + max(deadline - time.monotonic(), 0.0) / (len(boxes) - index)
        error = _poll_one(db, box.mailbox, settings=settings, result=result, on_mail=on_mail, deadline=share)
        if error is not None:
            error = accounts.scrubbed(error, box.mailbox)
            result.errors.append(f"{box.name}: {error}" if box.name else error)
        if box.account_id is not None:
            _record(db, box.account_id, error)
    return result


def _poll_one(
    db: Database,
    mailbox: Mailbox,
    *,
    settings: Settings,
    result: PollResult,
    on_mail: OnMail | None,
    deadline: float | None,
) -> str | None:
    """One mailbox into `result.tally`; the error (without the password) when it could not be polled."""
    try:
        with open_folder(mailbox) as folder:
            poll_folder(db, folder, settings=settings, tally=result.tally, on_mail=on_mail, deadline=deadline)
    except ImapError as exc:
        log.warning("polling %s failed: %s", mailbox.display, exc)
        return str(exc)
    return None


def _record(db: Database, account_id: int, error: str | None) -> None:
    try:
        with db.write() as session:
            accounts.record_poll(session, account_id, error)
    except Exception:  # the mail is in; a status line lost is no reason to fail the other mailboxes
        log.exception("recording the poll of mail account %s failed", account_id)


def poll_folder(
    db: Database,
    folder: Folder,
    *,
    settings: Settings,
    tally: Tally,
    on_mail: OnMail | None = None,
    deadline: float | None = None,
) -> None:
    """Take in every unmarked mail of an open folder, BATCH_SIZE mails to a commit (as `mail
    import` does), each marked only after its batch is committed; ImapError when the connection
    breaks."""
    try:
        uids = folder.unmarked()
        for start in range(0, len(uids), BATCH_SIZE):
            if deadline is not None and time.monotonic() > deadline:
                return
            for source, outcome in _take_batch(db, folder, uids[start : start + BATCH_SIZE], settings):
                tally.add(outcome)
                if on_mail is not None:
                    on_mail(source, outcome)
    except imaplib.IMAP4.abort as exc:
        raise ImapError(f"{folder.mailbox.display}: the connection broke: {exc}"[:500]) from None
    except CONNECTION_ERRORS as exc:
        raise ImapError(f"{folder.mailbox.display}: {type(exc).__name__}: {exc}"[:500]) from None
    finally:
        folder.forget_responses()


def _take_batch(db: Database, folder: Folder, uids: list[str], settings: Settings) -> list[tuple[str, ImportOutcome]]:
    """Fetch the mails, take them in (one commit), then mark the ones stored. A mail whose
    import failed stays unmarked, tried again at the next poll, until `failures` quarantines it."""
    outcomes: list[tuple[str, ImportOutcome]] = []
    raws = _fetch(folder, uids, outcomes)
    found = [Found(folder.mailbox.source(folder.uid_validity, uid), raw) for uid, raw in raws.items()]
    uid_of = {item.source: uid for item, uid in zip(found, raws, strict=True)}
    stored: list[str] = []
    for item, outcome in import_many(db, found, settings=settings, batch_size=len(found) or 1):
        if outcome.result == "failed":
            source = item.source
            outcome = failures.failed(db, item.raw, key=source, source=source, outcome=outcome, settings=settings)
            if outcome.result == "failed":
                outcomes.append((item.source, outcome))  # unmarked: tried again at the next poll
                continue
        else:
            failures.succeeded(item.source)  # it may have failed before, and went in now
        stored.append(item.source)
        outcomes.append((item.source, outcome))
    _mark(folder, [uid_of[source] for source in stored])
    return outcomes


def _fetch(folder: Folder, uids: list[str], outcomes: list[tuple[str, ImportOutcome]]) -> dict[str, bytes]:
    """The mails' bytes by UID, in one command; when the server refuses it, one by one, so a
    mail it refuses costs only itself (a `failed` outcome). A mail gone meanwhile is left out."""
    try:
        return folder.fetch_many(uids)
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error as exc:
        log.warning("fetching %d mails of %s at once failed (%s): one by one", len(uids), folder.mailbox.display, exc)
    raws: dict[str, bytes] = {}
    for uid in uids:
        try:
            raw = folder.fetch(uid)
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error as exc:  # this mail only (the server refused it): the others go on
            source = folder.mailbox.source(folder.uid_validity, uid)
            log.warning("fetching %s failed: %s", source, exc)
            outcomes.append((source, ImportOutcome("failed", reason=f"fetch: {exc}"[:300])))
            continue
        if raw is not None:
            raws[uid] = raw
    return raws


def _mark(folder: Folder, uids: list[str]) -> None:
    """Mark the committed mails; a mark that fails only means a duplicate at the next poll."""
    if not uids:
        return
    try:
        folder.mark_many(uids)
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error as exc:
        # Committed but unmarked: the next poll fetches them again and finds duplicates.
        log.warning(
            "marking %d mails of %s failed (fetched again, duplicates): %s", len(uids), folder.mailbox.display, exc
        )


# --- the periodic job -----------------------------------------------------------------------------


def poll_job(db: Database) -> None:
    """Periodic: poll every configured mailbox; a mailbox that could not be polled fails the run
    (after the others were polled), so `huiying jobs list` shows why."""
    settings = _settings
    if settings is None:
        return
    started = time.monotonic()
    errors: list[str] = []
    try:
        boxes = configured_mailboxes(db, settings)
    except ValueError as exc:  # a wrong HUIYING_IMAP_URL: the admins' mailboxes are polled all the same
        errors.append(str(exc))
        boxes = account_mailboxes(db)
    result = poll_configured(db, boxes, settings=settings, deadline=started + JOB_SECONDS)
    errors += result.errors
    if errors:
        raise ImapError("; ".join(errors))


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
    wanted: Callable[[], bool] | None = None,
) -> None:
    """Until `stop` (or `wanted()` turns false): poll, wait in IDLE for new mail, poll again. A
    server without IDLE leaves it to the periodic job; a broken connection is logged and retried,
    waiting longer each time."""
    failures = 0
    while not stop.is_set() and (wanted is None or wanted()):
        try:
            with open_folder(mailbox) as folder:
                if not folder.can_idle:
                    log.info("%s has no IDLE: the %s job polls it every %s", mailbox.display, JOB, EVERY)
                    return
                while not stop.is_set():
                    poll_folder(db, folder, settings=settings, tally=Tally(), on_mail=on_mail)
                    failures = 0
                    folder.wait(seconds=idle_seconds, stop=stop)
                    if wanted is not None and not wanted():
                        log.info("%s was changed or disabled: no longer watched", mailbox.display)
                        return
        except WATCH_ERRORS as exc:
            failures += 1
            log.warning("watching %s failed (%d in a row): %s", mailbox.display, failures, exc)
            stop.wait(min(RETRY_SECONDS * 2 ** (failures - 1), MAX_RETRY_SECONDS))


def _still_current(db: Database, account_id: int, mailbox: Mailbox) -> Callable[[], bool]:
    """Whether an account is still enabled with these settings (a changed one gets a watcher of
    its own at the next refresh); a database that cannot answer now keeps the watcher going."""

    def check() -> bool:
        try:
            return any(box.mailbox == mailbox for box in account_mailboxes(db) if box.account_id == account_id)
        except Exception:  # the database is in trouble: the mailbox is not the one that changed
            log.exception("checking mail account %s failed", account_id)
            return True

    return check


class Watchers:
    """One IDLE thread per configured mailbox, for a long-running process (serve, worker). The
    admins' mailboxes are looked at again every `refresh_seconds`: one added or changed gets its
    watcher then; one disabled, changed or removed stops its own (`wanted`)."""

    def __init__(self, db: Database, settings: Settings, *, refresh_seconds: float = REFRESH_SECONDS) -> None:
        self._db = db
        self._settings = settings
        self._refresh_seconds = refresh_seconds
        self._stop = threading.Event()
        self._watching: dict[tuple[int | None, Mailbox], threading.Thread] = {}
        self._refresher: threading.Thread | None = None

    def start(self) -> int:
        """Start the watchers; returns how many (0: no mailbox, or a URL that is wrong — logged)."""
        try:
            for mailbox in mailboxes(self._settings):
                self._watch(Configured(mailbox))
        except ValueError as exc:
            log.error("not watching HUIYING_IMAP_URL: %s", exc)
        self._refresh()
        self._refresher = threading.Thread(target=self._keep_refreshing, name="huiying-imap-accounts", daemon=True)
        self._refresher.start()
        return len(self._watching)

    def _refresh(self) -> None:
        try:
            boxes = account_mailboxes(self._db)
        except Exception:  # no watcher for them now; the periodic job still polls them
            log.exception("not watching the admins' mailboxes")
            return
        current = {(box.account_id, box.mailbox) for box in boxes}
        for key in [key for key in self._watching if key[0] is not None and key not in current]:
            del self._watching[key]  # its thread ends by itself (`wanted`); enabled again, it starts anew
        for box in boxes:
            self._watch(box)

    def _keep_refreshing(self) -> None:
        while not self._stop.wait(self._refresh_seconds):
            self._refresh()

    def _watch(self, box: Configured) -> None:
        key = (box.account_id, box.mailbox)
        if key in self._watching:
            return
        kwargs: dict[str, Any] = {"settings": self._settings, "stop": self._stop}
        if box.account_id is not None:
            kwargs["wanted"] = _still_current(self._db, box.account_id, box.mailbox)
        thread = threading.Thread(
            target=watch,
            args=(self._db, box.mailbox),
            kwargs=kwargs,
            name=f"huiying-imap-{len(self._watching) + 1}",
            daemon=True,
        )
        thread.start()
        self._watching[key] = thread

    def alive(self) -> bool:
        return any(thread.is_alive() for thread in self._watching.values())

    def stop(self, *, timeout: float = 10.0) -> None:
        self._stop.set()
        threads = [*self._watching.values(), *([self._refresher] if self._refresher else [])]
        for thread in threads:
            thread.join(timeout=timeout)
        self._watching.clear()
        self._refresher = None
