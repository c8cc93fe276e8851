"""Background jobs over HTTP, for admins: every job with its last run and failures, and
retrying a dead job (the same as the button on /admin/jobs)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.audit import service as audit
from huiying.http.deps import DB, Staff
from huiying.http.responses import json_model
from huiying.jobs import outbox, overview
from huiying.jobs.models import OutboxJob
from huiying.kit.actor import Actor

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])

JobId = Annotated[int, Path(ge=1, le=2**63 - 1)]


class JobSummaryOut(BaseModel):
    name: str
    kind: str
    every_seconds: int | None
    last_run_at: datetime | None
    pending: int
    running: int
    failed: int
    dead: int
    last_error: str | None


class DeadJobOut(BaseModel):
    id: int
    job: str
    attempts: int
    finished_at: datetime | None
    last_error: str | None


class JobsOut(BaseModel):
    items: list[JobSummaryOut]
    dead: list[DeadJobOut]


class JobOut(BaseModel):
    id: int
    job: str
    state: str
    attempts: int


def dead_out(row: OutboxJob) -> DeadJobOut:
    return DeadJobOut(
        id=row.id,
        job=row.job,
        attempts=row.attempts,
        finished_at=row.finished_at,
        last_error=overview.short_error(row.last_error),
    )


def retry(session: Session, job_id: int, *, actor: Actor) -> OutboxJob:
    """Retry dead job `job_id` now, and say so in the audit log (404 missing, 409 not dead)."""
    row = outbox.retry(session, job_id)
    audit.record(
        session,
        actor=actor,
        action="job.retry",
        object_type="job",
        object_id=str(job_id),
        before={"state": "dead"},
        after={"state": row.state, "job": row.job},
    )
    return row


@router.get("", response_model=JobsOut)
def list_jobs(db: DB, actor: Staff) -> Response:
    """Every registered job (on-demand and periodic) and the newest dead jobs."""
    access.require(actor, Permission.CONFIG_MANAGE)
    with db.read() as session:
        items = [JobSummaryOut(**vars(s)) for s in overview.summaries(session)]
        dead = [dead_out(row) for row in overview.dead_jobs(session)]
    return json_model(JobsOut(items=items, dead=dead))


@router.post("/{job_id}/retry", response_model=JobOut)
def retry_job(job_id: JobId, db: DB, actor: Staff) -> Response:
    """Give a dead job a fresh set of attempts; it runs as soon as a runner is free."""
    access.require(actor, Permission.CONFIG_MANAGE)
    with db.write() as session:
        row = retry(session, job_id, actor=actor)
        answer = JobOut(id=row.id, job=row.job, state=row.state, attempts=row.attempts)
    return json_model(answer)
