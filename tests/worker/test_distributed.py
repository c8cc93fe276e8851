"""Distributed mode against a real RabbitMQ: the web process enqueues, `huiying worker` runs.

The broker comes from HUIYING_TEST_BROKER_URL (`.ci/run` sets it). Without it, or when it does
not answer, the test is skipped with a message — except under CI=true, where it fails. Each
test sends to a queue of its own name, so parallel runs on one broker never take each other's
jobs, and deletes that queue afterwards.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from kombu import Connection
from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import IN_CI, login
from helpers import submit
from huiying.app import create_app
from huiying.channels.models import MessageDelivery
from huiying.config import Settings
from huiying.db import Database
from huiying.jobs.models import OutboxJob
from huiying.kit.roles import Role
from huiying.tickets.models import Message, TicketEvent
from huiying.worker.celery_app import broker_reachable

BROKER_ENV = "HUIYING_TEST_BROKER_URL"
WAIT_SECONDS = 25.0


@pytest.fixture(scope="module")
def broker_url() -> str:
    url = os.environ.get(BROKER_ENV)
    problem = None
    if not url:
        problem = f"distributed-mode test skipped: set {BROKER_ENV} (e.g. amqp://guest:guest@127.0.0.1:5672//)"
    elif not broker_reachable(url):
        problem = f"distributed-mode test skipped: no broker answers at {BROKER_ENV}={url}"
    if problem is not None:
        if IN_CI:
            pytest.fail(f"CI=true: {problem.replace('skipped', 'must run')}")
        pytest.skip(problem)
    assert url is not None
    return url


@pytest.fixture
def queue(broker_url: str) -> Iterator[str]:
    name = f"huiying-test-{uuid.uuid4().hex[:12]}"
    yield name
    with Connection(broker_url, connect_timeout=5) as connection:
        channel = connection.default_channel
        channel.queue_delete(name)
        channel.exchange_delete(name)  # Celery declares a direct exchange named after the queue


@pytest.fixture
def worker(broker_url: str, queue: str, db: Database, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A real `huiying worker` process on the test database and the test queue."""
    env = {
        **os.environ,
        "HUIYING_DATABASE_URL": db.url,
        "HUIYING_BROKER_URL": broker_url,
        "HUIYING_BROKER_QUEUE": queue,
        "HUIYING_DATA_DIR": str(tmp_path / "worker-var"),
    }
    log = (tmp_path / "worker.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "huiying", "worker", "--concurrency", "1"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the pool's threads and children end with it
    )
    try:
        yield process
    finally:
        _stop(process)
        log.close()
        if process.returncode not in (0, -signal.SIGTERM, -signal.SIGKILL):
            sys.stderr.write((tmp_path / "worker.log").read_text(errors="replace"))


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)  # Celery's warm shutdown
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


# PostgreSQL only: the database of a distributed install (several processes on several hosts).
@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_reply_enqueued_by_the_web_process_is_delivered_by_a_worker(
    db: Database, tmp_path: Path, broker_url: str, queue: str, worker: subprocess.Popen[bytes]
) -> None:
    settings = Settings(
        data_dir=tmp_path / "var",
        database_url=db.url,
        broker_url=broker_url,
        broker_queue=queue,
        embedded_jobs=False,  # nothing in this process runs jobs: only the worker can
        rate_limit_intake="0",
        rate_limit_login="0",
    )
    with TestClient(create_app(settings, db)) as client:
        admin = login(client, db, email="admin@example.com", role=Role.ADMIN)
        number = submit(client)["number"]
        reply = client.post(
            f"/api/v1/tickets/{number}/replies",
            json={"body": "您好，款项已退回，请查收。", "internal": False},
            headers=admin.headers,
        )
        assert reply.status_code == 201, reply.text

    with db.read() as session:
        assert session.scalars(select(Message.delivery).where(Message.kind == "reply")).all() == ["queued"]
        # Written in the reply's transaction: queued, and nothing sent before the commit.
        assert _deliveries(session) == [("portal", "queued", 0), ("inapp", "queued", 0)]

    deadline = time.monotonic() + WAIT_SECONDS
    state = None
    while time.monotonic() < deadline and worker.poll() is None:
        with db.read() as session:
            state = session.scalar(select(OutboxJob.state).where(OutboxJob.job == "deliver_message"))
        if state == "done":
            break
        time.sleep(0.1)
    assert worker.poll() is None, f"the worker exited with {worker.returncode}: see {tmp_path / 'worker.log'}"
    assert state == "done", f"the worker did not run the job (state {state!r}); log: {tmp_path / 'worker.log'}"

    with db.read() as session:
        assert session.scalars(select(Message.delivery).where(Message.kind == "reply")).all() == ["sent"]
        # The worker published the reply on the portal and said plainly that no push is configured.
        assert _deliveries(session) == [("portal", "sent", 1), ("inapp", "suppressed", 1)]
        actions = session.scalars(
            select(TicketEvent.action).where(TicketEvent.action.in_(("reply_delivered", "reply_not_sent")))
        ).all()
        assert sorted(actions) == ["reply_delivered", "reply_not_sent"]


def _deliveries(session: Session) -> list[tuple[str, str, int]]:
    rows = session.execute(
        select(MessageDelivery.channel, MessageDelivery.status, MessageDelivery.attempts).order_by(MessageDelivery.id)
    )
    return [(channel, status, attempts) for channel, status, attempts in rows]
