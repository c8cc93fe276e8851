"""The audit log as answers: one entry (personal data masked) and streamed CSV / JSON lines."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from huiying.audit import service
from huiying.audit.models import AuditEntry
from huiying.db import Database
from huiying.kit.masking import mask_text

BATCH = 1000


class EntryOut(BaseModel):
    seq: int
    at: datetime
    actor_type: str
    actor_id: int | None
    actor: str
    action: str
    object_type: str
    object_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    ip: str | None
    hash: str


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list):
        return [_masked(v) for v in value]
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    return value


def entry_out(entry: AuditEntry) -> EntryOut:
    """A chained entry for auditors, who hold no pii:view: quoted personal data is masked."""
    if entry.seq is None or entry.hash is None:
        raise ValueError(f"audit entry {entry.id} is not chained yet")  # search() returns none such
    return EntryOut(
        seq=entry.seq,
        at=entry.at,
        actor_type=entry.actor_type,
        actor_id=entry.actor_id,
        actor=entry.actor_name,
        action=entry.action,
        object_type=entry.object_type,
        object_id=entry.object_id,
        before=_masked(entry.before),
        after=_masked(entry.after),
        ip=entry.ip,
        hash=entry.hash,
    )


def rows(db: Database, query: service.AuditQuery, format: str) -> Iterator[str]:
    """The matching entries, newest first, as CSV (with a BOM for spreadsheets) or JSON lines;
    read in batches so an export of millions of entries runs in constant memory."""
    service.chain_all(db)
    columns = list(EntryOut.model_fields)
    if format == "csv":
        buffer = io.StringIO()
        csv.writer(buffer).writerow(columns)
        yield "\ufeff" + buffer.getvalue()
    before: int | None = None
    while True:
        with db.read() as session:
            batch = [
                entry_out(e).model_dump(mode="json")
                for e in service.search(session, query, before_seq=before, limit=BATCH)
            ]
        if not batch:
            return
        before = batch[-1]["seq"]
        if format == "jsonl":
            yield "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in batch)
            continue
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for item in batch:
            writer.writerow(
                [json.dumps(item[c], ensure_ascii=False) if isinstance(item[c], dict) else item[c] for c in columns]
            )
        yield buffer.getvalue()
