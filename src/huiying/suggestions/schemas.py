"""The JSON shapes of the suggestion pool's API (CONTRACT.md: `GET /api/v1/suggestions`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from huiying.kit.strings import CleanLine, CleanText, InputModel
from huiying.suggestions import queries, service

SuggestionStatus = Literal["open", "planned", "adopted", "declined"]


class GroupOut(BaseModel):
    id: int
    title: str
    status: SuggestionStatus
    users: int  # distinct users (platform user, else contact, else ticket)
    votes: int  # staff +1s
    voted: bool  # by the one asking
    tickets: int
    timeline: str | None  # planned: the rough timeline the users were told
    reason: str | None  # declined: why not
    updated_at: datetime


class GroupList(BaseModel):
    items: list[GroupOut]


class MemberOut(BaseModel):
    number: str
    title: str
    created_at: datetime


class GroupDetailOut(GroupOut):
    decided_by: str | None  # staff email
    members: list[MemberOut]  # those the reader may see; `tickets` counts them all


class VoteOut(BaseModel):
    id: int
    votes: int
    voted: bool


class DecisionIn(InputModel):
    status: SuggestionStatus
    timeline: Annotated[CleanLine, Field(max_length=service.TIMELINE_CHARS)] | None = None
    reason: Annotated[CleanText, Field(max_length=service.REASON_CHARS)] | None = None


class TicketIn(InputModel):
    ticket: Annotated[CleanLine, Field(min_length=1, max_length=32)]


def group_out(row: queries.GroupRow) -> GroupOut:
    return GroupOut(
        id=row.id,
        title=row.title,
        status=row.status,  # a CHECK constraint keeps it one of them; pydantic checks again
        users=row.users,
        votes=row.votes,
        voted=row.voted,
        tickets=row.tickets,
        timeline=row.timeline,
        reason=row.reason,
        updated_at=row.updated_at,
    )


def detail_out(detail: queries.GroupDetail) -> GroupDetailOut:
    return GroupDetailOut(
        **group_out(detail.group).model_dump(),
        decided_by=detail.decided_by,
        members=[MemberOut(number=m.number, title=m.title, created_at=m.created_at) for m in detail.members],
    )
