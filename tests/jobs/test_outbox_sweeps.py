"""The outbox's own periodic jobs: lost hand-overs and jobs left running by a dead process."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from huiying import wiring
from huiying.db import Database
from huiying.jobs import outbox, registry
from huiying.jobs.models import OutboxJob
from huiying.kit.clock import utcnow
from huiying.worker import runner, scheduler

calls: list[dict[str, object]] = []


def _record(db: Database, payload: dict[str, object]) -> None:
    calls.append(payload)


@pytest.fixture(autouse=True)
def recorded() -> Iterator[None]:
    wiring.install()
    calls.clear()
    registry.register("test_record", _record)
    yield
    registry.unregister("test_record")
    outbox.dispatcher = None


def test_a_lost_hand_over_is_handed_over_by_the_next_tick(db: Database) -> None:
    handed: list[int] = []

    def broker_down(job_id: int) -> None:
        raise ConnectionError("broker unreachable")

    outbox.dispatcher = broker_down
    with db.write() as session:
        job_id = outbox.enqueue(session, "test_record", {"n": 1}).id  # its hand-over after commit fails
    outbox.dispatcher = handed.append
    assert "outbox_hand_over" in scheduler.tick(db, owner="scheduler-a")
    # Other periodic jobs of the same tick may queue jobs of their own (e.g. the calendar's
    # missing-year alert): only this job's hand-over is asserted.
    assert handed.count(job_id) == 1
    assert runner.run_job(db, job_id) and calls == [{"n": 1}]


def test_a_job_left_running_by_a_dead_process_runs_again(db: Database) -> None:
    with db.write() as session:
        job_id = outbox.enqueue(session, "test_record", {"n": 2}).id
    with db.write() as session:
        assert outbox.claim(session, job_id) is not None  # a worker took it, then died
        session.get_one(OutboxJob, job_id).available_at = utcnow() - outbox.STALE_RUNNING - timedelta(seconds=1)
    assert runner.run_due(db) == 0  # running: nobody else touches it
    assert "outbox_recover_stale" in scheduler.tick(db, owner="embedded-a")
    assert runner.run_due(db) >= 1  # this job, and any the tick's other periodic jobs queued
    assert calls == [{"n": 2}]
    with db.read() as session:
        row = session.get_one(OutboxJob, job_id)
        assert (row.state, row.attempts) == ("done", 2)
