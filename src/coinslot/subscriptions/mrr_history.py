"""The MRR history (models/mrr_change.py), written by the subscription's sync in its transaction.

The monthly amount is the one MRR counts (subscriptions/core.py `paying_monthly_minor`), so the
history's last amounts add up to the figures' MRR; the rules of a row are `core.mrr_moves`.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

from sqlalchemy.orm import Session

from coinslot.customers import test_clocks
from coinslot.models import MrrChange, Subscription
from coinslot.subscriptions.core import Valued, mrr_moves, paying_monthly_minor

__all__ = ["monthly_value", "record_changes"]


def monthly_value(row: Subscription) -> Valued:
    """(currency, exact monthly minor units or None when unknown) of a mirrored row as last synced."""
    value = paying_monthly_minor(status=row.status, period_amount_minor=row.period_amount_minor,
                                 period_discount_minor=row.period_discount_minor, interval=row.interval,
                                 interval_count=row.interval_count)
    return row.currency, value


def record_changes(session: Session, *, row: Subscription, mirrored: Valued | None, last: MrrChange | None,
                   now: dt.datetime) -> int:
    """Append what the sync just changed in the row's monthly amount (`mirrored`: its value before the
    sync, None for a new row; `last`: the newest row of its history, read with the row's lock, None
    without history); returns how many rows were written (0 on a replay).

    Dated on the customer's clock (their Stripe test clock in test mode, as the webhooks' effects are):
    the months count by it. An end is dated when Stripe ended the subscription, so a cancellation
    processed after midnight on the 1st still counts in the month it happened."""
    recorded = (last.currency, Fraction(last.mrr_after_minor_num, last.mrr_after_minor_den)) if last else None
    moves = mrr_moves(recorded=recorded, mirrored=mirrored, synced=monthly_value(row))
    if not moves:
        return 0
    at = test_clocks.time_of(session, customer_id=row.customer_id, now=now)
    for move in moves:
        ended = move.after_minor == 0 and row.ended_at is not None and row.ended_at <= at
        before = move.before_minor
        session.add(MrrChange(
            subscription_id=row.id, customer_id=row.customer_id, currency=move.currency, kind=move.kind,
            at=row.ended_at if ended else at,
            mrr_before_minor_num=before.numerator if before is not None else None,
            mrr_before_minor_den=before.denominator if before is not None else None,
            mrr_after_minor_num=move.after_minor.numerator, mrr_after_minor_den=move.after_minor.denominator,
            created_at=now,
        ))
    return len(moves)
