"""The admin page's "train" button queues a registered job; an unknown target queues nothing."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import PASSWORD, login
from huiying.db import Database
from huiying.jobs import registry
from huiying.jobs.models import OutboxJob
from huiying.kit.roles import Role
from huiying.triage import service as triage


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_train_button_queues_a_triage_training_job(app_client: TestClient, db: Database) -> None:
    login(app_client, db, email="trainer@example.com", role=Role.ADMIN)
    token = re.search(r'name="csrf_token" value="([^"]+)"', app_client.get("/login").text)
    assert token
    data = {"email": "trainer@example.com", "password": PASSWORD, "csrf_token": token.group(1)}
    assert app_client.post("/login", data=data, follow_redirects=False).status_code == 303
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', app_client.get("/admin/triage").text)
    assert csrf

    form = {"csrf_token": csrf.group(1), "action": "train", "target": "nonsense"}
    refused = app_client.post("/admin/triage/models", data=form, follow_redirects=False)
    assert "error=" in refused.headers["location"]
    form["target"] = "priority"
    queued = app_client.post("/admin/triage/models", data=form, follow_redirects=False)
    assert queued.headers["location"] == "/admin/triage?notice=done"

    with db.read() as session:
        jobs = session.scalars(select(OutboxJob)).all()
        assert [(j.job, j.payload["target"], j.state) for j in jobs] == [(triage.TRAIN_JOB, "priority", "pending")]
    assert registry.function_for(triage.TRAIN_JOB) is triage.train_job
