"""The one place that reads "now".

Services and cores never call `datetime.now()`: entry layers ask the clock and
pass `now` down, so tests (and stripesim's test clocks, through the demo's
clock control) can move time without patching anything.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Protocol

__all__ = ["Clock", "FixedClock", "ShiftedClock", "SystemClock", "from_unix", "to_unix", "utc"]

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


def from_unix(seconds: int | None) -> dt.datetime | None:
    """Stripe timestamps (unix seconds) to aware UTC datetimes; None stays None."""
    if seconds is None:
        return None
    return dt.datetime.fromtimestamp(int(seconds), utc)


def to_unix(when: dt.datetime) -> int:
    return int(when.timestamp())
