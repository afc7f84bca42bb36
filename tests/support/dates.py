"""Start dates that stories crossing month ends run from: never today's date.

A renewal lands on the end of a 30-day month, a 31-day month, 31 January (February is shorter),
29 February of a leap year, and late December (the year turns); plus an ordinary mid-month day.
Pinned as a Stripe test clock's `frozen_time` (and coinslot's clock with it), never the machine's.
"""

from __future__ import annotations

import datetime as dt

import pytest

__all__ = ["MID_MONTH", "START_DATES", "start_dates"]

MID_MONTH = dt.datetime(2026, 5, 14, 10, 0, tzinfo=dt.UTC)

START_DATES: dict[str, dt.datetime] = {
    "mid-month": MID_MONTH,
    "end-of-30-day-month": dt.datetime(2026, 11, 30, 9, 30, tzinfo=dt.UTC),
    "end-of-31-day-month": dt.datetime(2027, 3, 31, 23, 15, tzinfo=dt.UTC),
    "31-january": dt.datetime(2027, 1, 31, 12, 0, tzinfo=dt.UTC),
    "29-february-leap-year": dt.datetime(2028, 2, 29, 6, 0, tzinfo=dt.UTC),
    "late-december": dt.datetime(2026, 12, 28, 22, 0, tzinfo=dt.UTC),
}


def start_dates() -> pytest.MarkDecorator:
    """`@start_dates()` runs a test once per start date, as its `start_at` argument."""
    return pytest.mark.parametrize("start_at", list(START_DATES.values()), ids=list(START_DATES))
