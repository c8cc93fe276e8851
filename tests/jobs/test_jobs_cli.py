"""`huiying jobs list` (CONTRACT.md): every registered job with its last run and failures."""

from __future__ import annotations

from pathlib import Path

from huiying.db import Database
from huiying.jobs import outbox
from huiying.jobs.models import OutboxJob
from test_cli import huiying, upgraded  # noqa: F401 - the fixture, reused


def test_jobs_list_prints_every_registered_job(upgraded: Path) -> None:  # noqa: F811
    database = Database(f"sqlite:///{upgraded / 'var' / 'huiying.db'}")
    try:
        with database.write() as session:
            outbox.enqueue(session, "deliver_message", {"message_id": 1})
            dead = outbox.enqueue(session, "compliance_alert", {"ticket_id": 1})
            dead.state, dead.attempts, dead.last_error = "dead", 8, "Traceback …\nhttpx.ConnectError: refused\n"
            session.add(OutboxJob(job="triage_train", payload={}, state="pending", attempts=2, last_error="boom"))
    finally:
        database.dispose()
    result = huiying(upgraded, "jobs", "list")
    assert result.returncode == 0, result.stderr
    lines = {line.split("\t")[0]: line.split("\t") for line in result.stdout.splitlines()}
    assert {"deliver_message", "compliance_alert", "triage_train", "send_portal_code"} <= set(lines)
    assert lines["deliver_message"][1:4] == ["on-demand", "last_run=never", "pending=1 running=0 failed=0 dead=0"]
    assert lines["compliance_alert"][3:] == [
        "pending=0 running=0 failed=0 dead=1",
        "last_error=httpx.ConnectError: refused",
    ]
    assert lines["triage_train"][3] == "pending=0 running=0 failed=1 dead=0"
    assert lines["outbox_hand_over"][1] == "every 5s"
    assert lines["outbox_recover_stale"][1:3] == ["every 60s", "last_run=never"]
