"""Overage on its way to Stripe: one row per `overage` ledger entry, written in the entry's transaction.

The reporter (`coinslot.overage.reporter`) sends each row as a Stripe meter event whose `identifier` is
derived from the entry, so a retry (a lost answer, a worker killed mid-batch) is deduplicated by Stripe
and never billed twice. A row exists if and only if its entry committed.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from coinslot.db import Base, UtcDateTime
from coinslot.models.lease import Leased
from coinslot.models.types import BigId

__all__ = ["OVERAGE_REPORT_STATUSES", "OverageReport"]

# pending    written with its entry, not yet sent
# sending    leased to a reporter until `locked_until`
# failed     the last attempt did not reach Stripe; retried at `next_attempt_at`
# reported   Stripe accepted the meter event (or already had its identifier)
# dead       out of attempts, or refused by Stripe: an alert was raised; replayable
OVERAGE_REPORT_STATUSES = ("pending", "sending", "failed", "reported", "dead")


class OverageReport(Leased, Base):
    __tablename__ = "overage_reports"
    __table_args__ = (Index("ix_overage_reports_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_pk: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    # The meter event's identifier (Stripe dedupes on it): derived from the Stripe customer and the entry id.
    identifier: Mapped[str] = mapped_column(String(100), unique=True)
    credits: Mapped[int] = mapped_column(BigInteger)  # the entry's credits beyond the balance: the value
    occurred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)  # the entry's time: the event's timestamp
    # The end of the billing period the use fell in (revision 0012): a report sent after that period's
    # invoice was finalized is counted by Stripe in no invoice, so the reporter raises an alert.
    period_end: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # attempts, next_attempt_at, locked_by, locked_until: from `Leased`
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reported_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
