"""The seam for one-time codes to a user's phone (SMS) or email address.

No SMS gateway or mail server is wired in yet: until a sender is registered for a kind, a code
of that kind is not sent anywhere (the code row records `no_sender`, and the visitor is told the
same neutral sentence as always). An SMS or email channel registers itself here at start-up.
"""

from __future__ import annotations

from typing import Protocol

from huiying.channels.base import Delivered


class CodeSender(Protocol):
    name: str

    def send_code(self, *, to: str, code: str, language: str) -> Delivered:
        """Send `code` to `to`; raise channels.base.DeliveryFailed to be retried later."""
        ...


_senders: dict[str, CodeSender] = {}


def kind_of(contact: str) -> str:
    """Where a contact is reached: "email" for an address, "sms" for anything else (a phone)."""
    return "email" if "@" in contact else "sms"


def register(kind: str, sender: CodeSender | None) -> None:
    """Let `sender` send the codes of `kind` ("sms" or "email"); None removes it."""
    if sender is None:
        _senders.pop(kind, None)
    else:
        _senders[kind] = sender


def sender_for(kind: str) -> CodeSender | None:
    return _senders.get(kind)
