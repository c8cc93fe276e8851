"""Which adapter answers a ticket of each channel."""

from __future__ import annotations

from huiying.channels.base import ChannelAdapter
from huiying.channels.inapp import InAppChannel

_in_app = InAppChannel()
_adapters: dict[str, ChannelAdapter] = {}


def register(channel: str, adapter: ChannelAdapter) -> None:
    """Let `adapter` send the replies of tickets that came in through `channel`."""
    _adapters[channel] = adapter


def adapter_for(channel: str) -> ChannelAdapter:
    """The channel's own adapter; until one is registered, replies wait in the user's portal."""
    return _adapters.get(channel, _in_app)
