"""The checkout itself: nothing git tracks is also listed in .gitignore (a tracked file that an
ignore pattern matches is silently left out of `git add` of its folder, and confuses readers)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_no_tracked_file_is_ignored() -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--ignored", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert listed == [], f"tracked but ignored: {listed}"
    assert (ROOT / "docs" / "triage-data.md").exists()
