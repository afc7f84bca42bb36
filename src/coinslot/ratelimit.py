"""Rate limits on the public surfaces: token buckets per client address, in each process.

    links      GET /billing/enter (opening a signed link)             COINSLOT_RATE_LIMIT_LINKS_PER_MIN
    public     GET /pricing and GET /v1/plans                         COINSLOT_RATE_LIMIT_PUBLIC_PER_MIN
    webhooks   POST /webhooks/stripe, per source address              COINSLOT_RATE_LIMIT_WEBHOOKS_PER_MIN

A bucket holds `per_min` requests and refills at `per_min` a minute: a client may burst up to a minute's
allowance, then goes at the sustained rate; past it the answer is 429 with Retry-After (the seconds until
the next request would pass). 0 turns a limit off.

In memory, per process, on purpose: these surfaces are public and cheap, and a database write per request
to count them would cost more than what they protect. N API processes allow N times the rate; set the
limits per process. Authenticated /v1 routes are not limited here: their callers hold keys.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["RateLimiter"]

_CLIENTS_MAX = 10_000  # buckets kept per process before idle ones are dropped


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated_s: float


class RateLimiter:
    """Token buckets keyed by (surface, client). Thread-safe: sync routes run in a thread pool."""

    def __init__(self, *, monotonic_s: Callable[[], float] = time.monotonic) -> None:
        self._now_s = monotonic_s
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, surface: str, client: str, *, per_min: int) -> int | None:
        """Take one request from the client's bucket: None when it may go on, else the seconds to wait."""
        if per_min <= 0:
            return None
        rate_per_s = per_min / 60.0
        now_s = self._now_s()
        with self._lock:
            bucket = self._buckets.get((surface, client))
            if bucket is None:
                if len(self._buckets) >= _CLIENTS_MAX:
                    self._drop_idle(now_s)
                bucket = self._buckets[(surface, client)] = _Bucket(tokens=float(per_min), updated_s=now_s)
            bucket.tokens = min(float(per_min), bucket.tokens + (now_s - bucket.updated_s) * rate_per_s)
            bucket.updated_s = now_s
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            return max(1, math.ceil((1.0 - bucket.tokens) / rate_per_s))

    def _drop_idle(self, now_s: float) -> None:
        # A bucket untouched for a minute is full again: forgetting it changes nothing. If every client is
        # active (a flood from many addresses), the oldest half goes: they start again with a full bucket.
        idle = [key for key, bucket in self._buckets.items() if now_s - bucket.updated_s >= 60.0]
        for key in idle:
            del self._buckets[key]
        if len(self._buckets) >= _CLIENTS_MAX:
            by_age = sorted(self._buckets, key=lambda key: self._buckets[key].updated_s)
            for key in by_age[: len(by_age) // 2]:
                del self._buckets[key]
