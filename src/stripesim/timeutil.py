"""The one place stripesim reads the wall clock.

Objects not on a test clock use real time (`now()`, int unix seconds).
Objects on a test clock use that clock's `frozen_time`: see
`Store.now_for(customer_id)` and `Store.now_for_clock(clock_id)`.
"""

from __future__ import annotations

import time

__all__ = ["monotonic_s", "now", "wall_s"]


def now() -> int:
    """Real time as Stripe reports it: whole unix seconds."""
    return int(time.time())


def monotonic_s() -> float:
    """For delays and schedules, which must not jump when the wall clock does."""
    return time.monotonic()


def wall_s() -> float:
    """Real time as a float, for schedules that must survive a restart (state file)."""
    return time.time()
