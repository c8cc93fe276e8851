"""Server-sent events: new tickets and colleagues' changes appear without a reload.

The stream reads the event log (ids only grow), so it works the same with one process or
many, on SQLite or PostgreSQL, and needs no message broker: each open page costs one indexed
query every POLL_SECONDS.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select

from huiying.accounts import access
from huiying.api.deps import DB
from huiying.db import Database
from huiying.tickets.models import Ticket, TicketEvent
from huiying.web.auth import Page, StaffPage

router = APIRouter(include_in_schema=False)

POLL_SECONDS = 2.0
HEARTBEAT_SECONDS = 15.0
BATCH = 200


def _last_event_id(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.max(TicketEvent.id))) or 0)


def _events_after(db: Database, page: StaffPage, last: int) -> tuple[int, list[dict[str, object]]]:
    with db.read() as session:
        rows = session.execute(
            select(
                TicketEvent.id,
                TicketEvent.action,
                TicketEvent.actor_id,
                Ticket.number,
                Ticket.team_id,
            )
            .join(Ticket, Ticket.id == TicketEvent.ticket_id)
            .where(TicketEvent.id > last)
            .order_by(TicketEvent.id)
            .limit(BATCH)
        ).all()
    newest = rows[-1][0] if rows else last
    visible = [
        {"number": number, "action": action, "mine": actor_id == page.actor.staff_id}
        for _, action, actor_id, number, team_id in rows
        if access.can_see_team(page.actor, team_id)
    ]
    return newest, visible


@router.get("/live")
async def live(request: Request, db: DB, page: Page) -> StreamingResponse:
    """A text/event-stream of `ticket` events the viewer may see."""

    async def stream() -> AsyncIterator[str]:
        last = await run_in_threadpool(_last_event_id, db)
        idle = 0.0
        yield "retry: 5000\n\n"
        while not await request.is_disconnected():
            await asyncio.sleep(POLL_SECONDS)
            last, events = await run_in_threadpool(_events_after, db, page, last)
            for event in events:
                yield f"event: ticket\ndata: {json.dumps(event, ensure_ascii=False)}\n\n"
            idle = 0.0 if events else idle + POLL_SECONDS
            if idle >= HEARTBEAT_SECONDS:
                idle = 0.0
                yield ": keep-alive\n\n"

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
