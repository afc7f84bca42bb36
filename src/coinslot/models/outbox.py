"""The outbox: events for the host app, written in the same transaction as the change they announce.

The sender (`coinslot.outbound.sender`) delivers these rows; a row exists if
and only if its change committed, so the host can never hear of a change that
was rolled back.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from coinslot.db import Base, UtcDateTime
from coinslot.models.lease import Leased
from coinslot.models.types import BigId

__all__ = ["OUTBOX_STATUSES", "OutboxMessage"]

# pending    written with its change, not yet tried (stays so while no host URL is configured)
# sending    leased to a sender until `locked_until` (a sender killed mid-POST: reclaimed after)
# failed     the last attempt got no 2xx; retried at `next_attempt_at`
# delivered  the host answered 2xx
# dead       out of attempts: an alert was raised; `coinslot outbound replay` sends it again
OUTBOX_STATUSES = ("pending", "sending", "failed", "delivered", "dead")


class OutboxMessage(Leased, Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # `webhook-id` of every delivery of this message (msg_<random>): the host dedupes on it. Random
    # rather than the row id, so a fresh database never reuses an id the host already saw.
    webhook_id: Mapped[str] = mapped_column(String(40), unique=True)
    # subscription.created / subscription.updated / order.paid / credits.low / credits.exhausted /
    # payment.failed / alert.raised
    event_type: Mapped[str] = mapped_column(String(100), index=True)
    payload: Mapped[str] = mapped_column(Text)  # JSON object: the envelope's `data`
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # attempts, next_attempt_at, locked_by, locked_until: from `Leased` (claimed via coinslot.leases)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_status_code: Mapped[int | None] = mapped_column(Integer)  # the host's answer; None: no answer
