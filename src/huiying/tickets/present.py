"""Tickets and their parts as API answers; personal data masked unless the reader may see it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from huiying.kit.masking import mask_text
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


def _keep(text: str) -> str:
    return text


def _text_filter(reveal_pii: bool) -> Callable[[str], str]:
    return _keep if reveal_pii else mask_text


def mask_json(value: Any) -> Any:
    """Every string inside a JSON-like value, masked."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list):
        return [mask_json(v) for v in value]
    if isinstance(value, dict):
        return {k: mask_json(v) for k, v in value.items()}
    return value


def ticket_out(ticket: Ticket, *, reveal_pii: bool = False, files: list[Attachment] | None = None) -> TicketOut:
    text = _text_filter(reveal_pii)
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
        user_name=ticket.user_name,
        contact=ticket.contact_plain() if reveal_pii else ticket.contact_masked,
        title=text(ticket.title),
        description=text(ticket.description),
        tags=ticket.tags,
        vip=ticket.vip,
        special_group=ticket.special_group,
        escalation_level=ticket.escalation_level,
        device=DeviceOut(os=ticket.device_os, model=ticket.device_model),
        app_version=ticket.app_version,
        city=ticket.city,
        links=ticket.links or {},
        occurred_at=ticket.occurred_at,
        frequency=ticket.frequency,
        merged_into=ticket.merged_into.number if ticket.merged_into_id and ticket.merged_into else None,
        reopen_count=ticket.reopen_count,
        received_at=ticket.received_at,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        first_responded_at=ticket.first_responded_at,
        resolved_at=ticket.resolved_at,
        closed_at=ticket.closed_at,
        first_response_due=ticket.first_response_due,
        resolution_due=ticket.resolution_due,
        accepted_at=ticket.accepted_at,
        next_response_due=ticket.next_response_due,
        sla_policy=ticket.sla_policy,
        sla_note=ticket.sla_note,
        sla_paused=ticket.sla_paused_at is not None,
        csat=ticket.csat,
        nps=ticket.nps,
        attachments=[attachment_out(a) for a in files or []],
        triage=ticket.triage,
    )


def list_item(row: dict[str, Any]) -> dict[str, Any]:
    """A list row (repository.LIST_COLUMNS) as the JSON of `ticket_out` for a masked reader,
    built as plain data: validating fifty TicketOut models per page cost more than the query.
    Same keys in the same order; tests/tickets/test_list_speed.py holds the two to each other."""
    return {
        "number": row["number"],
        "status": row["status"],
        "priority": row["priority"],
        "category": row["category"],
        "subcategory": row["subcategory"],
        "sentiment": row["sentiment"],
        "language": row["language"],
        "needs_refinement": row["needs_refinement"],
        "team": row["team"],
        "assignee": row["assignee"],
        "channel": row["channel"],
        "source_ref": row["source_ref"],
        "user_id": row["user_id"],
        "user_name": row["user_name"],
        "contact": row["contact"],
        "title": mask_text(row["title"]),
        "description": mask_text(row["description"]),
        "tags": row["tags"],
        "vip": row["vip"],
        "special_group": row["special_group"],
        "escalation_level": row["escalation_level"],
        "device": {"os": row["device_os"], "model": row["device_model"]},
        "app_version": row["app_version"],
        "city": row["city"],
        "links": row["links"] or {},
        "occurred_at": row["occurred_at"],
        "frequency": row["frequency"],
        "merged_into": row["merged_into"],
        "reopen_count": row["reopen_count"],
        "received_at": row["received_at"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "first_responded_at": row["first_responded_at"],
        "resolved_at": row["resolved_at"],
        "closed_at": row["closed_at"],
        "first_response_due": row["first_response_due"],
        "resolution_due": row["resolution_due"],
        "accepted_at": row["accepted_at"],
        "next_response_due": row["next_response_due"],
        "sla_policy": row["sla_policy"],
        "sla_note": row["sla_note"],
        "sla_paused": row["sla_paused_at"] is not None,
        "csat": row["csat"],
        "nps": row["nps"],
        "attachments": [],
        "triage": row["triage"],
    }


def message_out(message: Message, *, reveal_pii: bool = False) -> MessageOut:
    return MessageOut(
        id=message.id,
        kind=message.kind,
        author_type=message.author_type,
        author_name=message.author_name,
        body=_text_filter(reveal_pii)(message.body),
        channel=message.channel,
        delivery=message.delivery,
        created_at=message.created_at,
        attachments=[attachment_out(a) for a in message.attachments],
    )


def event_out(event: TicketEvent, number: str, *, reveal_pii: bool = False) -> EventOut:
    text = _text_filter(reveal_pii)
    return EventOut(
        id=event.id,
        ticket=number,
        actor_type=event.actor_type,
        actor=event.actor_name,
        action=event.action,
        field=event.field,
        old=text(event.old_value) if event.old_value else event.old_value,
        new=text(event.new_value) if event.new_value else event.new_value,
        data=event.data if reveal_pii else mask_json(event.data),
        created_at=event.created_at,
    )
