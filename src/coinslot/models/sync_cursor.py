"""How far coinslot has read a Stripe list, and who is reading it now.

One row per list (`stripe_events`): `position` is the `created` time up to which every event Stripe
listed has been stored in the inbox; `locked_by`/`locked_until` lease the reading to one worker at a
time (`coinslot.webhooks.backfill`), and `finished_at` says when the last reading ended.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from coinslot.db import Base, UtcDateTime

__all__ = ["SyncCursor"]


class SyncCursor(Base):
    __tablename__ = "sync_cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int | None] = mapped_column(BigInteger)  # unix seconds, Stripe's `created`
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    locked_by: Mapped[str | None] = mapped_column(String(100))
    locked_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
