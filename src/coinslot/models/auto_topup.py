"""Auto top-up: a customer's consent and saved card, and each top-up charged (or tried) for them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from coinslot.db import Base, UtcDateTime
from coinslot.models.lease import Leased
from coinslot.models.types import BigId

__all__ = ["AUTO_TOPUP_OPEN_STATUSES", "AUTO_TOPUP_STATUSES", "AutoTopup", "AutoTopupSetting"]

# pending    triggered by a spend or hold, not charged yet (the worker charges it, off-session)
# charging   leased to a worker calling Stripe (a worker killed mid-call: reclaimed, same idempotency key)
# failed     Stripe was unreachable; tried again at `next_attempt_at`
# dead       out of attempts: an alert was raised
# succeeded  the PaymentIntent succeeded and the credits are granted (`ledger_entry_id`)
# declined   the card was declined or needs authentication: auto top-up is off for the customer
AUTO_TOPUP_STATUSES = ("pending", "charging", "failed", "dead", "succeeded", "declined")
# At most one of these per customer (a unique index): concurrent spends trigger one top-up.
AUTO_TOPUP_OPEN_STATUSES = ("pending", "charging", "failed")
_OPEN = "status IN ('pending', 'charging', 'failed')"


class AutoTopupSetting(Base):
    """One row per customer who ever started turning auto top-up on.

    `enabled` only with a saved card and the consent (its text, terms and time) the customer gave.
    A setup in progress keeps its Checkout session and the consent it will store once the card is saved.
    A declined top-up turns it off and leaves a notice (`notice_code`, `notice`) for the billing page.
    """

    __tablename__ = "auto_topup_settings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), unique=True)
    enabled: Mapped[bool] = mapped_column(default=False)
    pack_key: Mapped[str | None] = mapped_column(String(100))
    stripe_payment_method_id: Mapped[str | None] = mapped_column(String(255))
    consent_text: Mapped[str | None] = mapped_column(Text)
    consent_terms: Mapped[str | None] = mapped_column(Text)  # JSON: the terms the text states
    consented_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    setup_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    setup_url: Mapped[str | None] = mapped_column(Text)
    notice_code: Mapped[str | None] = mapped_column(String(60))  # card_declined | authentication_required
    notice: Mapped[str | None] = mapped_column(Text)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class AutoTopup(Leased, Base):
    """One top-up: saved when a spend or hold leaves the balance under the threshold (inside that
    transaction), charged off-session by a worker afterwards with an idempotency key made from its id."""

    __tablename__ = "auto_topups"
    __table_args__ = (
        Index("ix_auto_topups_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_auto_topups_customer_id_month", "customer_id", "month"),
        Index("uq_auto_topups_open_customer_id", "customer_id", unique=True,
              sqlite_where=text(_OPEN), postgresql_where=text(_OPEN)),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    trigger_entry_id: Mapped[str] = mapped_column(String(300), unique=True)  # the spend or hold's entry
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM on the customer's clock: the cap's month
    pack_key: Mapped[str] = mapped_column(String(100))
    credits: Mapped[int] = mapped_column(BigInteger)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    stripe_payment_method_id: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    failure_code: Mapped[str | None] = mapped_column(String(60))
    failure_message: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    ledger_entry_id: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
