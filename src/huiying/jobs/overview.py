"""What `huiying jobs list`, the admin page and the API show: every job, its last run, failures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huiying.jobs import registry
from huiying.jobs.models import OutboxJob, PeriodicJob


@dataclass(frozen=True)
class JobSummary:
    name: str
    kind: str  # "on_demand" or "periodic"
    every_seconds: int | None
    last_run_at: datetime | None
    pending: int  # waiting for their first run
    failed: int  # failed at least once, waiting to retry
    running: int
    dead: int  # gave up: an admin may retry them
    last_error: str | None


def summaries(session: Session) -> list[JobSummary]:
    """Every registered job (and any name still in the outbox), on-demand first, by name."""
    counts: dict[tuple[str, str], int] = {}
    last_run: dict[str, datetime] = {}
    rows = session.execute(
        select(
            OutboxJob.job,
            OutboxJob.state,
            OutboxJob.last_error.is_not(None),
            func.count(),
            func.max(OutboxJob.finished_at),
        ).group_by(OutboxJob.job, OutboxJob.state, OutboxJob.last_error.is_not(None))
    ).all()
    for name, state, has_error, count, finished in rows:
        bucket = "failed" if state == "pending" and has_error else state
        counts[(name, bucket)] = counts.get((name, bucket), 0) + int(count)
        if finished is not None and (name not in last_run or finished > last_run[name]):
            last_run[name] = finished
    periodic = {row.name: row for row in session.scalars(select(PeriodicJob))}
    registered_periodic = {job.name for job in registry.periodic_jobs()}
    on_demand = sorted(set(registry.on_demand_names()) | ({name for name, _ in counts} - registered_periodic))

    def outbox_summary(name: str) -> JobSummary:
        last_error = session.scalar(
            select(OutboxJob.last_error)
            .where(OutboxJob.job == name, OutboxJob.last_error.is_not(None))
            .order_by(OutboxJob.id.desc())
            .limit(1)
        )
        return JobSummary(
            name=name,
            kind="on_demand",
            every_seconds=None,
            last_run_at=last_run.get(name),
            pending=counts.get((name, "pending"), 0),
            failed=counts.get((name, "failed"), 0),
            running=counts.get((name, "running"), 0),
            dead=counts.get((name, "dead"), 0),
            last_error=last_error,
        )

    def periodic_summary(job: registry.Periodic) -> JobSummary:
        row = periodic.get(job.name)
        return JobSummary(
            name=job.name,
            kind="periodic",
            every_seconds=int(job.every.total_seconds()),
            last_run_at=row.last_run_at if row else None,
            pending=0,
            failed=row.failures if row else 0,
            running=0,
            dead=0,
            last_error=row.last_error if row else None,
        )

    return [outbox_summary(name) for name in on_demand] + [periodic_summary(job) for job in registry.periodic_jobs()]


def short_error(error: str | None, *, limit: int = 200) -> str | None:
    """The line of a traceback that names the exception (its last non-empty line), shortened."""
    if not error:
        return None
    lines = [line.strip() for line in error.splitlines() if line.strip()]
    return lines[-1][:limit] if lines else None


def dead_jobs(session: Session, *, limit: int = 100) -> list[OutboxJob]:
    """The newest dead jobs, for an admin to look at and retry."""
    query = select(OutboxJob).where(OutboxJob.state == "dead").order_by(OutboxJob.id.desc()).limit(limit)
    return list(session.scalars(query))
