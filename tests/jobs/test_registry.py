"""The job registry: packages register their jobs at wiring time; `jobs` imports no domain code."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest

from huiying import wiring
from huiying.db import Database
from huiying.jobs import registry


def _one(db: Database, payload: dict[str, object]) -> None:
    return None


def _other(db: Database, payload: dict[str, object]) -> None:
    return None


def _tick(db: Database) -> None:
    return None


@pytest.fixture(autouse=True)
def forget_test_jobs() -> object:
    yield
    for name in ("test_job", "test_periodic"):
        registry.unregister(name)


def test_wiring_registers_every_package_job() -> None:
    wiring.install()
    assert {"deliver_message", "compliance_alert", "triage_train", "send_portal_code"} <= set(
        registry.on_demand_names()
    )
    periodic = {job.name: job.every for job in registry.periodic_jobs()}
    assert periodic["outbox_hand_over"] == timedelta(seconds=5)
    assert periodic["outbox_recover_stale"] == timedelta(minutes=1)
    wiring.install()  # a second install (every process start, every test app) changes nothing
    assert {job.name for job in registry.periodic_jobs()} == set(periodic)


def test_registering_the_same_job_twice_is_harmless_but_a_clash_is_refused() -> None:
    registry.register("test_job", _one)
    registry.register("test_job", _one)
    assert registry.function_for("test_job") is _one
    with pytest.raises(ValueError, match="another function"):
        registry.register("test_job", _other)
    with pytest.raises(ValueError, match="other kind"):
        registry.register_periodic("test_job", _tick, every=timedelta(minutes=1))


def test_a_periodic_job_keeps_one_interval() -> None:
    registry.register_periodic("test_periodic", _tick, every=timedelta(minutes=1))
    registry.register_periodic("test_periodic", _tick, every=timedelta(minutes=1))
    with pytest.raises(ValueError, match="differently"):
        registry.register_periodic("test_periodic", _tick, every=timedelta(minutes=2))
    with pytest.raises(ValueError, match="once a second"):
        registry.register_periodic("test_fast", _tick, every=timedelta(milliseconds=10))
    assert registry.function_for("test_periodic") is None  # not an on-demand job


def test_the_jobs_package_imports_no_domain_package() -> None:
    code = (
        "import sys, huiying.jobs, huiying.jobs.models, huiying.jobs.outbox, huiying.jobs.periodic, "
        "huiying.jobs.overview, huiying.jobs.registry\n"
        "print(' '.join(sorted({m.split('.')[1] for m in sys.modules if m.startswith('huiying.')})))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert set(loaded) <= {"jobs", "db", "kit", "config", "errors"}, loaded
