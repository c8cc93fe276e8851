"""The audit log for auditors: browse, export, verify."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.audit import service
from huiying.audit.export import EntryOut, entry_out
from huiying.audit.export import rows as export_rows
from huiying.errors import InvalidInput
from huiying.http.deps import DB, QueryId, Staff
from huiying.http.responses import json_model

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


class EntryPage(BaseModel):
    items: list[EntryOut]
    next_cursor: int | None


class VerifyOut(BaseModel):
    ok: bool
    entries: int
    broken_at: int | None
    reason: str | None


def _query(
    actor_id: int | None,
    action: str | None,
    object_type: str | None,
    object_id: str | None,
    since: datetime | None,
    until: datetime | None,
) -> service.AuditQuery:
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput(f"{name} needs a UTC offset, e.g. 2026-11-23T09:00:00+08:00")
    return service.AuditQuery(actor_id, action, object_type, object_id, since, until)


@router.get("", response_model=EntryPage)
def browse(
    db: DB,
    actor: Staff,
    actor_id: QueryId = None,
    action: Annotated[str | None, Query(max_length=64, description="prefix, e.g. `ticket.`")] = None,
    object_type: Annotated[str | None, Query(max_length=32)] = None,
    object_id: Annotated[str | None, Query(max_length=64)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: QueryId = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Response:
    """Entries newest first; `next_cursor` pages backwards in time."""
    access.require(actor, Permission.AUDIT_READ)
    query = _query(actor_id, action, object_type, object_id, since, until)
    service.chain_all(db)
    with db.read() as session:
        rows = service.search(session, query, before_seq=cursor, limit=limit + 1)
        page = EntryPage(
            items=[entry_out(e) for e in rows[:limit]],
            next_cursor=rows[limit - 1].seq if len(rows) > limit else None,
        )
    return json_model(page)


@router.get("/export")
def export(
    db: DB,
    actor: Staff,
    format: Annotated[str, Query(pattern="^(csv|jsonl)$")] = "csv",
    action: Annotated[str | None, Query(max_length=64)] = None,
    object_type: Annotated[str | None, Query(max_length=32)] = None,
    object_id: Annotated[str | None, Query(max_length=64)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> StreamingResponse:
    """The matching entries as CSV or JSON lines, streamed in batches."""
    access.require(actor, Permission.AUDIT_READ)
    query = _query(None, action, object_type, object_id, since, until)
    service.record_now(db, actor=actor, action="audit.exported", object_type="audit", after={"format": format})
    media = "text/csv; charset=utf-8" if format == "csv" else "application/x-ndjson"
    return StreamingResponse(
        export_rows(db, query, format),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="audit-log.{format}"'},
    )


@router.get("/verify", response_model=VerifyOut)
def verify(db: DB, actor: Staff) -> Response:
    """Recompute the whole hash chain (after chaining what waits)."""
    access.require(actor, Permission.AUDIT_READ)
    service.chain_all(db)
    with db.read() as session:
        result = service.verify(session)
    broken = result.broken
    return json_model(
        VerifyOut(
            ok=broken is None,
            entries=result.entries,
            broken_at=broken.seq if broken else None,
            reason=broken.reason if broken else None,
        )
    )
