"""Server-sent events: new tickets and colleagues' changes appear without a reload.

The stream reads the event log (ids only grow), so it works the same with one process or
many, on SQLite or PostgreSQL, and needs no message broker: each open page costs one indexed
query every POLL_SECONDS, plus a one-row read of its session, so logout ends the stream and a
rights change re-scopes it within one poll, whichever process made the change.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select

from huiying.accounts import access
from huiying.accounts import service as accounts
from huiying.db import Database
from huiying.http.deps import DB
from huiying.kit.actor import Actor
from huiying.tickets.models import Ticket, TicketEvent
from huiying.web import sessions
from huiying.web.auth import Page
from huiying.web.forms import CleanFormRoute

router = APIRouter(include_in_schema=False, route_class=CleanFormRoute)

POLL_SECONDS = 2.0
HEARTBEAT_SECONDS = 15.0
BATCH = 200


def _last_event_id(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.max(TicketEvent.id))) or 0)


@dataclass(frozen=True)
class Viewer:
    """Who the stream is for, and the rights version their rights were read at."""

    actor: Actor
    rights_version: int


def _poll(db: Database, cookie: str, viewer: Viewer, last: int) -> tuple[Viewer | None, int, list[dict[str, object]]]:
    """Events after `last` that the viewer may see now; no viewer once the session has ended.

    The session is checked after the events are read: on PostgreSQL each statement sees the
    latest commits, so an event read before the check cannot postdate a logout the check missed.
    A rights change (teams, role) rebuilds the viewer, and the new rights filter this batch too.
    """
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
        version = sessions.rights_version(session, cookie)
        if version is None:
            return None, last, []
        if version != viewer.rights_version:
            row = sessions.find(session, cookie)
            if row is None:
                return None, last, []
            viewer = Viewer(accounts.actor_for(session, row.user), row.user.rights_version)
    newest = rows[-1][0] if rows else last
    actor = viewer.actor
    visible = [
        {"number": number, "action": action, "mine": actor_id == actor.staff_id}
        for _, action, actor_id, number, team_id in rows
        if access.can_see_team(actor, team_id)
    ]
    return viewer, newest, visible


@router.get("/live")
async def live(request: Request, db: DB, page: Page) -> StreamingResponse:
    """A text/event-stream of `ticket` events the viewer may see; it ends with the session."""
    cookie = request.cookies.get(sessions.COOKIE, "")

    async def stream() -> AsyncIterator[str]:
        viewer = Viewer(page.actor, page.user.rights_version)
        last = await run_in_threadpool(_last_event_id, db)
        idle = 0.0
        yield "retry: 5000\n\n"
        while not await request.is_disconnected():
            await asyncio.sleep(POLL_SECONDS)
            current, last, events = await run_in_threadpool(_poll, db, cookie, viewer, last)
            if current is None:
                return  # logged out, expired or deactivated: the browser's reconnect meets /login
            viewer = current
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
