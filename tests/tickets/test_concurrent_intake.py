"""Ticket numbers and idempotency under real concurrency: 8 processes, one PostgreSQL."""

from __future__ import annotations

import multiprocessing
from collections import defaultdict

import pytest
from sqlalchemy import select

from huiying.config import Settings
from huiying.db import Database
from huiying.kit.actor import SYSTEM
from huiying.tickets import intake
from huiying.tickets.models import Ticket
from huiying.tickets.schemas import FeedbackIn

PROCESSES = 8
PER_PROCESS = 40


def _create_many(url: str, worker: int, count: int, barrier: multiprocessing.synchronize.Barrier) -> list[str]:
    database = Database(url)
    settings = Settings(database_url=url, secret_key="k" * 40)
    barrier.wait()
    numbers = []
    for index in range(count):
        with database.write() as session:
            feedback = FeedbackIn(description=f"worker {worker} ticket {index}")
            numbers.append(
                intake.create_ticket(session, feedback=feedback, actor=SYSTEM, settings=settings).ticket.number
            )
    database.dispose()
    return numbers


def _submit_same_key(url: str, barrier: multiprocessing.synchronize.Barrier) -> str:
    database = Database(url)
    settings = Settings(database_url=url, secret_key="k" * 40)
    barrier.wait()
    with database.write() as session:
        feedback = FeedbackIn(description="the same request, retried from everywhere at once")
        result = intake.create_ticket(
            session,
            feedback=feedback,
            actor=SYSTEM,
            settings=settings,
            idempotency_key="race-key-1",
        )
        number = result.ticket.number
    database.dispose()
    return number


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"], indirect=True)
def test_eight_processes_get_unique_gapless_numbers(db: Database) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        barrier = manager.Barrier(PROCESSES)
        with context.Pool(PROCESSES) as pool:
            results = pool.starmap(_create_many, [(db.url, w, PER_PROCESS, barrier) for w in range(PROCESSES)])
    numbers = [n for chunk in results for n in chunk]
    assert len(numbers) == PROCESSES * PER_PROCESS
    assert len(set(numbers)) == len(numbers), "duplicate ticket numbers"

    by_day: dict[str, list[int]] = defaultdict(list)
    for number in numbers:
        day, sequence = number.split("-")
        by_day[day].append(int(sequence))
    for sequences in by_day.values():
        assert sorted(sequences) == list(range(1, len(sequences) + 1)), "a number is missing"

    with db.read() as session:
        stored = list(session.scalars(select(Ticket.number)))
    assert sorted(stored) == sorted(numbers)


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"], indirect=True)
def test_concurrent_retries_with_one_key_make_one_ticket(db: Database) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        barrier = manager.Barrier(PROCESSES)
        with context.Pool(PROCESSES) as pool:
            numbers = pool.starmap(_submit_same_key, [(db.url, barrier)] * PROCESSES)
    assert len(set(numbers)) == 1
    with db.read() as session:
        assert list(session.scalars(select(Ticket.number))) == [numbers[0]]
