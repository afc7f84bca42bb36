"""Billing-period arithmetic.

Stripe counts periods from the billing cycle anchor in calendar terms: a
monthly subscription anchored on Jan 31 renews Feb 28/29, then Mar 31 (the
anchor day comes back when the month has it). So each boundary is computed
from the anchor, never from the previous boundary.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

__all__ = ["DAY_S", "HOUR_S", "boundary", "next_boundary"]

HOUR_S = 3600
DAY_S = 86_400
_FIXED_S = {"day": DAY_S, "week": 7 * DAY_S}


def boundary(anchor: int, interval: str, interval_count: int, n: int) -> int:
    """The n-th period boundary after `anchor` (n=0 is the anchor itself)."""
    steps = n * interval_count
    if interval in _FIXED_S:
        return anchor + steps * _FIXED_S[interval]
    months = steps * (12 if interval == "year" else 1)
    start = datetime.fromtimestamp(anchor, UTC)
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return int(start.replace(year=year, month=month, day=day).timestamp())


def next_boundary(anchor: int, interval: str, interval_count: int, after: int) -> int:
    """The first period boundary strictly later than `after`."""
    n = 1
    if interval in _FIXED_S:
        step = _FIXED_S[interval] * interval_count
        n = max(1, (after - anchor) // step + 1)
    elif after > anchor:
        # Skip ahead by whole months approximately, then walk (at most a few steps).
        n = max(1, (after - anchor) // (31 * DAY_S * interval_count * (12 if interval == "year" else 1)))
    while boundary(anchor, interval, interval_count, n) <= after:
        n += 1
    while n > 1 and boundary(anchor, interval, interval_count, n - 1) > after:
        n -= 1
    return boundary(anchor, interval, interval_count, n)
