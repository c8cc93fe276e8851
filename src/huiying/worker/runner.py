"""Running jobs: the same code for the embedded thread and for Celery workers."""

from __future__ import annotations

import logging
import threading
import traceback

from huiying.db import Database
from huiying.jobs import outbox, registry
from huiying.worker import scheduler

log = logging.getLogger(__name__)


def run_job(db: Database, job_id: int) -> bool:
    """Claim and run one job; False if it was not pending (done, or taken by another runner)."""
    with db.write() as session:
        row = outbox.claim(session, job_id)
        if row is None:
            return False
        name, payload = row.job, dict(row.payload)
    error: str | None = None
    function = registry.function_for(name)
    if function is None:
        error = f"unknown job {name!r}"
    else:
        try:
            function(db, payload)
        except Exception:
            error = traceback.format_exc(limit=5)
            log.warning("job %s #%s failed", name, job_id, exc_info=True)
    with db.write() as session:
        outbox.finish(session, job_id, error=error)
    return True


def run_due(db: Database, *, limit: int = 50) -> int:
    """Run every job that is due now; returns how many ran."""
    with db.read() as session:
        ids = outbox.due_ids(session, limit=limit)
    return sum(1 for job_id in ids if run_job(db, job_id))


class EmbeddedRunner:
    """A background thread of the web process that runs jobs when no broker is configured,
    and ticks the periodic jobs (whose leases keep several serve processes from doubling them)."""

    def __init__(self, db: Database, *, poll_seconds: float = 2.0) -> None:
        self._db = db
        self._poll = poll_seconds
        self._owner = scheduler.owner_id("embedded")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="huiying-jobs", daemon=True)

    def start(self) -> None:
        outbox.wakeup.set()  # a first pass at once: jobs left over from before a restart
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        outbox.wakeup.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            outbox.wakeup.wait(self._poll)
            outbox.wakeup.clear()
            try:
                scheduler.tick(self._db, owner=self._owner)
                while not self._stop.is_set() and run_due(self._db) > 0:
                    pass
            except Exception:
                log.exception("embedded job runner failed; retrying")
