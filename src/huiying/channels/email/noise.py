"""Mail no person wrote just now: auto-replies, out-of-office, bounces, mailing lists, spam.

`classify(mail, raw)` answers one kind, first match wins:
  bounce      a delivery status notification (multipart/report; report-type=delivery-status),
              or a bounce from MAILER-DAEMON/postmaster that flufl.bounce (Apache-2.0) reads;
              with the failed recipients and the Message-ID of the mail that bounced (ours, if
              we sent it), read from the returned headers
  spam        flagged upstream (X-Spam-Flag: YES, X-Spam-Status: Yes, X-Spam: yes)
  auto_reply  Auto-Submitted other than "no", X-Autoreply, X-Autorespond, Precedence:
              auto_reply, an out-of-office subject, a read receipt, a DSN that reports only
              deliveries, `Return-Path: <>`
  list        List-Id, List-Unsubscribe, Precedence: bulk, list or junk
  normal      anything else
None of them is answered automatically: that is how mail loops start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.parser import BytesHeaderParser, BytesParser
from typing import Literal

from flufl.bounce import all_failures

from huiying.channels.email.parse import Flag, ParsedMail

Kind = Literal["normal", "auto_reply", "bounce", "list", "spam"]


@dataclass(frozen=True)
class Noise:
    kind: Kind = "normal"
    reason: str | None = None
    bounced_message_id: str | None = None  # without angle brackets
    failed_recipients: tuple[str, ...] = ()  # permanent failures only; a delay names none

    @property
    def automated(self) -> bool:
        """Not written by a person: never send it an automatic answer."""
        return self.kind != "normal"


_BOUNCE_SENDER = re.compile(
    r"^(mailer-daemon|mail-daemon|mailerdaemon|postmaster|mdaemon|mail\.delivery\.subsystem|"
    r"microsoftexchange[0-9a-f]*)@",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|delivery status notification|delivery (failure|has failed|failed)|returned mail|"
    r"failure notice|mail delivery (failed|system)|non[- ]?deliver|could not be delivered|"
    r"退信|无法投递|投递失败|未送达|發送失敗|无法送达|邮件被退回",
    re.IGNORECASE,
)
_OUT_OF_OFFICE_SUBJECT = re.compile(
    r"^[\s\[(【]*(auto(matic)?[ -]?(reply|response|antwort)|autoreply|out of (the )?office|"
    r"abwesenheit|réponse automatique|respuesta automática|自动回复|自动答复|自动应答|自動回覆|"
    r"自動回復|自動応答|自動返信)",
    re.IGNORECASE,
)
_ORIGINAL_MESSAGE_ID = re.compile(r"^\s*Message-ID:\s*<\s*([^<>\s]+)\s*>", re.IGNORECASE | re.MULTILINE)
_DELIVERED = {"delivered", "relayed", "expanded"}  # DSN actions that are no failure
_RETURNED_HEADERS = {"message/rfc822", "message/global", "text/rfc822-headers", "message/rfc822-headers"}


def classify(mail: ParsedMail, raw: bytes | None = None) -> Noise:
    """The kind of `mail`; `raw` (its bytes) lets flufl.bounce read bounces that are not DSNs."""
    flags = set(mail.flags)
    bounce = _bounce(mail, raw, flags)
    if bounce is not None:
        return bounce
    if Flag.SPAM in flags:
        return Noise("spam", "flagged as spam upstream")
    auto_reply = _auto_reply_reason(mail, flags)
    if auto_reply:
        return Noise("auto_reply", auto_reply)
    for flag, reason in (
        (Flag.LIST_ID, "List-Id"),
        (Flag.LIST_UNSUBSCRIBE, "List-Unsubscribe"),
        (Flag.PRECEDENCE_LIST, "Precedence: list"),
        (Flag.PRECEDENCE_BULK, f"Precedence: {mail.header('precedence') or 'bulk'}"),
    ):
        if flag in flags:
            return Noise("list", reason)
    return Noise()


def _auto_reply_reason(mail: ParsedMail, flags: set[Flag]) -> str | None:
    if Flag.AUTO_SUBMITTED in flags:
        return f"Auto-Submitted: {mail.header('auto-submitted')}"
    if Flag.X_AUTOREPLY in flags:
        return "X-Autoreply"
    if Flag.X_AUTORESPOND in flags:
        return "X-Autorespond"
    if Flag.PRECEDENCE_AUTO_REPLY in flags:
        return "Precedence: auto_reply"
    if _OUT_OF_OFFICE_SUBJECT.search(mail.subject):
        return "out-of-office subject"
    if Flag.DISPOSITION_REPORT in flags:
        return "read receipt (disposition notification)"
    if Flag.NULL_RETURN_PATH in flags:
        return "Return-Path: <> (sent with a null sender)"
    return None


def _bounce(mail: ParsedMail, raw: bytes | None, flags: set[Flag]) -> Noise | None:
    is_report = Flag.DELIVERY_REPORT in flags
    from_daemon = bool(mail.from_address and _BOUNCE_SENDER.match(mail.from_address))
    bounce_subject = bool(_BOUNCE_SUBJECT.search(mail.subject))
    # The heuristic detectors only see mail that already looks like a bounce: a customer who
    # pastes "user unknown" into a question is not a bounce.
    if not (is_report or from_daemon or (Flag.NULL_RETURN_PATH in flags and bounce_subject)):
        return None
    temporary, permanent, note = _failures(mail, raw)
    if not (is_report or temporary or permanent or bounce_subject):
        return None
    actions = {action for _, action in _dsn_recipients(mail)}
    if is_report and not (temporary or permanent) and actions and actions <= _DELIVERED:
        return Noise("auto_reply", "delivery status report: delivered")  # a success notice, asked for
    if permanent:
        reason = "delivery failed"
    elif temporary:
        reason = "delivery delayed (temporary failure)"
    else:
        reason = "delivery status report" if is_report else "bounce from the mail system"
    return Noise(
        "bounce",
        f"{reason}{note}",
        bounced_message_id=bounced_message_id(mail),
        failed_recipients=tuple(sorted(permanent)),
    )


def _failures(mail: ParsedMail, raw: bytes | None) -> tuple[set[str], set[str], str]:
    """(temporary, permanent) failed recipients and a note on how they were read: flufl.bounce
    when we have the raw mail, else (or when one of its detectors raises on a malformed bounce)
    our own reading of the message/delivery-status part."""
    note = ""
    if raw is not None:
        try:
            found = all_failures(BytesParser(policy=policy.compat32).parsebytes(raw))
            return _addresses(found[0]), _addresses(found[1]), ""
        except Exception as exc:  # noqa: BLE001 - a detector's bug must not lose the bounce
            note = f" (flufl.bounce failed: {type(exc).__name__}; read from the DSN)"
    temporary, permanent = _dsn_failures(mail)
    return temporary, permanent, note


def _addresses(found: frozenset[bytes] | set[bytes]) -> set[str]:
    return {address.decode("utf-8", "replace").strip("<> ").lower() for address in found if b"@" in address}


def _dsn_failures(mail: ParsedMail) -> tuple[set[str], set[str]]:
    """(temporary, permanent): the recipients a DSN reports as delayed and as failed."""
    recipients = _dsn_recipients(mail)
    return {a for a, action in recipients if action == "delayed"}, {a for a, action in recipients if action == "failed"}


def _dsn_recipients(mail: ParsedMail) -> list[tuple[str, str]]:
    """(address, action) per recipient of the message/delivery-status parts (RFC 3464)."""
    found = []
    for attachment in mail.attachments:
        if attachment.content_type != "message/delivery-status":
            continue
        for block in re.split(rb"\r?\n\s*\r?\n", attachment.data):
            fields = BytesHeaderParser(policy=policy.compat32).parsebytes(block.strip() + b"\n")
            action = str(fields.get("action", "")).strip().lower()
            recipient = str(fields.get("final-recipient") or fields.get("original-recipient") or "")
            address = recipient.rpartition(";")[2].strip().strip("<>").lower()
            if "@" in address and action:
                found.append((address, action))
    return found


def bounced_message_id(mail: ParsedMail) -> str | None:
    """The Message-ID of the mail that bounced: from the returned message or headers, else from
    a "Message-ID:" line quoted in the bounce text (bounces that are not DSNs)."""
    for attachment in mail.attachments:
        if attachment.content_type in _RETURNED_HEADERS:
            headers = BytesHeaderParser(policy=policy.compat32).parsebytes(attachment.data)
            match = re.search(r"<\s*([^<>\s]+)\s*>", str(headers.get("message-id", "")))
            if match:
                return match[1]
    match = _ORIGINAL_MESSAGE_ID.search(mail.text)
    return match[1] if match else None
