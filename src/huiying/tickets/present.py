"""Tickets and their parts as API answers; personal data masked unless the reader may see it."""

from __future__ import annotations

from huiying.privacy.masking import mask_contact
from huiying.tickets.enums import Priority, Status
from huiying.tickets.models import Attachment, Message, Ticket, TicketEvent
from huiying.tickets.schemas import AttachmentOut, DeviceOut, EventOut, MessageOut, TicketOut


def attachment_out(attachment: Attachment) -> AttachmentOut:
    return AttachmentOut(
        id=attachment.id,
        filename=attachment.filename,
        content_type=attachment.content_type,
        size=attachment.size,
        url=f"/api/v1/attachments/{attachment.id}",
    )


def ticket_out(
    ticket: Ticket, *, reveal_pii: bool = False, files: list[Attachment] | None = None
) -> TicketOut:
    return TicketOut(
        number=ticket.number,
        status=Status(ticket.status),
        priority=Priority(ticket.priority),
        category=ticket.category,
        subcategory=ticket.subcategory,
        sentiment=ticket.sentiment,
        language=ticket.language,
        needs_refinement=ticket.needs_refinement,
        team=ticket.team.slug if ticket.team else None,
        assignee=ticket.assignee.email if ticket.assignee else None,
        channel=ticket.channel,
        source_ref=ticket.source_ref,
        user_id=ticket.user_id,
        contact=ticket.contact if reveal_pii else mask_contact(ticket.contact),
        title=ticket.title,
        description=ticket.description,
        tags=ticket.tags,
        vip=ticket.vip,
        escalation_level=ticket.escalation_level,
        device=DeviceOut(os=ticket.device_os, model=ticket.device_model),
        app_version=ticket.app_version,
        city=ticket.city,
        links=ticket.links or {},
        occurred_at=ticket.occurred_at,
        frequency=ticket.frequency,
        merged_into=ticket.merged_into.number
        if ticket.merged_into_id and ticket.merged_into
        else None,
        reopen_count=ticket.reopen_count,
        received_at=ticket.received_at,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        first_responded_at=ticket.first_responded_at,
        resolved_at=ticket.resolved_at,
        closed_at=ticket.closed_at,
        first_response_due=ticket.first_response_due,
        resolution_due=ticket.resolution_due,
        attachments=[attachment_out(a) for a in files or []],
    )


def message_out(message: Message) -> MessageOut:
    return MessageOut(
        id=message.id,
        kind=message.kind,
        author_type=message.author_type,
        author_name=message.author_name,
        body=message.body,
        channel=message.channel,
        delivery=message.delivery,
        created_at=message.created_at,
        attachments=[attachment_out(a) for a in message.attachments],
    )


def event_out(event: TicketEvent, number: str) -> EventOut:
    return EventOut(
        id=event.id,
        ticket=number,
        actor_type=event.actor_type,
        actor=event.actor_name,
        action=event.action,
        field=event.field,
        old=event.old_value,
        new=event.new_value,
        data=event.data,
        created_at=event.created_at,
    )
