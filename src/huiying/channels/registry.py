"""Which sender sends the replies of each delivery channel (email, inapp, wechat…).

Senders register at start-up when they are configured; a channel without one is reported
`suppressed` by the delivery job (channels/plan.py says why), never `sent`.
"""

from __future__ import annotations

from huiying.channels.base import ChannelAdapter

_senders: dict[str, ChannelAdapter] = {}


def register(channel: str, adapter: ChannelAdapter | None) -> None:
    """Let `adapter` send the replies that go out through `channel`; None removes it."""
    if adapter is None:
        _senders.pop(channel, None)
    else:
        _senders[channel] = adapter


def sender_for(channel: str) -> ChannelAdapter | None:
    return _senders.get(channel)
