"""The outbox: jobs exist exactly when their change committed, run once, retry on failure."""

from __future__ import annotations

import time

import pytest

from huiying.db import Database
from huiying.jobs import outbox, registry
from huiying.jobs.models import OutboxJob
from huiying.worker import runner

calls: list[dict[str, object]] = []


def _record(db: Database, payload: dict[str, object]) -> None:
    calls.append(payload)


def _explode(db: Database, payload: dict[str, object]) -> None:
    raise RuntimeError("channel down")


@pytest.fixture(autouse=True)
def test_jobs() -> object:
    calls.clear()
    registry.register("test_record", _record)
    registry.register("test_explode", _explode)
    yield
    registry.unregister("test_record")
    registry.unregister("test_explode")


def test_a_job_runs_once_after_commit(db: Database) -> None:
    with db.write() as session:
        outbox.enqueue(session, "test_record", {"ticket_id": 7})
    assert runner.run_due(db) == 1
    assert calls == [{"ticket_id": 7}]
    assert runner.run_due(db) == 0
    with db.read() as session:
        assert session.query(OutboxJob).one().state == "done"


def test_a_rolled_back_change_leaves_no_job(db: Database) -> None:
    with pytest.raises(RuntimeError), db.write() as session:
        outbox.enqueue(session, "test_record", {"ticket_id": 8})
        raise RuntimeError("the change failed")
    assert runner.run_due(db) == 0
    assert calls == []


def test_a_failing_job_is_retried_later_then_dead(db: Database) -> None:
    with db.write() as session:
        job_id = outbox.enqueue(session, "test_explode", {}).id
    assert runner.run_due(db) == 1
    with db.read() as session:
        row = session.get_one(OutboxJob, job_id)
        assert row.state == "pending" and row.attempts == 1 and "channel down" in (row.last_error or "")
        assert row.available_at > row.created_at
    assert runner.run_due(db) == 0  # not due again yet
    for _ in range(outbox.MAX_ATTEMPTS):
        with db.write() as session:
            session.get_one(OutboxJob, job_id).available_at = session.get_one(OutboxJob, job_id).created_at
        runner.run_due(db)
    with db.read() as session:
        assert session.get_one(OutboxJob, job_id).state == "dead"


def test_a_job_claimed_twice_runs_once(db: Database) -> None:
    with db.write() as session:
        job_id = outbox.enqueue(session, "test_record", {"n": 1}).id
    assert runner.run_job(db, job_id) is True
    assert runner.run_job(db, job_id) is False
    assert len(calls) == 1


def test_the_embedded_runner_is_woken_by_a_commit(db: Database) -> None:
    background = runner.EmbeddedRunner(db, poll_seconds=30)
    background.start()
    try:
        with db.write() as session:
            outbox.enqueue(session, "test_record", {"woken": True})
        deadline = time.monotonic() + 10
        while not calls and time.monotonic() < deadline:
            time.sleep(0.02)
        assert calls == [{"woken": True}]
    finally:
        background.stop()
