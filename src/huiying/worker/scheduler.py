"""The scheduler loop: runs the registered periodic jobs that are due, each under a lease.

`huiying scheduler` (distributed mode) and the embedded runner of every `serve` process tick
the same way; the lease in `periodic_jobs` lets exactly one of them run a due job.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import traceback
import uuid

from huiying.db import Database
from huiying.jobs import periodic, registry
from huiying.kit.clock import utcnow

log = logging.getLogger(__name__)


def owner_id(kind: str) -> str:
    """A name for this scheduler in `lease_owner`: which host and process holds a lease."""
    return f"{kind}:{socket.gethostname()[:64]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def tick(db: Database, *, owner: str) -> list[str]:
    """Run every periodic job that is due and whose lease this scheduler took; returns their names."""
    jobs = {job.name: job for job in registry.periodic_jobs()}
    if not jobs:
        return []
    with db.read() as session:
        stale = periodic.out_of_sync(session, list(jobs.values()))
    if stale:
        with db.write() as session:
            periodic.sync(session, list(jobs.values()))
    with db.read() as session:
        due = [name for name in periodic.due_names(session) if name in jobs]
    ran = []
    for name in due:
        job = jobs[name]
        started = utcnow()
        with db.write() as session:  # committed before the run, so other schedulers see the lease
            if not periodic.claim(session, name, owner=owner, lease=job.every, now=started):
                continue
        error: str | None = None
        try:
            job.function(db)
        except Exception:
            error = traceback.format_exc(limit=5)
            log.warning("periodic job %s failed", name, exc_info=True)
        with db.write() as session:
            periodic.record(session, name, owner=owner, started=started, error=error)
        ran.append(name)
    return ran


def run_forever(db: Database, *, interval: float, owner: str) -> None:
    """Tick every `interval` seconds until the process is stopped."""
    while True:
        try:
            tick(db, owner=owner)
        except Exception:
            log.exception("scheduler tick failed; trying again")
        time.sleep(interval)
