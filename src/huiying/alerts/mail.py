"""Staff email for alerts, with the standard library: `HUIYING_SMTP_URL` parsed once, one UTF-8
message per person (the Chinese text first, then the English), sent with a timeout.

`configure` is called by `wiring.configure` with the settings; domain code never reads them.
Without an SMTP URL nothing is sent: the deliveries say so (`NO_SMTP`).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

TIMEOUT_SECONDS = 10.0
NO_SMTP = "no SMTP configured (HUIYING_SMTP_URL)"
SUBJECT_CHARS = 150
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
class Mail:
    to: str
    subject: str
    body: str
    message_id: str | None = None


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


_smtp: SmtpConfig | None = None
_mail_from = "support@localhost"


def configure(*, smtp_url: str | None, mail_from: str) -> None:
    """Install the outgoing server (None or "": staff email is not sent) and the From address."""
    global _smtp, _mail_from
    _smtp = parse_smtp_url(smtp_url) if smtp_url else None
    _mail_from = mail_from


def enabled() -> bool:
    return _smtp is not None


def mail_from() -> str:
    return _mail_from


def alert_mail(*, to: str, text_zh: str, text_en: str, message_key: str | None = None) -> Mail:
    """One alert as a message: subject from the first line of each text, body zh then en."""
    zh_line = (text_zh.strip().splitlines() or [""])[0]
    en_line = (text_en.strip().splitlines() or [""])[0]
    subject = " / ".join(part for part in (zh_line, en_line) if part) or "Huiying alert"
    if len(subject) > SUBJECT_CHARS:
        subject = subject[: SUBJECT_CHARS - 1] + "…"
    body = f"{text_zh.strip()}\n\n{text_en.strip()}\n"
    domain = _mail_from.rpartition("@")[2] or "localhost"
    message_id = make_msgid(idstring=message_key, domain=domain) if message_key else None
    return Mail(to=to, subject=subject, body=body, message_id=message_id)


def build_message(mail: Mail, *, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject  # encoded as RFC 2047 UTF-8 when not ASCII
    message["Date"] = formatdate(localtime=False)
    if mail.message_id:
        message["Message-ID"] = mail.message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.body, charset="utf-8")
    return message


def send_all(mails: list[Mail]) -> list[str | None]:
    """Send over one connection; per mail None (sent) or the error. A connection that cannot be
    made fails them all with its error. Needs `enabled()`."""
    config = _smtp
    if config is None:
        return [NO_SMTP] * len(mails)
    try:
        client = _connect(config)
    except (OSError, smtplib.SMTPException) as exc:
        return [_error(exc)] * len(mails)
    results: list[str | None] = []
    try:
        for mail in mails:
            try:
                client.send_message(build_message(mail, sender=_mail_from), from_addr=_mail_from, to_addrs=[mail.to])
                results.append(None)
            except smtplib.SMTPServerDisconnected as exc:
                results += [_error(exc)] * (len(mails) - len(results))
                break
            except (OSError, smtplib.SMTPException) as exc:
                results.append(_error(exc))
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


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]
