"""Writing on-demand jobs to the outbox and taking due ones out.

A job row is written in the transaction of the change it follows from, so it exists exactly
when the change does. After the commit the embedded runner is woken or the job is handed to
Celery (`dispatcher`); a job whose hand-over was lost is found by the periodic hand-over sweep.
A job that failed MAX_ATTEMPTS times is `dead` (the dead-letter state) until an admin retries it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from huiying.db import Database, call_after_commit
from huiying.errors import Conflict, NotFound
from huiying.jobs.models import OutboxJob
from huiying.kit.clock import utcnow

MAX_ATTEMPTS = 8
STALE_RUNNING = timedelta(minutes=10)
STATES = ("pending", "running", "done", "dead")

# Set after a commit that enqueued something; the embedded runner waits on it.
wakeup = threading.Event()
# Distributed mode installs a function that hands a job id to Celery.
dispatcher: Callable[[int], None] | None = None


def hand_over(job_id: int) -> None:
    """Pass a committed job to whoever runs jobs in this process (Celery, or the embedded thread)."""
    if dispatcher is not None:
        try:
            dispatcher(job_id)
        except Exception:  # noqa: BLE001 - the hand-over sweep will find the row again
            return
    wakeup.set()


def enqueue(session: Session, job: str, payload: dict[str, Any], *, delay: timedelta | None = None) -> OutboxJob:
    """Add a job that runs after this transaction commits (and `delay` later)."""
    now = utcnow()
    row = OutboxJob(job=job, payload=payload, available_at=now + (delay or timedelta()), created_at=now)
    session.add(row)
    session.flush()
    job_id = row.id
    call_after_commit(session, lambda: hand_over(job_id))
    return row


def due_ids(session: Session, *, limit: int = 50) -> list[int]:
    """Pending jobs ready to run now, oldest first."""
    query = (
        select(OutboxJob.id)
        .where(OutboxJob.state == "pending", OutboxJob.available_at <= utcnow())
        .order_by(OutboxJob.available_at, OutboxJob.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def recover_stale(session: Session) -> int:
    """Put running jobs abandoned by a dead process back to pending; returns how many."""
    result = session.execute(
        update(OutboxJob)
        .where(OutboxJob.state == "running", OutboxJob.available_at < utcnow() - STALE_RUNNING)
        .values(state="pending")
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


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


def backoff(attempts: int) -> timedelta:
    """How long a job waits after its `attempts`-th failure: 10 s, 20 s, 40 s … at most an hour."""
    return timedelta(seconds=min(2**attempts * 5, 3600))


def finish(session: Session, job_id: int, *, error: str | None) -> None:
    """Record the outcome: done, or back to pending after a backoff, or dead after MAX_ATTEMPTS."""
    row = session.get_one(OutboxJob, job_id, populate_existing=True)
    now = utcnow()
    if error is None:
        row.state = "done"
        row.finished_at = now
        row.last_error = None
        return
    row.last_error = error[:2000]
    if row.attempts >= MAX_ATTEMPTS:
        row.state = "dead"
        row.finished_at = now
    else:
        row.state = "pending"
        row.available_at = now + backoff(row.attempts)


def retry(session: Session, job_id: int) -> OutboxJob:
    """Give a dead job a fresh set of attempts, now (the last error stays until it runs)."""
    row = session.get(OutboxJob, job_id, populate_existing=True, with_for_update=True)
    if row is None:
        raise NotFound(f"no job {job_id}")
    if row.state != "dead":
        raise Conflict(f"job {job_id} is {row.state}: only a dead job can be retried")
    row.state = "pending"
    row.attempts = 0
    row.available_at = utcnow()
    row.finished_at = None
    session.flush()
    call_after_commit(session, lambda: hand_over(job_id))
    return row


# --- the periodic jobs of the outbox itself ---------------------------------------------------


def hand_over_due(db: Database) -> None:
    """Periodic: hand every due job over again — one whose hand-over after commit was lost, or a
    retry whose backoff has passed (a duplicate hand-over is harmless: `claim` lets one run it)."""
    with db.read() as session:
        ids = due_ids(session, limit=500)
    for job_id in ids:
        hand_over(job_id)


def recover_stale_job(db: Database) -> None:
    """Periodic: jobs left running by a process that died are run again."""
    with db.write() as session:
        if recover_stale(session):
            call_after_commit(session, wakeup.set)


def register_jobs() -> None:
    from huiying.jobs.registry import register_periodic

    register_periodic("outbox_hand_over", hand_over_due, every=timedelta(seconds=5))
    register_periodic("outbox_recover_stale", recover_stale_job, every=timedelta(minutes=1))
