"""The served-file type: what an adapter needs to send a stored file (HTTP, the web pages).

A value type at the bottom so `huiying.http.responses` does not import the tickets package."""

from __future__ import annotations

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
