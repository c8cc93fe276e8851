"""Distributed mode: Celery workers run the registered jobs that the web processes enqueue.

The task carries only the outbox row id; the worker runs exactly the function the embedded
runner would (`runner.run_job`), which claims the row, so a duplicate delivery is harmless.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from celery import Celery
from kombu.connection import Connection

from huiying.config import get_settings
from huiying.db import Database

TASK_NAME = "huiying.run_job"


def broker_reachable(url: str, *, timeout: float = 2.0) -> bool:
    try:
        with Connection(url, connect_timeout=timeout) as connection:
            connection.ensure_connection(max_retries=1)
        return True
    except Exception:  # noqa: BLE001 - any failure means unreachable
        return False


@lru_cache(maxsize=1)
def worker_database() -> Database:
    """The worker process's database, with the job registry and event handlers installed."""
    from huiying import wiring

    wiring.install()
    return Database(get_settings().resolved_database_url)


def make_celery(broker_url: str, *, queue: str = "celery") -> Celery:
    """The Celery app of web processes, scheduler and workers; all three must name one `queue`."""
    app = Celery("huiying", broker=broker_url)
    app.conf.update(
        task_default_queue=queue,  # where send_task puts jobs, and the one queue workers consume
        task_acks_late=True,  # a worker killed mid-job leaves the message for another
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
    )

    @app.task(name=TASK_NAME)  # type: ignore[untyped-decorator]
    def run_job(job_id: int) -> None:
        from huiying.worker.runner import run_job as run

        run(worker_database(), job_id)

    return app


def dispatcher_for(app: Celery) -> Any:
    """A function that hands an outbox job id to the workers."""

    def dispatch(job_id: int) -> None:
        app.send_task(TASK_NAME, args=[job_id])

    return dispatch
