"""Mailboxes admins configure beside HUIYING_IMAP_URL: add, change, remove (each audited, the
password never in the log), the Mailbox the poller opens, the record of each poll, and a test
that opens the folder without taking anything in.

An account's fields are checked by turning them into the URL HUIYING_IMAP_URL would hold and
parsing it with imap_client.parse_imap_url, so both ways of configuring a mailbox obey one rule
set: plain IMAP (the password in clear) only to a server on this machine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiying.audit import service as audit
from huiying.channels.email.imap_client import ImapError, Mailbox, open_folder, parse_imap_url
from huiying.channels.email.models import LAST_ERROR_CHARS, SECURITIES, MailAccount
from huiying.errors import Conflict, InvalidInput, NotFound
from huiying.kit.actor import Actor
from huiying.kit.clock import utcnow
from huiying.privacy import crypto

DEFAULT_PORTS = {"imaps": 993, "starttls": 143, "plain-local": 143}
# What an admin may change; `password` is taken, never given back.
FIELDS = ("name", "host", "port", "username", "password", "folder", "security", "move_to", "enabled")
# Changing one of these makes the last poll's error say nothing of the mailbox any more.
CONNECTION_FIELDS = ("host", "port", "username", "password", "folder", "security")
# A host name or an IP address (IPv6 with or without brackets): nothing that would bend the URL.
_HOST = re.compile(r"^\[?[\w.:-]+\]?$")


@dataclass(frozen=True)
class ConnectionCheck:
    """What a test of an account found: the folder opened (and how many mails wait), or why not."""

    ok: bool
    message: str
    waiting: int | None = None


def list_accounts(session: Session) -> list[MailAccount]:
    return list(session.scalars(select(MailAccount).order_by(MailAccount.name, MailAccount.id)))


def enabled_accounts(session: Session) -> list[MailAccount]:
    statement = select(MailAccount).where(MailAccount.enabled.is_(True)).order_by(MailAccount.id)
    return list(session.scalars(statement))


def get_account(session: Session, account_id: int, *, lock: bool = False) -> MailAccount:
    statement = select(MailAccount).where(MailAccount.id == account_id)
    account = session.scalar(statement.with_for_update() if lock else statement)
    if account is None:
        raise NotFound("no such mailbox", code="unknown_mailbox")
    return account


def _checked_mailbox(
    *, host: str, port: int, username: str, password: str, folder: str, security: str, move_to: str | None
) -> Mailbox:
    """The fields as parse_imap_url sees them; InvalidInput (never naming the password) when wrong."""
    if security not in SECURITIES:
        raise InvalidInput(
            f"security must be one of {', '.join(SECURITIES)}", code="invalid_mailbox", details={"field": "security"}
        )
    bare = host.strip().strip("[]")
    if not bare or not _HOST.fullmatch(host.strip()):
        raise InvalidInput(
            "host must be a host name or an IP address", code="invalid_mailbox", details={"field": "host"}
        )
    if not 1 <= port <= 65535:
        raise InvalidInput("port must be 1 to 65535", code="invalid_mailbox", details={"field": "port"})
    if not folder.strip():
        raise InvalidInput("folder must not be empty", code="invalid_mailbox", details={"field": "folder"})
    scheme = "imaps" if security == "imaps" else "imap"
    authority = f"{quote(username, safe='')}:{quote(password, safe='')}@{f'[{bare}]' if ':' in bare else bare}"
    query = {"starttls": "1"} if security == "starttls" else {}
    if move_to:
        query["move"] = move_to
    url = f"{scheme}://{authority}:{port}/{quote(folder, safe='')}"
    try:
        return parse_imap_url(f"{url}?{urlencode(query)}" if query else url)
    except ValueError as exc:
        if security == "plain-local" and _parses(f"{url}?insecure=1"):
            # Only the clear-text rule refused it: say so in the account's terms.
            raise InvalidInput(
                "plain-local is for an IMAP server on this machine only (127.0.0.1, ::1, localhost): "
                "anywhere else the password would cross the network in clear; use imaps or starttls",
                code="mailbox_not_local",
                details={"field": "host"},
            ) from None
        message = str(exc).replace("HUIYING_IMAP_URL", "the mailbox")
        raise InvalidInput(message, code="invalid_mailbox", details={"field": "url"}) from None


def _parses(url: str) -> bool:
    try:
        parse_imap_url(url)
    except ValueError:
        return False
    return True


def _require_free_name(session: Session, name: str, *, other_than: int | None = None) -> None:
    statement = select(MailAccount.id).where(MailAccount.name == name)
    if other_than is not None:
        statement = statement.where(MailAccount.id != other_than)
    if session.scalar(statement) is not None:
        raise Conflict(f"a mailbox named {name!r} exists already", code="mailbox_name_taken", details={"name": name})


def _summary(account: MailAccount) -> dict[str, Any]:
    """What the audit log keeps of an account: everything but the password."""
    return {
        "name": account.name,
        "host": account.host,
        "port": account.port,
        "username": account.username,
        "folder": account.folder,
        "security": account.security,
        "move_to": account.move_to,
        "enabled": account.enabled,
    }


def create_account(
    session: Session,
    *,
    name: str,
    host: str,
    port: int | None,
    username: str,
    password: str,
    folder: str = "INBOX",
    security: str = "imaps",
    move_to: str | None = None,
    enabled: bool = True,
    actor: Actor,
) -> MailAccount:
    """Add a mailbox to poll (audited); `port` None: the usual one for `security`."""
    port = port if port is not None else DEFAULT_PORTS.get(security, 993)
    mailbox = _checked_mailbox(
        host=host, port=port, username=username, password=password, folder=folder, security=security, move_to=move_to
    )
    _require_free_name(session, name)
    now = utcnow()
    account = MailAccount(
        name=name,
        host=mailbox.host,
        port=mailbox.port,
        username=mailbox.username,
        password_encrypted=crypto.encrypt(password),
        folder=mailbox.folder,
        security=security,
        move_to=mailbox.move_to,
        enabled=enabled,
        created_at=now,
        updated_at=now,
        created_by=actor.staff_id,
    )
    session.add(account)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="mail.account_created",
        object_type="mail_account",
        object_id=str(account.id),
        after=_summary(account),
    )
    return account


def update_account(session: Session, account: MailAccount, *, changes: dict[str, Any], actor: Actor) -> MailAccount:
    """Change the fields given (of FIELDS; `move_to` None removes it); audited. A new security
    with the old one's usual port and no port given moves to the new one's usual port."""
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise InvalidInput(f"unknown fields: {', '.join(unknown)}", code="invalid_mailbox")
    before = _summary(account)
    security = str(changes.get("security", account.security))
    port = changes.get("port")
    if port is None:
        usual = account.port == DEFAULT_PORTS.get(account.security)
        port = DEFAULT_PORTS.get(security, account.port) if usual else account.port
    password = str(changes["password"]) if changes.get("password") else to_mailbox(account).password
    mailbox = _checked_mailbox(
        host=str(changes.get("host", account.host)),
        port=int(port),
        username=str(changes.get("username", account.username)),
        password=password,
        folder=str(changes.get("folder", account.folder)),
        security=security,
        move_to=changes.get("move_to", account.move_to),
    )
    name = str(changes.get("name", account.name))
    _require_free_name(session, name, other_than=account.id)
    connection_changed = (
        (mailbox.host, mailbox.port, mailbox.username, mailbox.folder, security)
        != (account.host, account.port, account.username, account.folder, account.security)
    ) or bool(changes.get("password"))
    account.name = name
    account.host, account.port, account.username = mailbox.host, mailbox.port, mailbox.username
    account.folder, account.security, account.move_to = mailbox.folder, security, mailbox.move_to
    if changes.get("password"):
        account.password_encrypted = crypto.encrypt(password)
    if "enabled" in changes:
        account.enabled = bool(changes["enabled"])
    if connection_changed:
        account.last_error = None  # said of the old settings
    account.updated_at = utcnow()
    session.flush()
    after = _summary(account)
    if changes.get("password"):
        after["password_changed"] = True
    audit.record(
        session,
        actor=actor,
        action="mail.account_updated",
        object_type="mail_account",
        object_id=str(account.id),
        before=before,
        after=after,
    )
    return account


def delete_account(session: Session, account: MailAccount, *, actor: Actor) -> None:
    """Stop polling the mailbox and forget it (audited); the mail it brought in stays."""
    before = _summary(account)
    session.delete(account)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="mail.account_deleted",
        object_type="mail_account",
        object_id=str(account.id),
        before=before,
    )


def to_mailbox(account: MailAccount) -> Mailbox:
    """The account as the poller opens it, its password decrypted (checked when it was saved)."""
    return Mailbox(
        host=account.host,
        port=account.port,
        username=account.username,
        password=crypto.decrypt(account.password_encrypted),
        folder=account.folder,
        implicit_tls=account.security == "imaps",
        starttls=account.security == "starttls",
        move_to=account.move_to,
    )


def record_poll(session: Session, account_id: int, error: str | None) -> None:
    """Note a poll of the account (not audited: the system's doing, not a change of settings);
    an account removed meanwhile is let be."""
    account = session.get(MailAccount, account_id)
    if account is None:
        return
    account.last_polled_at = utcnow()
    account.last_error = error[:LAST_ERROR_CHARS] if error else None
    session.flush()


def scrubbed(text: str, mailbox: Mailbox) -> str:
    """`text` with the mailbox's password cut out: what imaplib or a server says is not ours to trust."""
    return text.replace(mailbox.password, "***") if mailbox.password else text


def test_connection(account: MailAccount) -> ConnectionCheck:
    """Log in and open the folder, take nothing in; what it found, without the password.
    Network time: call it outside a transaction."""
    mailbox = to_mailbox(account)
    try:
        with open_folder(mailbox) as folder:
            waiting = len(folder.unmarked())
    except ImapError as exc:
        return ConnectionCheck(ok=False, message=scrubbed(str(exc), mailbox)[:LAST_ERROR_CHARS])
    except Exception as exc:  # noqa: BLE001 - a test answers what went wrong, whatever it was
        text = f"{mailbox.display}: {type(exc).__name__}: {exc}"
        return ConnectionCheck(ok=False, message=scrubbed(text, mailbox)[:LAST_ERROR_CHARS])
    return ConnectionCheck(ok=True, message=f"{mailbox.display}: the folder opened", waiting=waiting)
