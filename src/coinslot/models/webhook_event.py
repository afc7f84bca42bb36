"""Stripe events as received: the inbox of the webhook pipeline, and each processing attempt.

The row is written before anything is processed (dj-stripe's stored
failures, Polar's inbox): a failure keeps its error and traceback on the row,
so the admin console and `coinslot events` can show and replay it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from coinslot.db import Base, UtcDateTime
from coinslot.models.lease import Leased
from coinslot.models.types import BigId

__all__ = ["EVENT_STATUSES", "WebhookAttempt", "WebhookEvent"]

# received   stored, not yet tried
# processing claimed by a worker until `locked_until` (a lease: expired leases are reclaimed)
# processed  its effects committed together with this mark
# ignored    a type coinslot does not act on (kept for the audit trail)
# failed     the last attempt raised; retried at `next_attempt_at`
# dead       out of attempts (or not applicable as sent): an alert was raised; `events replay` retries it
EVENT_STATUSES = ("received", "processing", "processed", "ignored", "failed", "dead")


class WebhookEvent(Leased, Base):
    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    stripe_event_id: Mapped[str] = mapped_column(String(255), unique=True)
    type: Mapped[str] = mapped_column(String(100), index=True)
    livemode: Mapped[bool] = mapped_column(default=False)
    api_version: Mapped[str | None] = mapped_column(String(64))
    # The id of the object the event is about (data.object.id), to find an object's history.
    object_id: Mapped[str | None] = mapped_column(String(255), index=True)
    payload: Mapped[str] = mapped_column(Text)  # the raw body, exactly as signed
    # event.created, unix seconds; indexed for the claim order and the backfill's starting point
    stripe_created: Mapped[int] = mapped_column(BigInteger, index=True)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # attempts, next_attempt_at, locked_by, locked_until: from `Leased` (claimed via coinslot.leases)
    status: Mapped[str] = mapped_column(String(16), default="received")
    last_error: Mapped[str | None] = mapped_column(Text)
    last_traceback: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class WebhookAttempt(Base):
    """One try at one event: who, when, and how it ended."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("webhook_events.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    worker: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    outcome: Mapped[str] = mapped_column(String(16))  # processed | ignored | failed | dead
    error: Mapped[str | None] = mapped_column(Text)
