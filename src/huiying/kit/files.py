"""Files at the bottom: the served-file type (what an adapter needs to send a stored file, kept
here so `huiying.http.responses` does not import the tickets package) and the one way a file is
written whole or not at all."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

# A stored upload is never sniffed into something runnable, nor run as a page of its own.
SERVE_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox"}


@dataclass(frozen=True)
class ServedFile:
    path: Path
    media_type: str
    inline: bool
    filename: str


def write_atomically(path: Path, data: bytes, *, prefix: str = ".tmp-") -> None:
    """Write `data` to `path` through a temporary file in the same folder and a rename, so a
    reader (or a crash) never sees half a file. The temporary file is created 0600."""
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=prefix)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
