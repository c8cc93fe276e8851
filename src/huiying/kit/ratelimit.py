"""Rate limits with the `limits` library (moving window), memory or Redis storage.

A limit of "0" (or empty) turns a limiter off, so load tests and trusted gateways can lift it.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from huiying.errors import RateLimited


class Limiter:
    """One limit (e.g. 30/minute) applied separately to each key (an IP, a user id, ...)."""

    def __init__(self, spec: str, *, namespace: str, storage_uri: str = "memory://") -> None:
        self.namespace = namespace
        self.item: RateLimitItem | None = None if spec.strip() in ("", "0", "off") else parse(spec)
        self._strategy = MovingWindowRateLimiter(storage_from_string(storage_uri))

    @property
    def enabled(self) -> bool:
        return self.item is not None

    def hit(self, kind: str, key: str | None, *, message: str) -> None:
        """Count one attempt for `key`; raise RateLimited (429, Retry-After) over the limit."""
        if self.item is None or not key:
            return
        if self._strategy.hit(self.item, self.namespace, kind, key):
            return
        stats = self._strategy.get_window_stats(self.item, self.namespace, kind, key)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimited(message, retry_after=retry_after)

    def reset(self) -> None:
        self._strategy.storage.reset()
