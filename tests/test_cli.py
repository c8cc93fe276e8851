"""The `huiying` command line, run as a user would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from huiying.accounts.defaults import DEFAULT_TEAMS
from huiying.cli import server_processes
from huiying.routing.defaults import ROUTING_TEAMS


def huiying(tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HUIYING_DATA_DIR": str(tmp_path / "var")}
    env.pop("HUIYING_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "huiying", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )


@pytest.fixture
def upgraded(tmp_path: Path) -> Path:
    result = huiying(tmp_path, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "var" / "huiying.db").exists()
    return tmp_path


def test_teams_list_shows_the_default_slugs(upgraded: Path) -> None:
    result = huiying(upgraded, "teams", "list")
    assert result.returncode == 0
    slugs = [line.split("\t")[0] for line in result.stdout.splitlines()]
    # accounts' defaults, then the lanes routing's default rules need
    assert slugs == [team.slug for team in DEFAULT_TEAMS] + [team.slug for team in ROUTING_TEAMS]
    for slug in ("tech-support", "content-review", "merchant", "finance", "security", "general"):
        assert slug in slugs


def test_users_create_reads_the_password_from_stdin(upgraded: Path) -> None:
    ok = huiying(
        upgraded,
        "users",
        "create",
        "Agent@Example.com",
        "--role",
        "agent",
        "--team",
        "finance",
        "--team",
        "merchant",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    assert ok.returncode == 0, ok.stderr
    assert "agent@example.com" in ok.stdout and "finance" in ok.stdout

    again = huiying(
        upgraded,
        "users",
        "create",
        "agent@example.com",
        "--role",
        "agent",
        "--password-stdin",
        stdin="another password\n",
    )
    assert again.returncode == 1 and "already exists" in again.stderr
    bad_role = huiying(
        upgraded,
        "users",
        "create",
        "x@example.com",
        "--role",
        "boss",
        "--password-stdin",
        stdin="pw pw pw pw pw\n",
    )
    assert bad_role.returncode == 2 and "agent" in bad_role.stderr
    bad_team = huiying(
        upgraded,
        "users",
        "create",
        "y@example.com",
        "--role",
        "agent",
        "--team",
        "nope",
        "--password-stdin",
        stdin="pw pw pw pw pw\n",
    )
    assert bad_team.returncode == 1 and "nope" in bad_team.stderr
    short = huiying(
        upgraded,
        "users",
        "create",
        "z@example.com",
        "--role",
        "qa",
        "--password-stdin",
        stdin="short\n",
    )
    assert short.returncode == 1 and "10" in short.stderr


def test_bootstrap_creates_one_admin_and_says_how_to_log_in(upgraded: Path) -> None:
    first = huiying(upgraded, "bootstrap")
    assert first.returncode == 0, first.stderr
    password = (upgraded / "var" / "initial_admin_password").read_text().strip()
    assert "admin@huiying.local" in first.stdout and password in first.stdout
    second = huiying(upgraded, "bootstrap")
    assert (upgraded / "var" / "initial_admin_password").read_text().strip() == password
    assert password in second.stdout


def test_demo_loads_tickets_of_every_category(upgraded: Path) -> None:
    result = huiying(upgraded, "demo")
    assert result.returncode == 0, result.stderr
    assert "tickets=300" in result.stdout
    import sqlite3

    connection = sqlite3.connect(upgraded / "var" / "huiying.db")
    categories = {row[0] for row in connection.execute("SELECT DISTINCT category FROM tickets")}
    channels = {row[0] for row in connection.execute("SELECT DISTINCT channel FROM tickets")}
    statuses = {row[0] for row in connection.execute("SELECT DISTINCT status FROM tickets")}
    events = connection.execute("SELECT count(*) FROM ticket_events").fetchone()[0]
    english = connection.execute(
        "SELECT count(*) FROM tickets WHERE title LIKE 'App%' OR title LIKE 'Charged%'"
    ).fetchone()[0]
    connection.close()
    assert categories == {"technical", "content", "commercial", "suggestion", "other"}
    assert {"app", "email", "hotline"} <= channels
    assert {"new", "open", "pending", "resolved", "closed"} <= statuses
    assert events > 300
    assert english > 0


def test_worker_without_a_broker_explains_itself(tmp_path: Path) -> None:
    result = huiying(tmp_path, "worker")
    assert result.returncode == 1
    assert "HUIYING_BROKER_URL" in result.stderr


PG = "postgresql+psycopg://huiying@db.internal/huiying"


@pytest.mark.parametrize(
    ("requested", "database_url", "cores", "expected"),
    [
        (None, PG, 4, 4),  # PostgreSQL: one process per core by default
        (None, PG, None, 1),  # the core count unknown
        (None, "sqlite:///var/huiying.db", 4, 1),  # SQLite: one writer at a time anyway
        (2, PG, 8, 2),  # asked for: as asked
        (3, "sqlite:///var/huiying.db", 8, 3),  # asked for on SQLite too, as before
    ],
)
def test_serve_starts_one_process_per_core_on_postgresql_unless_told(
    requested: int | None, database_url: str, cores: int | None, expected: int
) -> None:
    assert server_processes(requested, database_url=database_url, cores=cores) == expected
