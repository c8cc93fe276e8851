"""Periodic jobs: registered, due on their interval, run by one scheduler at a time (a lease)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import update

from huiying.db import Database
from huiying.jobs import periodic, registry
from huiying.jobs.models import PeriodicJob
from huiying.kit.clock import utcnow
from huiying.worker import scheduler

runs: list[str] = []


def _count(db: Database) -> None:
    runs.append("count")


def _slow(db: Database) -> None:
    runs.append("slow")
    started.set()
    release.wait(10)


def _explode(db: Database) -> None:
    raise RuntimeError("mailbox unreachable")


started = threading.Event()
release = threading.Event()


@pytest.fixture
def only(request: pytest.FixtureRequest) -> Iterator[None]:
    """The registry holds just this test's periodic job (the package ones are put back after)."""
    saved = registry.periodic_jobs()
    for job in saved:
        registry.unregister(job.name)
    runs.clear()
    started.clear()
    release.clear()
    name, function = request.param
    registry.register_periodic(name, function, every=timedelta(minutes=1))
    yield
    registry.unregister(name)
    for job in saved:
        registry.register_periodic(job.name, job.function, every=job.every)


def _make_due(db: Database, name: str) -> None:
    with db.write() as session:
        session.execute(update(PeriodicJob).where(PeriodicJob.name == name).values(lease_until=utcnow()))


@pytest.mark.parametrize("only", [("test_count", _count)], indirect=True)
def test_a_periodic_job_runs_once_per_interval(db: Database, only: None) -> None:
    assert scheduler.tick(db, owner="a") == ["test_count"]  # a new job is due at once
    assert scheduler.tick(db, owner="b") == []  # not again within its minute
    with db.read() as session:
        row = session.get_one(PeriodicJob, "test_count")
        assert row.every_seconds == 60 and row.last_run_at is not None and row.failures == 0
        assert row.lease_until is not None and row.lease_until > utcnow() + timedelta(seconds=50)
    _make_due(db, "test_count")
    assert scheduler.tick(db, owner="b") == ["test_count"]
    assert runs == ["count", "count"]


@pytest.mark.parametrize("only", [("test_explode", _explode)], indirect=True)
def test_a_failing_periodic_job_records_its_error_and_backs_off(db: Database, only: None) -> None:
    assert scheduler.tick(db, owner="a") == ["test_explode"]
    with db.read() as session:
        row = session.get_one(PeriodicJob, "test_explode")
        assert row.failures == 1 and "mailbox unreachable" in (row.last_error or "")
        assert row.lease_until is not None and row.lease_until > utcnow() + timedelta(seconds=90)
    _make_due(db, "test_explode")
    scheduler.tick(db, owner="a")
    with db.read() as session:
        assert session.get_one(PeriodicJob, "test_explode").failures == 2


@pytest.mark.parametrize("only", [("test_count", _count)], indirect=True)
def test_two_claimers_at_once_one_wins(db: Database, only: None) -> None:
    """Two schedulers (two processes: a Database each) claim the same due job at the same moment."""
    with db.write() as session:
        periodic.sync(session, registry.periodic_jobs())
    other = Database(db.url)
    barrier = threading.Barrier(2)
    won: list[str] = []

    def claim(database: Database, owner: str) -> None:
        barrier.wait(5)
        with database.write() as session:
            if periodic.claim(session, "test_count", owner=owner, lease=timedelta(minutes=1)):
                won.append(owner)

    try:
        for _ in range(5):  # several rounds: each starts due again
            won.clear()
            threads = [threading.Thread(target=claim, args=(d, o)) for d, o in ((db, "one"), (other, "two"))]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(10)
            assert len(won) == 1, won
            with db.read() as session:
                assert session.get_one(PeriodicJob, "test_count").lease_owner == won[0]
            _make_due(db, "test_count")
    finally:
        other.dispose()


@pytest.mark.parametrize("only", [("test_slow", _slow)], indirect=True)
def test_a_job_still_running_in_one_scheduler_is_not_started_by_another(db: Database, only: None) -> None:
    other = Database(db.url)
    first = threading.Thread(target=scheduler.tick, args=(db,), kwargs={"owner": "one"})
    first.start()
    try:
        assert started.wait(10)
        assert scheduler.tick(other, owner="two") == []  # the running scheduler holds the lease
    finally:
        release.set()
        first.join(10)
        other.dispose()
    assert runs == ["slow"]


@pytest.mark.parametrize("only", [("test_count", _count)], indirect=True)
def test_an_expired_lease_is_taken_over_and_the_late_record_ignored(db: Database, only: None) -> None:
    with db.write() as session:
        periodic.sync(session, registry.periodic_jobs())
    started_at = utcnow()
    with db.write() as session:
        assert periodic.claim(session, "test_count", owner="crashed", lease=timedelta(minutes=1), now=started_at)
    later = started_at + timedelta(minutes=6)  # past the lease of the scheduler that went silent
    with db.write() as session:
        assert periodic.claim(session, "test_count", owner="alive", lease=timedelta(minutes=1), now=later)
    with db.write() as session:
        periodic.record(session, "test_count", owner="crashed", started=started_at, error="too late")
    with db.read() as session:
        row = session.get_one(PeriodicJob, "test_count")
        assert row.lease_owner == "alive" and row.last_error is None and row.last_run_at is None
