"""The job that sends a public reply out through its ticket's channel."""

from __future__ import annotations

from typing import Any

from huiying import jobs
from huiying.accounts.actor import SYSTEM
from huiying.channels import registry
from huiying.db import Database
from huiying.kit.clock import utcnow
from huiying.tickets import history
from huiying.tickets.enums import Delivery
from huiying.tickets.models import Message, Ticket

JOB = "deliver_message"  # tickets/service.py enqueues it by this name: tickets does not import channels


def deliver_message(db: Database, payload: dict[str, Any]) -> None:
    """Send message `payload["message_id"]` unless it has been sent already."""
    with db.write() as session:
        message = session.get(Message, int(payload["message_id"]))
        if message is None or message.delivery != Delivery.QUEUED:
            return
        ticket = session.get_one(Ticket, message.ticket_id)
        adapter = registry.adapter_for(ticket.channel)
        result = adapter.deliver(ticket=ticket, message=message)
        message.delivery = Delivery.SENT.value
        message.delivered_at = utcnow()
        history.record(
            session,
            ticket=ticket,
            actor=SYSTEM,
            action="reply_delivered",
            data={"message_id": message.id, "via": adapter.name, "external_id": result.external_id},
        )


def register_jobs() -> None:
    jobs.register(JOB, deliver_message)
