"""The schedule of periodic jobs: which are due, a lease so one scheduler runs each, the outcome.

Any number of schedulers may tick at once (several `huiying scheduler` processes, the embedded
runner of every `serve` process): a job runs only in the one whose conditional UPDATE took
its lease. A scheduler that dies mid-run loses the lease when it expires.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from huiying.jobs.models import PeriodicJob
from huiying.jobs.registry import Periodic
from huiying.kit.clock import utcnow
from huiying.kit.sql import dialect_insert

# How long a claimed run may take before another scheduler may take the job over.
MIN_LEASE = timedelta(minutes=5)


def out_of_sync(session: Session, registered: list[Periodic]) -> bool:
    """Whether a registered job lacks its row or has a new interval (checked without writing)."""
    stored = {name: every for name, every in session.execute(select(PeriodicJob.name, PeriodicJob.every_seconds))}
    return any(stored.get(job.name) != int(job.every.total_seconds()) for job in registered)


def sync(session: Session, registered: list[Periodic]) -> None:
    """Give every registered periodic job its row (due at once) and its current interval."""
    stored = {row.name: row for row in session.scalars(select(PeriodicJob))}
    for job in registered:
        seconds = int(job.every.total_seconds())
        row = stored.get(job.name)
        if row is None:
            session.execute(
                dialect_insert(session, PeriodicJob)
                .values(name=job.name, every_seconds=seconds, failures=0)
                .on_conflict_do_nothing(index_elements=["name"])
            )
        elif row.every_seconds != seconds:
            row.every_seconds = seconds
    session.flush()


def due_names(session: Session, *, now: datetime | None = None) -> list[str]:
    """Names of periodic jobs whose lease (or wait until the next run) has passed."""
    now = now or utcnow()
    query = select(PeriodicJob.name).where(or_(PeriodicJob.lease_until.is_(None), PeriodicJob.lease_until < now))
    return list(session.scalars(query.order_by(PeriodicJob.name)))


def claim(session: Session, name: str, *, owner: str, lease: timedelta, now: datetime | None = None) -> bool:
    """Take the lease of job `name` if it is due; True for exactly one of concurrent claimers.

    The claimer's transaction must commit before it runs the job, so others see the lease.
    """
    now = now or utcnow()
    result = session.execute(
        update(PeriodicJob)
        .where(PeriodicJob.name == name, or_(PeriodicJob.lease_until.is_(None), PeriodicJob.lease_until < now))
        .values(lease_owner=owner[:128], lease_until=now + max(lease, MIN_LEASE))
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def record(session: Session, name: str, *, owner: str, started: datetime, error: str | None) -> None:
    """After a run: when it ran, its error (or none), and the next due time as the new lease."""
    row = session.get(PeriodicJob, name, populate_existing=True)
    if row is None or row.lease_owner != owner:
        return  # our lease expired and another scheduler has the job now: its record counts
    now = utcnow()
    row.last_run_at = now
    every = timedelta(seconds=row.every_seconds)
    if error is None:
        row.failures = 0
        row.last_error = None
        row.lease_until = started + every
    else:
        row.failures += 1
        row.last_error = error[:2000]
        # A failing job backs off (up to an hour) rather than failing every tick.
        row.lease_until = now + min(every * 2 ** min(row.failures, 10), max(every, timedelta(hours=1)))
