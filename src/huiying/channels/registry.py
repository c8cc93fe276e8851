"""Which sender sends the replies of each delivery channel (email, inapp, wechat…).

Senders register at start-up when they are configured; a channel without one is reported
`suppressed` by the delivery job (channels/plan.py says why), never `sent`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from huiying.channels.base import ChannelAdapter, Outgoing

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from huiying.channels.models import MessageDelivery
    from huiying.tickets.models import Ticket

# A channel that needs more than the text to send (email: the threading headers, the user's
# language, the due times) turns the plain Outgoing into its own while the delivery is claimed,
# inside that transaction; its sender then works from those values alone, outside any.
Prepare = Callable[["Session", "MessageDelivery", Outgoing], Outgoing]

# Whether a channel tells this ticket's user of a notice of this kind ("received", "delayed"…):
# email for a ticket made from a person's mail, in-app for an app user, SMS for a phone…
WantsNotice = Callable[["Session", "Ticket", str], bool]

_senders: dict[str, ChannelAdapter] = {}
_preparers: dict[str, Prepare] = {}
_notice_wants: dict[str, WantsNotice] = {}


def register(channel: str, adapter: ChannelAdapter | None, *, prepare: Prepare | None = None) -> None:
    """Let `adapter` send the replies that go out through `channel` (with `prepare`, if it needs
    more than the text); None removes both."""
    _preparers.pop(channel, None)
    if adapter is None:
        _senders.pop(channel, None)
        return
    _senders[channel] = adapter
    if prepare is not None:
        _preparers[channel] = prepare


def sender_for(channel: str) -> ChannelAdapter | None:
    return _senders.get(channel)


def preparer_for(channel: str) -> Prepare | None:
    return _preparers.get(channel)


def register_notices(channel: str, wants: WantsNotice) -> None:
    """Let `channel` carry the notices of the tickets `wants` says yes to (idempotent)."""
    _notice_wants[channel] = wants


def notice_channels(session: Session, ticket: Ticket, kind: str) -> list[str]:
    """The channels that tell `ticket`'s user of a notice of `kind`, in registration order."""
    return [channel for channel, wants in _notice_wants.items() if wants(session, ticket, kind)]
