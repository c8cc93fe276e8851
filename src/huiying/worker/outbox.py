"""Writing jobs to the outbox and taking due ones out.

A job row is written in the transaction of the change it follows from, so it exists exactly
when the change does. After the commit the runner is woken (embedded mode) or the job is handed
to Celery (distributed mode); a job whose hand-over was lost is still found by the next sweep.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from huiying.db import call_after_commit
from huiying.kit.clock import utcnow
from huiying.worker.models import OutboxJob

MAX_ATTEMPTS = 8
STALE_RUNNING = timedelta(minutes=10)

# Set after a commit that enqueued something; the embedded runner waits on it.
wakeup = threading.Event()
# Distributed mode installs a function that hands a job id to Celery.
dispatcher: Callable[[int], None] | None = None


def _after_commit(job_id: int) -> None:
    if dispatcher is not None:
        try:
            dispatcher(job_id)
        except Exception:  # noqa: BLE001 - the sweep will find the row again
            return
    wakeup.set()


def enqueue(session: Session, job: str, payload: dict[str, Any], *, delay: timedelta | None = None) -> OutboxJob:
    """Add a job that runs after this transaction commits (and `delay` later)."""
    now = utcnow()
    row = OutboxJob(job=job, payload=payload, available_at=now + (delay or timedelta()), created_at=now)
    session.add(row)
    session.flush()
    job_id = row.id
    call_after_commit(session, lambda: _after_commit(job_id))
    return row


def due_ids(session: Session, *, limit: int = 50) -> list[int]:
    """Jobs ready to run now, oldest first, and running ones abandoned by a dead process."""
    now = utcnow()
    session.execute(
        update(OutboxJob)
        .where(OutboxJob.state == "running", OutboxJob.available_at < now - STALE_RUNNING)
        .values(state="pending")
    )
    query = (
        select(OutboxJob.id)
        .where(OutboxJob.state == "pending", OutboxJob.available_at <= now)
        .order_by(OutboxJob.available_at, OutboxJob.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def claim(session: Session, job_id: int) -> OutboxJob | None:
    """Mark a pending job running (one runner wins); None if someone else has it."""
    now = utcnow()
    result = session.execute(
        update(OutboxJob)
        .where(OutboxJob.id == job_id, OutboxJob.state == "pending")
        .values(state="running", attempts=OutboxJob.attempts + 1, available_at=now)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.get(OutboxJob, job_id, populate_existing=True)


def finish(session: Session, job_id: int, *, error: str | None) -> None:
    """Record the outcome: done, or back to pending with a backoff, or failed for good."""
    row = session.get_one(OutboxJob, job_id, populate_existing=True)
    now = utcnow()
    if error is None:
        row.state = "done"
        row.finished_at = now
        row.last_error = None
        return
    row.last_error = error[:2000]
    if row.attempts >= MAX_ATTEMPTS:
        row.state = "failed"
        row.finished_at = now
    else:
        row.state = "pending"
        row.available_at = now + timedelta(seconds=min(2**row.attempts * 5, 3600))
