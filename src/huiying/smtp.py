"""Outgoing mail over SMTP, with the standard library: `HUIYING_SMTP_URL` parsed, a batch of
messages sent over one connection, a timeout on every step, each message's error in plain words.

The one place that talks SMTP: staff alerts (alerts/mail.py) and the email channel
(channels/email/outbound.py) both send through it. It knows nothing of tickets or settings; the
callers hand it a parsed URL and finished messages.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

TIMEOUT_SECONDS = 10.0
ERROR_CHARS = 500
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    implicit_tls: bool = False  # smtps://
    starttls: bool = False  # smtp://…?starttls=1
    username: str | None = None
    password: str | None = None


@dataclass(frozen=True)
class Failure:
    """Why a message was not sent. `permanent`: the server refused it with a 5xx reply for this
    message (no such recipient, the content refused): sending it again would fail the same way.
    A connection that broke, a 4xx and a login refused (our configuration, fixed by an admin)
    are not permanent."""

    text: str
    permanent: bool = False


@dataclass(frozen=True)
class Envelope:
    """One message and who it goes from and to on the wire (MAIL FROM, RCPT TO)."""

    message: EmailMessage
    sender: str
    recipients: tuple[str, ...]


def parse_smtp_url(url: str) -> SmtpConfig:
    """`smtp://[user:pass@]host:port`, `smtps://…` (implicit TLS), `?starttls=1` (STARTTLS)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("smtp", "smtps"):
        raise ValueError("HUIYING_SMTP_URL must start with smtp:// or smtps://")
    if not parts.hostname:
        raise ValueError("HUIYING_SMTP_URL has no host")
    query = {k.lower(): v[-1] for k, v in parse_qs(parts.query).items()}
    starttls = query.get("starttls", "").lower() in _TRUE
    if scheme == "smtps" and starttls:
        raise ValueError("HUIYING_SMTP_URL: smtps:// is already TLS; starttls=1 is for smtp://")
    return SmtpConfig(
        host=parts.hostname,
        port=parts.port or (465 if scheme == "smtps" else 25),
        implicit_tls=scheme == "smtps",
        starttls=starttls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


def send(config: SmtpConfig, envelopes: Sequence[Envelope]) -> list[Failure | None]:
    """Send over one connection; per message None (sent) or its Failure. A connection that
    cannot be made fails them all; a server that hangs up fails the ones not sent yet."""
    try:
        client = _connect(config)
    except (OSError, smtplib.SMTPException) as exc:
        return [Failure(error_text(exc))] * len(envelopes)
    results: list[Failure | None] = []
    try:
        for envelope in envelopes:
            try:
                client.send_message(envelope.message, from_addr=envelope.sender, to_addrs=list(envelope.recipients))
                results.append(None)
            except smtplib.SMTPServerDisconnected as exc:
                results += [Failure(error_text(exc))] * (len(envelopes) - len(results))
                break
            except (OSError, smtplib.SMTPException) as exc:
                results.append(Failure(error_text(exc), permanent=_refused_for_good(exc)))
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()
    return results


def _connect(config: SmtpConfig) -> smtplib.SMTP:
    client: smtplib.SMTP
    if config.implicit_tls:
        client = smtplib.SMTP_SSL(
            config.host, config.port, timeout=TIMEOUT_SECONDS, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(config.host, config.port, timeout=TIMEOUT_SECONDS)
    try:
        client.ehlo()
        if config.starttls:
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
        if config.username:
            client.login(config.username, config.password or "")
    except BaseException:
        client.close()
        raise
    return client


def _refused_for_good(exc: BaseException) -> bool:
    """A 5xx reply to this message's MAIL FROM, RCPT TO or DATA (RFC 5321 §4.2.1); for refused
    recipients, only when every one of them was refused with a 5xx."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException) and not isinstance(exc, smtplib.SMTPAuthenticationError):
        return 500 <= exc.smtp_code < 600
    return False


def error_text(exc: BaseException) -> str:
    """An exception as the line a delivery shows: its type and message, cut to ERROR_CHARS."""
    return f"{type(exc).__name__}: {exc}"[:ERROR_CHARS]
