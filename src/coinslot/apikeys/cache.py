"""Keys a process has verified lately, trusted for at most `api_key_cache_s` (1 s by default).

Bounded: a flood of distinct secrets empties the cache rather than growing it. An entry is
refused past its key's expiry even inside the second (`get` is given the time)."""

from __future__ import annotations

import datetime as dt
import time

from coinslot.apikeys.service import VerifiedKey

__all__ = ["KeyCache"]

_ENTRIES_MAX = 10_000


class KeyCache:
    def __init__(self) -> None:
        # secret -> (key, monotonic second the entry ends)
        self._entries: dict[str, tuple[VerifiedKey, float]] = {}

    def get(self, secret: str, *, now: dt.datetime) -> VerifiedKey | None:
        found = self._entries.get(secret)
        if found is None or found[1] <= time.monotonic():
            return None
        key = found[0]
        if key.expires_at is not None and key.expires_at <= now:
            return None
        return key

    def put(self, secret: str, key: VerifiedKey, *, ttl_s: float) -> None:
        if ttl_s <= 0:
            return
        if len(self._entries) >= _ENTRIES_MAX:
            self._entries.clear()
        self._entries[secret] = (key, time.monotonic() + ttl_s)
