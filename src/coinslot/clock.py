"""The one place that reads "now".

Services and cores never call `datetime.now()`: entry layers ask the clock and
pass `now` down, so tests (and stripesim's test clocks, through the demo's
clock control) can move time without patching anything.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Protocol

__all__ = [
    "Clock",
    "FixedClock",
    "FollowingClock",
    "ShiftedClock",
    "SystemClock",
    "from_unix",
    "to_unix",
    "utc",
]

utc = dt.UTC


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    """Wall-clock time in UTC, timezone-aware."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(utc)


class FixedClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._now = start

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, delta: dt.timedelta) -> None:
        self._now += delta

    def set(self, when: dt.datetime) -> None:
        self._now = when


class ShiftedClock:
    """Wall-clock time plus an offset, moved together with a Stripe test clock (the demo, e2e tests).

    Time keeps running, unlike FixedClock: servers and workers that wait on "now" behave as in production.
    `start` pins where it begins (a test's frozen time), so a story runs the same on any date.
    """

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._offset = dt.timedelta(0)
        self._lock = threading.Lock()
        if start is not None:
            if start.tzinfo is None:
                raise ValueError("ShiftedClock needs a timezone-aware start")
            self.move_to(start)

    def now(self) -> dt.datetime:
        with self._lock:
            return dt.datetime.now(utc) + self._offset

    def move_to(self, when: dt.datetime) -> None:
        with self._lock:
            self._offset = when - dt.datetime.now(utc)


class FollowingClock:
    """Wall-clock time that jumps with a Stripe test clock (COINSLOT_STRIPE_TEST_CLOCK, test mode).

    Every process (API, workers) reads the same test clock, so they agree on "now" with each other
    and with Stripe's objects. Between jumps time runs, as leases and retries need. `refresh()` reads
    the clock (a network call: never inside a transaction); a thread calls it every few seconds and
    the worker before each claim, so an event caused by an advance is applied at the advanced time.
    """

    def __init__(self, read_frozen_s: Callable[[], int]) -> None:
        self._read_frozen_s = read_frozen_s
        self._lock = threading.Lock()
        self._seen_s: int | None = None
        self._offset = dt.timedelta(0)

    def refresh(self) -> None:
        frozen_s = self._read_frozen_s()
        with self._lock:
            if frozen_s != self._seen_s:
                self._seen_s = frozen_s
                self._offset = dt.datetime.fromtimestamp(frozen_s, utc) - dt.datetime.now(utc)

    def now(self) -> dt.datetime:
        with self._lock:
            return dt.datetime.now(utc) + self._offset


def from_unix(seconds: int | None) -> dt.datetime | None:
    """Stripe timestamps (unix seconds) to aware UTC datetimes; None stays None."""
    if seconds is None:
        return None
    return dt.datetime.fromtimestamp(int(seconds), utc)


def to_unix(when: dt.datetime) -> int:
    return int(when.timestamp())
