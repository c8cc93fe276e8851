"""Where the shared public data sets are: HUIYING_SHARED_DATA, else ../shared/data beside the
checkout, else the workplace's /work/shared/data."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def shared_data_dir() -> Path | None:
    candidates = [os.environ.get("HUIYING_SHARED_DATA"), REPO.parent / "shared" / "data", "/work/shared/data"]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None
