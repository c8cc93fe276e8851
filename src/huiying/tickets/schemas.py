"""The JSON shapes of the ticket API (CONTRACT.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    Field,
    StringConstraints,
)

from huiying.kit.strings import CleanLine, CleanText, InputModel, VisibleText
from huiying.tickets.enums import Channel, Frequency, Priority, SpecialGroup, Status

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,47}$")]
Tag = Annotated[CleanLine, StringConstraints(min_length=1, max_length=48)]
AttachmentId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]


class Strict(InputModel):
    """A request body (see InputModel)."""


class DeviceIn(Strict):
    os: Annotated[CleanLine, Field(max_length=64)] | None = None
    model: Annotated[CleanLine, Field(max_length=64)] | None = None


def _device_from_text(value: Any) -> Any:
    # Some apps send only a model string; accept it as the model.
    return {"model": value} if isinstance(value, str) else value


class LinksIn(Strict):
    """Things the feedback is about, so an agent can open them."""

    order_no: Annotated[CleanLine, Field(max_length=64)] | None = None
    room_id: Annotated[CleanLine, Field(max_length=64)] | None = None
    product_url: Annotated[CleanLine, Field(max_length=500)] | None = None
    profile_id: Annotated[CleanLine, Field(max_length=64)] | None = None
    url: Annotated[CleanLine, Field(max_length=500)] | None = None


class FeedbackIn(Strict):
    """Public intake: what an app, a web form or an integration sends."""

    channel: Channel = Channel.APP
    description: Annotated[VisibleText, Field(min_length=1, max_length=20_000)]
    title: Annotated[CleanLine, Field(max_length=200)] | None = None
    user_id: Annotated[CleanLine, Field(max_length=128)] | None = None
    user_name: Annotated[CleanLine, Field(max_length=100)] | None = None
    contact: Annotated[CleanLine, Field(max_length=254)] | None = None
    category: Slug | None = None
    subcategory: Slug | None = None
    priority: Priority | None = None
    device: Annotated[DeviceIn | None, BeforeValidator(_device_from_text)] = None
    app_version: Annotated[CleanLine, Field(max_length=32)] | None = None
    city: Annotated[CleanLine, Field(max_length=64)] | None = None
    links: LinksIn | None = None
    attachments: Annotated[list[AttachmentId], Field(max_length=20)] = []
    vip: bool = False
    special_group: SpecialGroup | None = None
    occurred_at: AwareDatetime | None = None
    frequency: Frequency | None = None
    source_ref: Annotated[CleanLine, Field(max_length=255)] | None = None
    tags: Annotated[list[Tag], Field(max_length=20)] = []


class FeedbackCreated(BaseModel):
    number: str
    status: Status
    created_at: datetime
    portal_url: str


class DeviceOut(BaseModel):
    os: str | None
    model: str | None


class AttachmentOut(BaseModel):
    id: str
    filename: str
    content_type: str
    size: int
    url: str


class TicketOut(BaseModel):
    number: str
    status: Status
    priority: Priority
    category: str | None
    subcategory: str | None
    sentiment: str | None
    language: str | None
    needs_refinement: bool
    team: str | None
    assignee: str | None
    channel: str
    source_ref: str | None
    user_id: str | None
    user_name: str | None
    contact: str | None
    title: str
    description: str
    tags: list[str]
    vip: bool
    special_group: str | None = None
    escalation_level: int
    device: DeviceOut
    app_version: str | None
    city: str | None
    links: dict[str, str]
    occurred_at: datetime | None
    frequency: str | None
    merged_into: str | None
    reopen_count: int
    received_at: datetime
    created_at: datetime
    updated_at: datetime
    first_responded_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    first_response_due: datetime | None
    resolution_due: datetime | None
    # The SLA clock (sla package): the policy applied, why a due time is missing, paused while pending.
    accepted_at: datetime | None = None
    next_response_due: datetime | None = None
    sla_policy: str | None = None
    sla_note: str | None = None
    sla_paused: bool = False
    # The user's satisfaction answer after resolution (surveys), or null.
    csat: str | None = None
    nps: int | None = None
    attachments: list[AttachmentOut] = []
    # What triage decided and why: per field value, confidence, source (rule/model/given), reason.
    triage: dict[str, Any] | None = None


class TicketList(BaseModel):
    items: list[TicketOut]
    next_cursor: str | None


class TicketPatch(Strict):
    """Fields an agent may change; a field left out is unchanged, `null` clears it."""

    title: Annotated[CleanLine, Field(min_length=1, max_length=200)] | None = None
    category: Slug | None = None
    subcategory: Slug | None = None
    priority: Priority | None = None
    team: Slug | None = None
    assignee: Annotated[str, Field(max_length=254)] | None = None
    tags: Annotated[list[Tag], Field(max_length=50)] | None = None
    vip: bool | None = None
    special_group: SpecialGroup | None = None  # null clears it


class StatusIn(Strict):
    status: Status
    note: Annotated[CleanText, Field(max_length=20_000)] | None = None


class EscalateIn(Strict):
    """One level up; `team` hands it to a specialist group; `major_incident` escalates at once."""

    reason: Annotated[VisibleText, Field(min_length=1, max_length=2_000)]
    team: Annotated[str, Field(min_length=1, max_length=48)] | None = None
    major_incident: bool = False


class ReplyIn(Strict):
    body: Annotated[VisibleText, Field(min_length=1, max_length=50_000)]
    internal: bool = False
    attachments: Annotated[list[AttachmentId], Field(max_length=20)] = []


class MergeIn(Strict):
    into: Annotated[str, Field(min_length=1, max_length=32)]


class MessageOut(BaseModel):
    id: int
    kind: str
    author_type: str
    author_name: str
    body: str
    channel: str
    delivery: str
    created_at: datetime
    attachments: list[AttachmentOut]


class EventOut(BaseModel):
    id: int
    ticket: str
    actor_type: str
    actor: str
    action: str
    field: str | None
    old: str | None
    new: str | None
    data: dict[str, Any] | None
    created_at: datetime


class Timeline(BaseModel):
    number: str
    events: list[EventOut]
