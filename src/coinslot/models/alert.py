"""Alerts an operator must see: dead webhook events, payments that cannot be mapped, ..."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from coinslot.db import Base, UtcDateTime
from coinslot.models.types import BigId

__all__ = ["Alert"]


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(100), index=True)  # e.g. webhook.dead, refund.unmapped
    message: Mapped[str] = mapped_column(Text)
    # What it is about, so the console can link to it: ("webhook_event", "evt_..."), ("customer", "42").
    subject_type: Mapped[str | None] = mapped_column(String(50))
    subject_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
