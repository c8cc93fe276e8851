"""A job that keeps failing is dead (dead-letter); an admin sees it and retries it (API, page)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import PASSWORD, StaffLogin, login
from huiying.audit.models import AuditEntry
from huiying.db import Database
from huiying.jobs import outbox, registry
from huiying.jobs.models import OutboxJob
from huiying.kit.roles import Role
from huiying.worker import runner

broken = {"on": True}
ran: list[object] = []


def _flaky(db: Database, payload: dict[str, object]) -> None:
    if broken["on"]:
        raise RuntimeError("gateway said 502")
    ran.append(payload["n"])


@pytest.fixture(autouse=True)
def flaky_job() -> Iterator[None]:
    broken["on"] = True
    ran.clear()
    registry.register("test_flaky", _flaky)
    yield
    registry.unregister("test_flaky")


def _dead_job(db: Database) -> int:
    """Enqueue the flaky job and let it fail MAX_ATTEMPTS times (its backoff skipped)."""
    with db.write() as session:
        job_id = outbox.enqueue(session, "test_flaky", {"n": 1}).id
    for _ in range(outbox.MAX_ATTEMPTS):
        with db.write() as session:
            row = session.get_one(OutboxJob, job_id)
            row.available_at = row.created_at
        assert runner.run_job(db, job_id)
    return job_id


def test_a_job_failing_every_attempt_goes_dead_and_stays(db: Database) -> None:
    job_id = _dead_job(db)
    with db.read() as session:
        row = session.get_one(OutboxJob, job_id)
        assert (row.state, row.attempts) == ("dead", outbox.MAX_ATTEMPTS)
        assert "gateway said 502" in (row.last_error or "")
    assert runner.run_due(db) == 0
    assert runner.run_job(db, job_id) is False


def test_an_admin_retries_a_dead_job_through_the_api(app_client: TestClient, db: Database, admin: StaffLogin) -> None:
    job_id = _dead_job(db)
    listing = app_client.get("/api/v1/jobs", headers=admin.headers)
    assert listing.status_code == 200, listing.text
    flaky = next(item for item in listing.json()["items"] if item["name"] == "test_flaky")
    assert (flaky["kind"], flaky["dead"], flaky["pending"]) == ("on_demand", 1, 0)
    assert "gateway said 502" in flaky["last_error"]
    assert [d["id"] for d in listing.json()["dead"]] == [job_id]
    periodic = {item["name"] for item in listing.json()["items"] if item["kind"] == "periodic"}
    assert {"outbox_hand_over", "outbox_recover_stale"} <= periodic

    broken["on"] = False
    answer = app_client.post(f"/api/v1/jobs/{job_id}/retry", headers=admin.headers)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"id": job_id, "job": "test_flaky", "state": "pending", "attempts": 0}
    assert runner.run_due(db) == 1
    assert ran == [1]
    with db.read() as session:
        assert session.get_one(OutboxJob, job_id).state == "done"
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "job.retry")).one()
        assert (audit.object_id, audit.actor_type) == (str(job_id), "staff")

    again = app_client.post(f"/api/v1/jobs/{job_id}/retry", headers=admin.headers)
    assert again.status_code == 409, again.text  # only a dead job can be retried
    missing = app_client.post("/api/v1/jobs/999999/retry", headers=admin.headers)
    assert missing.status_code == 404


def test_only_admins_may_see_or_retry_jobs(app_client: TestClient, db: Database) -> None:
    job_id = _dead_job(db)
    supervisor = login(app_client, db, email="sup@example.com", role=Role.SUPERVISOR)
    assert app_client.get("/api/v1/jobs", headers=supervisor.headers).status_code == 403
    assert app_client.post(f"/api/v1/jobs/{job_id}/retry", headers=supervisor.headers).status_code == 403
    with db.read() as session:
        assert session.get_one(OutboxJob, job_id).state == "dead"


def _web_admin(client: TestClient, db: Database) -> None:
    login(client, db, email="web.admin@example.com", role=Role.ADMIN)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    data = {"email": "web.admin@example.com", "password": PASSWORD, "csrf_token": token.group(1)}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_admin_jobs_page_lists_jobs_and_retries_a_dead_one(app_client: TestClient, db: Database) -> None:
    job_id = _dead_job(db)
    _web_admin(app_client, db)
    page = app_client.get("/admin/jobs?lang=en")
    assert page.status_code == 200
    assert "Background jobs" in page.text and "Dead jobs" in page.text
    for name in ("test_flaky", "deliver_message", "outbox_hand_over"):
        assert f"<code>{name}</code>" in page.text
    assert f'action="/admin/jobs/{job_id}/retry"' in page.text
    assert "RuntimeError: gateway said 502" in page.text
    assert "后台任务" in app_client.get("/admin/jobs?lang=zh").text

    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    broken["on"] = False
    done = app_client.post(f"/admin/jobs/{job_id}/retry", data={"csrf_token": csrf.group(1)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/admin/jobs?notice=done"
    with db.read() as session:
        assert session.get_one(OutboxJob, job_id).state == "pending"
    refused = app_client.post(f"/admin/jobs/{job_id}/retry", data={"csrf_token": csrf.group(1)}, follow_redirects=False)
    assert "error=" in refused.headers["location"]
    assert runner.run_due(db) == 1 and ran == [1]
    assert f'action="/admin/jobs/{job_id}/retry"' not in app_client.get("/admin/jobs").text
