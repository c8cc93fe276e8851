"""What the mail quarantine endpoints answer (the sender is shown masked, as the lists of
tickets show contacts; the raw mail stays on the server), and the bodies of the mailbox
endpoints: a mailbox's password goes in, never out (`has_password`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from huiying.channels.email.models import MailAccount, MailQuarantine
from huiying.kit.strings import CleanLine, InputModel

QuarantineStatus = Literal["open", "retried", "ticketed", "dropped"]


class QuarantineOut(BaseModel):
    id: int
    status: QuarantineStatus
    reason: str
    source: str
    subject: str | None
    sender: str | None  # masked
    size: int
    attempts: int
    ticket: str | None  # the ticket it went to (retried or ticketed)
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None


class QuarantineList(BaseModel):
    items: list[QuarantineOut]
    next_cursor: str | None


class RetryOut(BaseModel):
    """`result` as `huiying mail import` counts it; still `quarantined` when it failed again."""

    result: Literal["imported", "threaded", "quarantined", "duplicate"]
    ticket: str | None
    reason: str | None
    entry: QuarantineOut


class TicketedOut(BaseModel):
    ticket: str
    entry: QuarantineOut


def quarantine_out(entry: MailQuarantine, *, ticket: str | None) -> QuarantineOut:
    return QuarantineOut(
        id=entry.id,
        status=entry.status,  # the check constraint keeps it one of them
        reason=entry.reason,
        source=entry.source,
        subject=entry.subject,
        sender=entry.sender_masked,
        size=entry.size,
        attempts=entry.attempts,
        ticket=ticket,
        created_at=entry.created_at,
        updated_at=entry.updated_at,
        resolved_at=entry.resolved_at,
        resolved_by=entry.resolved_by,
    )


# --- admin-configured mailboxes -------------------------------------------------------------------

Security = Literal["imaps", "starttls", "plain-local"]
Name = Annotated[CleanLine, Field(min_length=1, max_length=100)]
Host = Annotated[CleanLine, Field(min_length=1, max_length=255)]
Port = Annotated[int, Field(ge=1, le=65535)]
Username = Annotated[CleanLine, Field(min_length=1, max_length=255)]
# Not CleanLine: a password keeps its spaces.
Password = Annotated[str, Field(min_length=1, max_length=500)]
FolderName = Annotated[CleanLine, Field(min_length=1, max_length=255)]


class MailboxIn(InputModel):
    """A mailbox to poll. `port` left out: 993 for imaps, 143 otherwise; `plain-local` (no TLS) only
    to a server on this machine."""

    name: Name
    host: Host
    port: Port | None = None
    username: Username
    password: Password
    folder: FolderName = "INBOX"
    security: Security = "imaps"
    move_to: FolderName | None = None  # where a mail goes once taken in
    enabled: bool = True


class MailboxPatch(InputModel):
    """The fields to change; `move_to: null` stops moving mail, the others' null changes nothing."""

    name: Name | None = None
    host: Host | None = None
    port: Port | None = None
    username: Username | None = None
    password: Password | None = None
    folder: FolderName | None = None
    security: Security | None = None
    move_to: FolderName | None = None
    enabled: bool | None = None


class MailboxOut(BaseModel):
    id: int
    name: str
    host: str
    port: int
    username: str
    has_password: bool
    folder: str
    security: Security
    move_to: str | None
    enabled: bool
    created_at: datetime
    updated_at: datetime
    last_polled_at: datetime | None
    last_error: str | None  # the last poll's failure; null when it worked
    created_by: int | None


class MailboxList(BaseModel):
    items: list[MailboxOut]


class MailboxTestOut(BaseModel):
    ok: bool
    message: str
    waiting: int | None  # mails in the folder not taken in yet (when it opened)


def mailbox_out(account: MailAccount) -> MailboxOut:
    return MailboxOut(
        id=account.id,
        name=account.name,
        host=account.host,
        port=account.port,
        username=account.username,
        has_password=bool(account.password_encrypted),
        folder=account.folder,
        security=account.security,  # the check constraint keeps it one of them
        move_to=account.move_to,
        enabled=account.enabled,
        created_at=account.created_at,
        updated_at=account.updated_at,
        last_polled_at=account.last_polled_at,
        last_error=account.last_error,
        created_by=account.created_by,
    )
