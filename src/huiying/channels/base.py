"""The seam every channel plugs into: inbound messages become intake, replies go out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from huiying.tickets.models import Message, Ticket


@dataclass(frozen=True)
class Delivered:
    """What a channel reports after sending: its own id for the message, if it has one."""

    external_id: str | None = None


class DeliveryFailed(Exception):
    """The channel could not send now; the job is retried with a backoff."""


class ChannelAdapter(Protocol):
    name: str

    def deliver(self, *, ticket: Ticket, message: Message) -> Delivered:
        """Send a public reply to the user through this channel."""
        ...
