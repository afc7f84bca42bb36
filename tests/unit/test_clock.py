"""The clocks entry layers read "now" from."""

from __future__ import annotations

import datetime as dt

from coinslot.clock import ShiftedClock

NEXT_MONTH = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)


def test_a_shifted_clock_moved_with_a_stripe_test_clock_keeps_running_from_there() -> None:
    clock = ShiftedClock()
    assert abs(clock.now() - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=1)
    clock.move_to(NEXT_MONTH)
    first = clock.now()
    assert dt.timedelta(0) <= first - NEXT_MONTH < dt.timedelta(seconds=1)
    assert clock.now() >= first  # time still passes, as the servers and workers expect
    assert clock.now().tzinfo is dt.UTC
