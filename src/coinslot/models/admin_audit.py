"""What operators did in the admin console: one row per action, never updated or deleted."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from coinslot.db import Base, UtcDateTime
from coinslot.models.types import BigId


class AdminAudit(Base):
    """An operator action (login, replay, credits adjustment...), with its target and the reason given."""

    __tablename__ = "admin_audit"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(100))  # "admin" (one operator password) and the client address
    action: Mapped[str] = mapped_column(String(64))  # login, login_failed, replay_event, adjust_credits, ...
    target: Mapped[str | None] = mapped_column(String(255))  # e.g. "event:evt_123", "customer:42"
    detail: Mapped[str] = mapped_column(Text, default="")  # reason and figures, in words
