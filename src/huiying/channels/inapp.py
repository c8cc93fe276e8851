"""In-app and web feedback: the reply is shown in the app's message centre and on the user's
status page (portal), both of which read it from the ticket, so delivery only has to mark it."""

from __future__ import annotations

from huiying.channels.base import Delivered
from huiying.tickets.models import Message, Ticket


class InAppChannel:
    name = "inapp"

    def deliver(self, *, ticket: Ticket, message: Message) -> Delivered:
        return Delivered(external_id=None)
