"""An SMTP receiver (aiosmtpd) for platforms that pipe their mail in instead of keeping a mailbox:
`huiying mail receive`.

It is no relay: RCPT TO takes only local recipients — the domain of HUIYING_MAIL_FROM and those
of HUIYING_MAIL_RECEIVE_DOMAINS — and answers any other `550 5.1.1`. A mail over the size limit
is a `552 5.3.4`. Each mail, its raw bytes as they came, goes to `service.import_one` (one mail,
one transaction) in a worker thread, so a slow import never stops the other sessions; the
`250 2.0.0 queued as …` goes out only after that commit. A failed import answers
`451 4.3.0`: the sender keeps the mail and tries again, so nothing is lost. Only a mail whose
import failed retries.FAILURES_TO_QUARANTINE times in a row is quarantined with the error as its reason
(and answered 250), as the IMAP poller does: never lost, never bounced after days of retries.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, AnyStr

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from huiying.channels.email.compose import address_of
from huiying.channels.email.retries import FailedImports
from huiying.channels.email.service import ImportOutcome, import_one
from huiying.config import Settings
from huiying.db import Database

log = logging.getLogger(__name__)

OnMail = Callable[[str, ImportOutcome], None]

NOT_LOCAL = "550 5.1.1 not a local recipient"
TOO_BIG = "552 5.3.4 message too big"
TRY_LATER = "451 4.3.0 try again later"
# Imports at once; more sessions wait in the pool's queue (the database is the bottleneck).
IMPORT_THREADS = 4


def local_domains(settings: Settings) -> frozenset[str]:
    """The domains whose recipients are ours: HUIYING_MAIL_FROM's and HUIYING_MAIL_RECEIVE_DOMAINS."""
    return frozenset(d for d in (support_domain(settings), *settings.mail_receive_domains) if d)


def support_domain(settings: Settings) -> str:
    """HUIYING_MAIL_FROM's domain; the setting may carry a name (`回应客服 <support@example.com>`)."""
    return address_of(settings.mail_from)[1].rpartition("@")[2].strip().lower()


def size_limit(settings: Settings) -> int:
    """The largest mail taken: one carrying a file at the attachment limit, which base64 makes a
    third bigger, with room for its text and headers."""
    return settings.max_attachment_bytes * 3 // 2


def queued_as(outcome: ImportOutcome) -> str:
    """The 250 reply for a mail that is stored: where it went."""
    if outcome.result == "quarantined":
        return f"250 2.0.0 queued as quarantine-{outcome.quarantine_id}"
    if outcome.result == "duplicate":
        return f"250 2.0.0 queued as duplicate {outcome.number or ''}".rstrip()
    return f"250 2.0.0 queued as {outcome.number or outcome.kind}"


class MailHandler:
    """aiosmtpd's handler: the recipient check and the import (see the module docstring)."""

    def __init__(self, db: Database, settings: Settings, *, executor: ThreadPoolExecutor, on_mail: OnMail | None):
        self._db = db
        self._settings = settings
        self.domains = local_domains(settings)
        self._limit = size_limit(settings)
        self._executor = executor
        self._on_mail = on_mail
        self._failures = FailedImports()  # by the mail's sha256

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        domain = address.rpartition("@")[2].strip().lower()
        if "@" not in address or domain not in self.domains:
            return NOT_LOCAL
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if len(raw) > self._limit:
            return TOO_BIG
        source = f"smtp:{_peer_ip(session.peer)}"
        loop = asyncio.get_running_loop()
        try:
            outcome = await loop.run_in_executor(self._executor, self._take, raw, source)
        except Exception:  # whatever it was, the sender still has the mail and retries
            log.exception("taking mail from %s failed", source)
            return TRY_LATER
        if self._on_mail is not None:
            try:
                self._on_mail(source, outcome)
            except Exception:  # printing must never turn a stored mail into a retry
                log.exception("reporting mail from %s failed", source)
        return TRY_LATER if outcome.result == "failed" else queued_as(outcome)

    def _take(self, raw: bytes, source: str) -> ImportOutcome:
        """Runs in the pool: the import, committed before it returns."""
        key = hashlib.sha256(raw).hexdigest()
        outcome = import_one(self._db, raw, source=source, settings=self._settings)
        if outcome.result != "failed":
            self._failures.succeeded(key)
            return outcome
        return self._failures.failed(self._db, raw, key=key, source=source, outcome=outcome, settings=self._settings)


def _peer_ip(peer: Any) -> str:
    """session.peer is the socket's (host, port, …) tuple."""
    if isinstance(peer, tuple) and peer:
        return str(peer[0])
    return str(peer or "unknown")


class _Smtp(SMTP):
    """aiosmtpd's own size refusals (at MAIL FROM … SIZE= and while reading DATA) in our words."""

    # RFC 5321 allows 1000 bytes a line, but mailers that write longer lines exist, and Postfix
    # and Exim take them: refusing one would bounce a user's feedback for the mailer's fault.
    line_length_limit = 64 * 1024

    async def push(self, status: AnyStr) -> None:
        if isinstance(status, str) and status.startswith("552 Error"):
            await super().push(TOO_BIG)
        else:
            await super().push(status)


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _Smtp(self.handler, **self.SMTP_kwargs)


class Receiver:
    """The SMTP receiver on host:port, in a thread of its own: `start()`, then `stop()`."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        host: str = "127.0.0.1",
        port: int = 2525,
        on_mail: OnMail | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self._executor = ThreadPoolExecutor(max_workers=IMPORT_THREADS, thread_name_prefix="huiying-smtp")
        self.handler = MailHandler(db, settings, executor=self._executor, on_mail=on_mail)
        # The banner names the support domain: aiosmtpd's default asks DNS for this host's name.
        banner_name = support_domain(settings) or "huiying"
        self._controller = _Controller(
            self.handler,
            hostname=host,
            port=port,
            server_hostname=banner_name,
            data_size_limit=size_limit(settings),
            ident="Huiying",
        )

    def start(self) -> None:
        """Listen; raises OSError when the address cannot be bound."""
        self._controller.start()
        log.info("receiving mail on %s:%d for %s", self.host, self.port, ", ".join(sorted(self.handler.domains)))

    def stop(self) -> None:
        """Stop listening; imports under way finish and commit (their sessions get no reply, so
        the sender sends again and the replay is a duplicate)."""
        self._controller.stop()
        self._executor.shutdown(wait=True)
