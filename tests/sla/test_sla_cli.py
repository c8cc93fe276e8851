"""`huiying sla due` (CONTRACT.md), run as a user would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def huiying(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HUIYING_DATA_DIR": str(tmp_path / "var"), "HUIYING_TIMEZONE": "Asia/Shanghai"}
    env.pop("HUIYING_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "huiying", *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )


def test_sla_due_lines_and_a_missing_year(tmp_path: Path) -> None:
    assert huiying(tmp_path, "db", "upgrade").returncode == 0
    # Friday 17:55 before the Spring Festival, the regular class: the make-up Saturday counts.
    medium = huiying(tmp_path, "sla", "due", "--at", "2026-02-13T09:55:00Z", "--priority", "medium")
    assert medium.returncode == 0, medium.stderr
    assert medium.stdout.splitlines()[-1] == (
        "first_response_due=2026-02-14T14:25:00+08:00 resolution_due=2026-02-25T17:55:00+08:00"
    )
    urgent = huiying(tmp_path, "sla", "due", "--at", "2026-12-05T03:00:00+08:00", "--priority", "urgent",
                     "--category", "technical", "--team", "tech-support")  # fmt: skip
    assert urgent.returncode == 0, urgent.stderr
    assert urgent.stdout.splitlines()[-1] == (
        "first_response_due=2026-12-05T03:10:00+08:00 resolution_due=2026-12-05T05:00:00+08:00"
    )
    missing = huiying(tmp_path, "sla", "due", "--at", "2026-12-31T17:00:00+08:00", "--priority", "medium")
    assert missing.returncode == 2
    assert "2027" in missing.stderr and "first_response_due" not in missing.stdout
