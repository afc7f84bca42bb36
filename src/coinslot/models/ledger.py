"""The credits ledger: entries (append-only), lots, lot movements, holds and the balance cache.

How the tables relate, and what `coinslot credits verify` proves about them:

    ledger_entries      one row per operation; `entry_id` is the idempotency key.
                        Effects are signed deltas: `available_delta` (spendable credits),
                        `held_delta` (reserved by pending holds), `debt_delta` (owed after a
                        claw-back). `credits` is the unsigned amount the caller asked for.
    credit_lots         where credits live: each grant, rollover, purchase or positive
                        adjustment makes one lot with an expiry (or none).
    credit_movements    every change of a lot's `remaining_credits`, tied to the entry that
                        made it (and to the hold, for the credits a hold drew).
    credit_holds        pending reservations; a hold resolves once (captured, released, expired).
    credit_balances     the cache per customer, and the row every writer locks.

Invariants (checked by `ledger.service.verify`):
    lot.remaining_credits      == sum(movements of the lot)
    entry.available_delta      == sum(movements of the entry)
    balance.available_credits  == sum(entry.available_delta) == sum(lot.remaining_credits)
    balance.held_credits       == sum(entry.held_delta)      == sum(pending holds' credits)
    balance.debt_credits       == sum(entry.debt_delta)
    entries in id order: running sum of available_delta == balance_after
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from coinslot.db import Base, UtcDateTime
from coinslot.models.types import BigId

__all__ = ["CreditBalance", "CreditHold", "CreditLot", "CreditMovement", "LedgerEntry"]


def _where_not_null(column: str) -> dict[str, Any]:
    """A partial index's condition on both databases: the rows without a value have no index entry."""
    condition = text(f"{column} IS NOT NULL")
    return {"postgresql_where": condition, "sqlite_where": condition}


class CreditLot(Base):
    """Credits of one origin with one expiry. Spending draws the lots that expire first."""

    __tablename__ = "credit_lots"
    # No index holds `remaining_credits`: every spend updates it, and on PostgreSQL an update that
    # changes no indexed column stays on its page without new index entries (a HOT update; revision
    # 0013). A customer's live lots are found through `ix_credit_lots_customer_period`.
    __table_args__ = (Index("ix_credit_lots_customer_period", "customer_id", "period_start"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(16))  # grant | rollover | purchase | adjustment
    original_credits: Mapped[int] = mapped_column(BigInteger)
    remaining_credits: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)  # None = never
    period_start: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)  # grant and rollover lots
    source: Mapped[str | None] = mapped_column(String(255), index=True)  # invoice:in_…, checkout:cs_…
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class CreditHold(Base):
    """A reservation of credits before a long job. Resolves at most once."""

    __tablename__ = "credit_holds"
    __table_args__ = (Index("ix_credit_holds_status_expires_at", "status", "expires_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    entry_id: Mapped[str] = mapped_column(String(255), unique=True)  # the entry that created it
    credits: Mapped[int] = mapped_column(BigInteger)
    feature: Mapped[str | None] = mapped_column(String(100))
    unlimited: Mapped[bool] = mapped_column(default=False)  # usage recorded on capture, no credits moved
    status: Mapped[str] = mapped_column(String(16))  # pending | captured | released | expired
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class LedgerEntry(Base):
    """One immutable operation on a customer's credits. Corrections are new entries."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        Index("ix_ledger_entries_customer_created_at", "customer_id", "created_at"),
        Index("ix_ledger_entries_customer_feature_created_at", "customer_id", "feature", "created_at"),
        # The figures' credits granted / consumed since a moment, by kind (revision 0007).
        Index("ix_ledger_entries_kind_created_at", "kind", "created_at"),
        # A period's grant entry found by its lot (revision 0007). Partial (revision 0013): a spend, the
        # most written entry, has no lot and so no index entry to write; readers say `lot_id IS NOT NULL`.
        Index("ix_ledger_entries_lot_id", "lot_id", **_where_not_null("lot_id")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(255), unique=True)  # the idempotency key
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    # grant | purchase | spend | hold | capture | release | refund | expire | adjustment
    kind: Mapped[str] = mapped_column(String(16))
    credits: Mapped[int] = mapped_column(BigInteger)  # what was asked for, >= 0
    available_delta: Mapped[int] = mapped_column(BigInteger)
    held_delta: Mapped[int] = mapped_column(BigInteger, default=0)
    debt_delta: Mapped[int] = mapped_column(BigInteger, default=0)
    balance_after: Mapped[int] = mapped_column(BigInteger)  # available credits after this entry
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("credit_lots.id"))  # the lot made or targeted
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("credit_holds.id"))
    feature: Mapped[str | None] = mapped_column(String(100))
    source: Mapped[str | None] = mapped_column(String(255))
    reason: Mapped[str | None] = mapped_column(String(500))
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 of the request fields
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class CreditMovement(Base):
    """A signed change of one lot's remaining credits, made by one entry."""

    __tablename__ = "credit_movements"
    # Partial (revision 0013): only a hold's movements have a hold, and a spend's need no index entry.
    __table_args__ = (Index("ix_credit_movements_hold_id", "hold_id", **_where_not_null("hold_id")),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_pk: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("credit_lots.id"), index=True)
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("credit_holds.id"))
    credits: Mapped[int] = mapped_column(BigInteger)


class CreditBalance(Base):
    """The balance cache of one customer, and the row every writer locks first."""

    __tablename__ = "credit_balances"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    available_credits: Mapped[int] = mapped_column(BigInteger, default=0)
    held_credits: Mapped[int] = mapped_column(BigInteger, default=0)
    debt_credits: Mapped[int] = mapped_column(BigInteger, default=0)
    # The current period's allowance: the base of the low-balance threshold.
    period_credits: Mapped[int] = mapped_column(BigInteger, default=0)
    version: Mapped[int] = mapped_column(Integer, default=0)  # +1 per entry written
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
