"""Ticket numbers: unique and increasing per local day, and taking one never waits for another create.

PostgreSQL takes them from a sequence per day (no lock, a rollback leaves a gap); SQLite from
the counter row (one writer at a time; a rollback undoes the bump).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from huiying import wiring
from huiying.config import Settings
from huiying.db import Database
from huiying.jobs import registry
from huiying.kit.actor import SYSTEM
from huiying.kit.clock import frozen
from huiying.tickets import day_sequences, intake, numbering
from huiying.tickets.models import TicketCounter
from huiying.tickets.schemas import FeedbackIn

SHANGHAI = ZoneInfo("Asia/Shanghai")
# 2026-12-02 10:00 in Shanghai; the local day ends at 16:00 UTC.
MORNING = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


def _create(db: Database, settings: Settings, description: str = "充值失败，钱已扣") -> str:
    with db.write() as session:
        return intake.create_ticket(
            session, feedback=FeedbackIn(description=description), actor=SYSTEM, settings=settings
        ).ticket.number


def _take(db: Database, moment: datetime) -> str:
    with db.write() as session:
        return numbering.next_number(session, moment=moment, tz=SHANGHAI, prefix="HY")


def test_creates_get_consecutive_numbers_of_their_local_day(db: Database, settings: Settings) -> None:
    with frozen(MORNING):
        numbers = [_create(db, settings, f"第{i}条反馈") for i in range(3)]
    assert numbers == ["HY261202-0001", "HY261202-0002", "HY261202-0003"]


def test_a_new_local_day_starts_at_0001(db: Database) -> None:
    assert [_take(db, MORNING), _take(db, MORNING)] == ["HY261202-0001", "HY261202-0002"]
    # 16:00 UTC is midnight in Shanghai: the next day, while UTC still says 2 December.
    assert _take(db, datetime(2026, 12, 2, 15, 59, tzinfo=UTC)) == "HY261202-0003"
    assert _take(db, datetime(2026, 12, 2, 16, 0, tzinfo=UTC)) == "HY261203-0001"
    assert _take(db, MORNING) == "HY261202-0004"


def test_on_the_upgrade_day_numbers_continue_after_the_counter_row(db: Database) -> None:
    # What the counter upsert left behind before the upgrade: 41 numbers handed out today.
    with db.write() as session:
        session.add(TicketCounter(day="261202", value=41))
    assert _take(db, MORNING) == "HY261202-0042"
    assert _take(db, MORNING) == "HY261202-0043"


def test_a_rolled_back_create_leaves_a_gap_on_postgresql_only(db: Database, settings: Settings) -> None:
    with frozen(MORNING):
        assert _create(db, settings) == "HY261202-0001"
        with pytest.raises(RuntimeError), db.write() as session:
            intake.create_ticket(session, feedback=FeedbackIn(description="撤回"), actor=SYSTEM, settings=settings)
            raise RuntimeError("the create fails after taking its number")
        following = _create(db, settings)
    # The documented behaviour: nextval is not rolled back (README, "Ticket numbers").
    assert following == ("HY261202-0002" if db.is_sqlite else "HY261202-0003")


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_create_does_not_wait_for_an_open_create_to_commit(db: Database, settings: Settings) -> None:
    # Another process: its own engine, so it checks for the day's sequence itself.
    other = Database(db.url)
    taken: list[str] = []
    errors: list[BaseException] = []

    def second_create() -> None:
        try:
            with other.write() as session:
                # Fail instead of queueing if anything of A's create blocks the number.
                session.execute(text("SET LOCAL lock_timeout = '2s'"))
                taken.append(numbering.next_number(session, moment=MORNING, tz=SHANGHAI, prefix="HY"))
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            errors.append(exc)

    try:
        with frozen(MORNING), db.write() as session:
            # A: the day's first create (so it also makes the sequence), left open.
            first = intake.create_ticket(
                session, feedback=FeedbackIn(description="第一条"), actor=SYSTEM, settings=settings
            ).ticket.number
            thread = threading.Thread(target=second_create)
            thread.start()
            thread.join(timeout=10)
            assert not thread.is_alive(), "B waited for A's transaction"
            assert errors == []
            assert taken == ["HY261202-0002"]  # B committed while A is still open
        assert first == "HY261202-0001"
    finally:
        other.dispose()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_the_periodic_job_makes_tomorrow_and_drops_old_days(db: Database) -> None:
    for day in ("261120", "261125", "261202"):
        day_sequences.create(db.engine, day)
    with frozen(datetime(2026, 12, 2, 6, 0, tzinfo=UTC)):
        day_sequences.prepare_days(db)
    # Kept: the last 7 days and today; made: tomorrow wherever it is (UTC-12 to UTC+14).
    assert day_sequences.days(db.engine) == ["261125", "261202", "261203"]
    assert _take(db, datetime(2026, 12, 3, 2, 0, tzinfo=UTC)) == "HY261203-0001"


def test_the_periodic_job_is_registered(db: Database) -> None:
    wiring.install_jobs()
    assert {job.name: job.every for job in registry.periodic_jobs()}[day_sequences.JOB] == timedelta(hours=1)
    day_sequences.prepare_days(db)  # harmless on SQLite, where there is nothing to prepare


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_rows_inserted_with_their_own_numbers_move_the_sequence_on(db: Database) -> None:
    assert _take(db, MORNING) == "HY261202-0001"
    day_sequences.advance(db.engine, "261202", past=10)  # bench/seed inserted 2..10 itself
    assert _take(db, MORNING) == "HY261202-0011"
    day_sequences.advance(db.engine, "261202", past=5)  # never backwards
    assert _take(db, MORNING) == "HY261202-0012"
