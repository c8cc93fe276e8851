"""Killed between sending and recording, the user still gets the message once — with a REAL kill:
the delivery job runs in a process of its own (`python -c`, the job runner as `huiying serve`
runs it) against the test's database, SQLite file or PostgreSQL. The receiving server (the app
platform's push endpoint; an SMTP server) takes the message and, before it answers, tells the
test, which SIGKILLs that process: the message has arrived, the delivery was never recorded
`sent`. Run again after its sending lease, the job sends the same message again — the same push
`id`, the same Message-ID — so the receiving side drops the repeat and the user sees one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from loop_kit import BASE_URL, SECRET, HoldingSmtpSink, Platform, actions, deliveries, drain, mail, new_id
from sqlalchemy import select

from conftest import StaffLogin, login
from helpers import feedback, submit
from huiying.app import create_app
from huiying.channels import registry
from huiying.channels.delivery import SENDING_LEASE, deliver_message
from huiying.channels.email.service import import_one
from huiying.config import Settings
from huiying.db import Database
from huiying.jobs import outbox
from huiying.jobs.models import OutboxJob
from huiying.kit.clock import frozen
from huiying.kit.roles import Role

# The job runner of a process of its own, configured from HUIYING_* like any Huiying process.
SENDER = """
from huiying import wiring
from huiying.config import Settings
from huiying.db import Database
from huiying.worker import runner

settings = Settings()
wiring.install(settings)
db = Database(settings.resolved_database_url)
while runner.run_due(db) > 0:
    pass
"""
ARRIVES_WITHIN = 30.0  # seconds for the process to start and send (a loaded machine)
USER = "li.lei@example.net"
MAIL_FROM = "回应客服 <support@help.example.com>"


@pytest.fixture(autouse=True)
def _no_sender_left() -> Iterator[None]:
    yield
    registry.register("inapp", None)  # the registry is process-wide
    registry.register("email", None)


def _sender_env(db: Database, tmp_path: Path, **channels: str) -> dict[str, str]:
    env = {
        **os.environ,  # HUIYING_SECRET_KEY and HUIYING_TRIAGE_ENABLED as the tests set them
        "HUIYING_DATABASE_URL": db.url,
        "HUIYING_DATA_DIR": str(tmp_path / "sender-var"),
        "HUIYING_BASE_URL": BASE_URL,
        "HUIYING_LOG_LEVEL": "WARNING",
        **{f"HUIYING_{name.upper()}": value for name, value in channels.items()},
    }
    env.pop("HUIYING_BROKER_URL", None)  # the job runs here, not on a worker somewhere
    return env


def _kill_when_received(env: dict[str, str], received: Any, log: Path) -> None:
    """Run the job runner in a process of its own and SIGKILL it once the server has the message
    (the server holds its answer meanwhile, so the process is waiting for it)."""
    with log.open("wb") as output:
        process = subprocess.Popen([sys.executable, "-c", SENDER], env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        arrived = received.wait(ARRIVES_WITHIN)
        still_running = process.poll() is None
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)  # no clean-up, no atexit: as the OOM killer does it
        process.wait(timeout=10)
    assert arrived, f"nothing arrived from the sender: {log.read_text(errors='replace')[-3000:]}"
    assert still_running, f"the sender ended before the kill: {log.read_text(errors='replace')[-3000:]}"
    assert process.returncode == -signal.SIGKILL


def _the_job(db: Database) -> OutboxJob:
    with db.read() as session:
        return session.scalars(select(OutboxJob).where(OutboxJob.job == "deliver_message")).one()


def _after_the_crash(db: Database, killed_at: datetime) -> None:
    """The job again, as the runner does it once the dead process's job is found stale.

    The frozen clock stands for the time passing: past STALE_RUNNING the job counts as abandoned
    (outbox.recover_stale), and by then the delivery's SENDING_LEASE is over too."""
    assert outbox.STALE_RUNNING > SENDING_LEASE
    with frozen(killed_at + outbox.STALE_RUNNING + timedelta(minutes=1)):
        with db.write() as session:
            assert outbox.recover_stale(session) == 1
        drain(db)


def _while_the_lease_holds(db: Database, killed_at: datetime) -> None:
    """Before its lease is over another run sends nothing: the first sender may still be alive."""
    with frozen(killed_at + SENDING_LEASE - timedelta(minutes=1)), pytest.raises(RuntimeError, match="being sent"):
        deliver_message(db, dict(_the_job(db).payload))


def test_a_push_killed_before_it_was_recorded_is_sent_again_with_its_id_and_shown_once(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    platform = Platform(hold=True)
    pushing = settings.model_copy(
        update={"inapp_webhook_url": platform.url, "inapp_webhook_secret": SECRET, "base_url": BASE_URL}
    )
    try:
        with TestClient(create_app(pushing, db), raise_server_exceptions=False) as client:
            staff = login(client, db, email="admin@example.com", role=Role.ADMIN)
            # Real time, not frozen: the process of its own reads the real clock.
            number = str(submit(client, feedback(channel="app", user_id="u30001"))["number"])
            assert platform.requests == [] and _the_job(db).state == "pending"

            env = _sender_env(db, tmp_path, inapp_webhook_url=platform.url, inapp_webhook_secret=SECRET)
            _kill_when_received(env, platform.received, tmp_path / "sender.log")
            killed_at = datetime.now(UTC)
            platform.release()

            (unrecorded,) = _inapp(client, staff, number)
            assert (unrecorded["status"], unrecorded["attempts"], unrecorded["sent_at"]) == ("queued", 1, None)
            assert _the_job(db).state == "running"  # its runner is dead: nobody will finish it
            assert list(platform.shown) == [f"hy-{unrecorded['id']}"]  # the platform has it already

            _while_the_lease_holds(db, killed_at)
            assert len(platform.requests) == 1

            _after_the_crash(db, killed_at)
            (sent,) = _inapp(client, staff, number)
            done = [e["action"] for e in actions(client, staff, number)]
    finally:
        platform.stop()
    push_id = f"hy-{sent['id']}"
    assert (sent["status"], sent["attempts"], sent["error"]) == ("sent", 2, None)
    assert platform.ids() == [push_id, push_id]  # the same push twice ...
    # ... both signed right, the same notice of the same ticket (its words may say "today" anew) ...
    assert platform.statuses == [200, 200]
    assert {(b["kind"], b["number"], b["user_id"]) for b in platform.bodies} == {("received", number, "u30001")}
    assert list(platform.shown) == [push_id]  # ... and the user sees it once
    assert done.count("notice_delivered") == 1 and _the_job(db).state == "done"


def _inapp(client: TestClient, staff: StaffLogin, number: str) -> list[dict[str, Any]]:
    return [d for d in deliveries(client, staff, number) if d["channel"] == "inapp"]


def test_a_mail_killed_before_it_was_recorded_is_sent_again_with_its_message_id_and_read_once(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    sink = HoldingSmtpSink(hold=True)
    sink.start()
    mailing = settings.model_copy(update={"smtp_url": sink.url, "mail_from": MAIL_FROM, "base_url": BASE_URL})
    try:
        with TestClient(create_app(mailing, db), raise_server_exceptions=False) as client:
            staff = login(client, db, email="admin@example.com", role=Role.ADMIN)
            # A mail of just now (an old one gets no acknowledgement): the ticket's acknowledgement is queued.
            raw = mail(sender=USER, message_id=new_id(), date=format_datetime(datetime.now(UTC)))
            outcome = import_one(db, raw, source="test", settings=mailing)
            assert outcome.result == "imported", outcome
            assert outcome.number is not None
            number = outcome.number

            env = _sender_env(db, tmp_path, smtp_url=sink.url, mail_from=MAIL_FROM)
            _kill_when_received(env, sink.received, tmp_path / "sender.log")
            killed_at = datetime.now(UTC)
            sink.release()

            (unrecorded,) = deliveries(client, staff, number)
            assert (unrecorded["kind"], unrecorded["status"], unrecorded["attempts"]) == ("received", "queued", 1)
            assert len(sink.raw) == 1  # the server has the mail

            _while_the_lease_holds(db, killed_at)
            assert len(sink.raw) == 1

            _after_the_crash(db, killed_at)
            (sent,) = deliveries(client, staff, number)
            done = [e["action"] for e in actions(client, staff, number)]
    finally:
        sink.stop()
    assert (sent["status"], sent["attempts"], sent["error"]) == ("sent", 2, None)
    first, again = sink.messages
    assert first["Message-ID"] == again["Message-ID"] and f"[#{number}]" in str(first["Subject"])
    assert [to for _, (to,) in sink.envelopes] == [USER, USER]
    # A mail program shows one mail per Message-ID: the user reads the acknowledgement once.
    inbox = {str(m["Message-ID"]): m for m in sink.messages}
    assert len(inbox) == 1
    assert done.count("notice_delivered") == 1 and _the_job(db).state == "done"
