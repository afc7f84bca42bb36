"""Upper bounds for integers that callers send (ids, credits, quantities).

Python ints are unbounded but the columns they reach are BIGINT: without a bound at the
edge, `POST /v1/holds/99999999999999999999999/capture` or 10**30 credits failed inside the
driver (an OverflowError on SQLite, NumericValueOutOfRange on PostgreSQL) as a 500.
The API schemas and routes use these in `Path(le=...)` / `Field(le=...)` so such input is a 422.
"""

from __future__ import annotations

__all__ = ["BIGINT_MAX", "CREDITS_MAX", "QUANTITY_MAX"]

BIGINT_MAX = 2**63 - 1  # the largest id a BIGINT primary key can hold
# One movement of credits. Far below BIGINT_MAX so that balances, which add movements up, never overflow.
CREDITS_MAX = 10**12
QUANTITY_MAX = 1_000_000  # one checkout line (Stripe's own limit is 999,999,999)
