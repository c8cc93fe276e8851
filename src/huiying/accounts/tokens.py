"""Opaque bearer tokens: random, shown once, stored only as a SHA-256 digest."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from typing import Generic, TypeVar

V = TypeVar("V")

TOKEN_PREFIX = "hy_"  # noqa: S105 - a prefix, not a secret


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(value: str) -> bool:
    """Cheap shape check before touching the database (rejects oversized or foreign tokens)."""
    return value.startswith(TOKEN_PREFIX) and 20 <= len(value) <= 100


class TTLCache(Generic[V]):
    """A small in-process cache with a time limit per entry (the token lookups of api/deps.py).

    A hit is never trusted alone: the caller checks it against the database's rights version
    (accounts/rights.py), so what it saves is the rebuilding, not the check.
    """

    def __init__(self, *, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> V | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] < time.monotonic():
                del self._entries[key]
                return None
            return entry[1]

    def put(self, key: str, value: V, *, not_after: float | None = None) -> None:
        expires = time.monotonic() + self.ttl
        if not_after is not None:
            expires = min(expires, not_after)
        with self._lock:
            self._entries[key] = (expires, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def forget(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
