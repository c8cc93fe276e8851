"""Inbound mail: one row per mail taken in, and the quarantine of mail that could not be.

`mail_messages` is the replay rule of CONTRACT.md made a key: a mail is a replay only when its
Message-ID *and* its content digest match one already taken (real senders reuse Message-IDs for
different mail), so (message_id, digest) is unique and claimed first, like an intake key. A mail
without a Message-ID is kept with "" there, so its replays still collide on the digest. Rows
also thread replies (a Message-ID we took points at its ticket) and count a sender's new tickets
for the flood limit, by the keyed digest of the address: no address is stored in clear.

`mail_quarantine` holds what was not taken (unreadable, or a sender flooding us): the raw bytes
sit in the data directory under the mail's digest, the row says why and what an admin did.

`mail_accounts` are the mailboxes admins configured (beside HUIYING_IMAP_URL), polled by the
same job; the password is encrypted at rest and never leaves the server.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from huiying.db import Base, BigId, UTCDateTime
from huiying.kit.clock import utcnow

KINDS = ("normal", "auto_reply", "bounce", "list", "spam")
# What became of a mail taken in: a new ticket, a message on one, or recorded noise.
OUTCOMES = ("imported", "threaded", "noise")
QUARANTINE_STATUSES = ("open", "retried", "ticketed", "dropped")
MESSAGE_ID_CHARS = 255  # longer ids are cut, the same way wherever they are compared
# How an admin-configured mailbox is reached: implicit TLS, STARTTLS, or plain IMAP to a server on
# this machine only (the password would cross the network in clear otherwise).
SECURITIES = ("imaps", "starttls", "plain-local")
LAST_ERROR_CHARS = 500


def _values(values: tuple[str, ...]) -> str:
    return ",".join(f"'{value}'" for value in values)


class MailMessage(Base):
    __tablename__ = "mail_messages"
    __table_args__ = (
        UniqueConstraint("message_id", "digest"),
        CheckConstraint(f"kind IN ({_values(KINDS)})", name="kind"),
        CheckConstraint(f"outcome IN ({_values(OUTCOMES)})", name="outcome"),
        # The flood limit: a sender's new tickets in the hour before a mail.
        Index("ix_mail_messages_sender_digest_sent_at", "sender_digest", "sent_at"),
        Index("ix_mail_messages_ticket_id", "ticket_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(MESSAGE_ID_CHARS))  # without <>; "" when it had none
    digest: Mapped[str] = mapped_column(String(64))  # parse.content_digest of the raw mail
    source: Mapped[str] = mapped_column(String(255))  # the file, mbox entry or mailbox it came from
    sender_digest: Mapped[str | None] = mapped_column(String(64))  # crypto.digest of the From address
    kind: Mapped[str] = mapped_column(String(12))  # noise.Kind
    outcome: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(String(300))  # why it is noise, in plain words
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    # The message it became on that ticket (a threaded reply); a new ticket's mail is its description.
    ticket_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)  # its Date, never later than when it came
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MailQuarantine(Base):
    """open → retried (taken in after all) | ticketed (made a ticket as it is) | dropped."""

    __tablename__ = "mail_quarantine"
    __table_args__ = (
        # One entry per mail: the same unreadable mail fetched again is a replay, not a second entry.
        UniqueConstraint("digest"),
        CheckConstraint(f"status IN ({_values(QUARANTINE_STATUSES)})", name="status"),
        Index("ix_mail_quarantine_status_id", "status", "id"),
        Index("ix_mail_quarantine_sender_digest", "sender_digest"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))  # file name under <data dir>/quarantine
    size: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(255))
    # What the admin list shows of it, when the mail could be read that far (sender masked).
    subject: Mapped[str | None] = mapped_column(String(200))
    sender_masked: Mapped[str | None] = mapped_column(String(254))
    # crypto.digest of the From address: a data-subject request finds the person's entries by it.
    sender_digest: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), default="open")
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(100))  # the admin's name (details in the audit log)


class MailAccount(Base):
    """A mailbox an admin configured; polled like HUIYING_IMAP_URL's while `enabled`."""

    __tablename__ = "mail_accounts"
    __table_args__ = (
        UniqueConstraint("name"),
        CheckConstraint(f"security IN ({_values(SECURITIES)})", name="security"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))  # what admins call it: "售后邮箱"
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(255))
    password_encrypted: Mapped[str] = mapped_column(Text)  # privacy.crypto; never shown again
    folder: Mapped[str] = mapped_column(String(255), default="INBOX")
    security: Mapped[str] = mapped_column(String(16))
    move_to: Mapped[str | None] = mapped_column(String(255))  # the folder a mail goes to once taken in
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The last poll, and why it failed (None: it worked), so a broken mailbox is seen, not silent.
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)  # at most LAST_ERROR_CHARS
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
