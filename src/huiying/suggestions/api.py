"""The suggestion pool over HTTP: groups with their counts (any ticket reader), staff votes, moving
a suggestion between groups (ticket writers), and the product decision (suggestion:decide)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.http.deps import DB, PathId, Staff
from huiying.http.responses import json_model
from huiying.suggestions import queries, service
from huiying.suggestions.schemas import (
    DecisionIn,
    GroupDetailOut,
    GroupList,
    GroupOut,
    SuggestionStatus,
    TicketIn,
    VoteOut,
    detail_out,
    group_out,
)
from huiying.tickets.access import get_ticket_for

router = APIRouter(prefix="/api/v1", tags=["suggestions"])


@router.get("/suggestions", response_model=GroupList)
def list_groups(
    db: DB,
    actor: Staff,
    status: SuggestionStatus | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> Response:
    """The pool's groups, most users first; `status` and a words-in-the-title `q` narrow it."""
    access.require(actor, Permission.TICKET_READ)
    with db.read() as session:
        rows = queries.list_groups(session, actor=actor, status=status, q=q, limit=limit)
    return json_model(GroupList(items=[group_out(r) for r in rows]))


@router.get("/suggestions/{group_id}", response_model=GroupDetailOut)
def get_group(group_id: PathId, db: DB, actor: Staff) -> Response:
    """One group with the member tickets the reader may see."""
    access.require(actor, Permission.TICKET_READ)
    with db.read() as session:
        detail = queries.group_detail(session, group_id, actor=actor)
    return json_model(detail_out(detail))


def _vote(group_id: int, db: DB, actor: Staff, *, on: bool) -> Response:
    with db.write() as session:
        group = service.group_for(session, group_id)
        service.vote(session, group, actor=actor, on=on)
        row = queries.group_detail(session, group.id, actor=actor).group
    return json_model(VoteOut(id=row.id, votes=row.votes, voted=row.voted))


@router.post("/suggestions/{group_id}/votes", response_model=VoteOut)
def add_vote(group_id: PathId, db: DB, actor: Staff) -> Response:
    """The caller's +1 of the group: once per staff member (a second changes nothing)."""
    return _vote(group_id, db, actor, on=True)


@router.delete("/suggestions/{group_id}/votes", response_model=VoteOut)
def withdraw_vote(group_id: PathId, db: DB, actor: Staff) -> Response:
    """Withdraw the caller's +1 (none given: nothing changes)."""
    return _vote(group_id, db, actor, on=False)


@router.post("/suggestions/{group_id}/decision", response_model=GroupDetailOut)
def decide(group_id: PathId, body: DecisionIn, db: DB, actor: Staff) -> Response:
    """Planned (with `timeline`), adopted, declined (with `reason`) or open again; each member's
    user is told a new outcome once, through their channel."""
    access.require(actor, Permission.SUGGESTION_DECIDE)
    with db.write() as session:
        group = service.group_for(session, group_id, lock=True)
        service.decide(session, group, status=body.status, timeline=body.timeline, reason=body.reason, actor=actor)
        detail = queries.group_detail(session, group.id, actor=actor)
    return json_model(detail_out(detail))


@router.post("/suggestions/{group_id}/members", response_model=GroupDetailOut)
def move_member(group_id: PathId, body: TicketIn, db: DB, actor: Staff) -> Response:
    """Move a suggestion ticket into this group (the group it leaves goes when emptied)."""
    with db.write() as session:
        ticket = get_ticket_for(session, actor, body.ticket, permission=Permission.TICKET_WRITE)
        group = service.group_for(session, group_id, lock=True)
        service.move(session, ticket, into=group, actor=actor)
        detail = queries.group_detail(session, group.id, actor=actor)
    return json_model(detail_out(detail))


@router.post("/suggestions", status_code=201, response_model=GroupOut)
def split_out(body: TicketIn, db: DB, actor: Staff) -> Response:
    """Split a suggestion ticket out of its group into a new group of its own."""
    with db.write() as session:
        ticket = get_ticket_for(session, actor, body.ticket, permission=Permission.TICKET_WRITE)
        group = service.split(session, ticket, actor=actor)
        row = queries.group_detail(session, group.id, actor=actor).group
    return json_model(group_out(row), status_code=201)
