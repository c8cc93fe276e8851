"""The seam every channel plugs into: inbound messages become intake, replies go out."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Protocol, TypeVar


@dataclass(frozen=True)
class Delivered:
    """What a channel reports after sending: its own id for the message, if it has one."""

    external_id: str | None = None


class DeliveryFailed(Exception):
    """The channel could not send now; the job is retried with a backoff. `permanent`: the
    receiving side refused this message for good (an SMTP 5xx): it fails at once, no retries."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Outgoing:
    """One reply to send, as plain values: the sender runs outside any database transaction.

    `delivery_id` is stable across retries, so a receiver can drop a repeat (CONTRACT.md)."""

    delivery_id: int
    message_id: int
    number: str
    kind: str
    text: str
    user_id: str | None
    contact: str | None


Extended = TypeVar("Extended", bound=Outgoing)


def extended(outgoing: Outgoing, kind: type[Extended], **more: Any) -> Extended:
    """`outgoing` as a channel's own Outgoing (a mail, a push), with what it adds."""
    return kind(**{f.name: getattr(outgoing, f.name) for f in fields(Outgoing)}, **more)


class ChannelAdapter(Protocol):
    name: str

    def deliver(self, outgoing: Outgoing) -> Delivered:
        """Send a public reply to the user; raise DeliveryFailed (or anything) to be retried."""
        ...
