"""What a failure makes of a row: tried again after a backoff, or dead. Pure, but for the row it sets."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Literal

from coinslot.models.lease import Leased

__all__ = ["RetryPolicy", "backoff_s", "fail"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base_s: float  # the first retry's delay
    cap_s: float  # no delay longer
    max_attempts: int  # dead after this many


def backoff_s(*, base_s: float, cap_s: float, attempts: int, seed: str) -> float:
    """Exponential delay before try `attempts`+1, capped, with jitter between half and all of it.

    The jitter is seeded by the row's own id and the attempt number: spread across rows (no thundering
    herd after an outage) yet the same on every run.
    """
    ceiling = min(cap_s, base_s * float(2 ** max(attempts - 1, 0)))
    rng = random.Random(f"{seed}:{attempts}")
    return ceiling * (0.5 + 0.5 * rng.random())


def fail(row: Leased, *, policy: RetryPolicy, seed: str, now: dt.datetime,
         retriable: bool = True) -> Literal["failed", "dead"]:
    """Release the row after a failed attempt: due again after the backoff, or dead when out of attempts
    or when retrying cannot help (`retriable=False`: the work cannot be done as it is)."""
    dead = not retriable or row.attempts >= policy.max_attempts
    row.status = "dead" if dead else "failed"
    row.locked_by = row.locked_until = None
    delay_s = backoff_s(base_s=policy.base_s, cap_s=policy.cap_s, attempts=row.attempts, seed=seed)
    row.next_attempt_at = None if dead else now + dt.timedelta(seconds=delay_s)
    return "dead" if dead else "failed"
