"""The columns of a row that workers claim with a lease (Stripe events, outbox messages).

Shared as a mixin so that `coinslot.leases` can claim from either table with
one tested piece of code; each model keeps its own `status` default.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from coinslot.db import UtcDateTime

__all__ = ["Leased"]


class Leased:
    """status + attempts + when the next try is due + who holds the row and until when."""

    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    locked_by: Mapped[str | None] = mapped_column(String(100))
    locked_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
