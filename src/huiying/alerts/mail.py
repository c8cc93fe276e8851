"""Staff email for alerts: one UTF-8 message per person (the Chinese text first, then the
English), sent through the shared SMTP transport (`huiying.smtp`, which parses HUIYING_SMTP_URL).

`configure` is called by `wiring.configure` with the settings; domain code never reads them.
Without an SMTP URL nothing is sent: the deliveries say so (`NO_SMTP`).
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from huiying.smtp import TIMEOUT_SECONDS, Envelope, SmtpConfig, parse_smtp_url, send

__all__ = ["NO_SMTP", "TIMEOUT_SECONDS", "Mail", "SmtpConfig", "alert_mail", "parse_smtp_url", "send_all"]

NO_SMTP = "no SMTP configured (HUIYING_SMTP_URL)"
SUBJECT_CHARS = 150


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str
    message_id: str | None = None


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
    envelopes = [Envelope(build_message(m, sender=_mail_from), _mail_from, (m.to,)) for m in mails]
    return [failure.text if failure else None for failure in send(config, envelopes)]
