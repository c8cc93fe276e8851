"""Item 16.7: the SQLite database and the data directory are private to the server's user."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from huiying.db import Database


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_sqlite_database_and_its_wal_files_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "huiying.db"
    database = Database(f"sqlite:///{path}")
    try:
        with database.write() as session:
            session.execute(text("CREATE TABLE t (x TEXT)"))
            session.execute(text("INSERT INTO t VALUES ('x')"))
        for name in ("huiying.db", "huiying.db-wal", "huiying.db-shm"):
            assert (path.parent / name).exists(), name
            assert _mode(path.parent / name) == 0o600, name
        assert _mode(path.parent) == 0o700
    finally:
        database.dispose()


def test_an_existing_world_readable_database_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    path.touch(mode=0o644)
    os.chmod(path, 0o644)
    database = Database(f"sqlite:///{path}")
    try:
        with database.read() as session:
            session.execute(text("SELECT 1"))
        assert _mode(path) == 0o600
    finally:
        database.dispose()


def test_db_upgrade_makes_a_private_data_directory(tmp_path: Path) -> None:
    env = {**os.environ, "HUIYING_DATA_DIR": str(tmp_path / "var")}
    env.pop("HUIYING_DATABASE_URL", None)
    env.pop("HUIYING_SECRET_KEY", None)
    result = subprocess.run(
        [sys.executable, "-m", "huiying", "db", "upgrade"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    var = tmp_path / "var"
    assert _mode(var) == 0o700
    assert _mode(var / "huiying.db") == 0o600
    assert _mode(var / "secret_key") == 0o600
    for extra in ("huiying.db-wal", "huiying.db-shm"):
        if (var / extra).exists():
            assert _mode(var / extra) == 0o600, extra
