"""How a subscription ends: canceled now (asked for, at period end, or after failed
payments), or expired while still incomplete.

Below both `lifecycle` and `dunning`, which end subscriptions: `lifecycle` pays invoices
(`payment`) and `payment` runs `dunning` after each attempt, so dunning's "cancel after the
last retry" cannot reach back up into `lifecycle`.
"""

from __future__ import annotations

from typing import Any

from .context import Ctx
from .invoicing import void
from .periods import HOUR_S

__all__ = ["INCOMPLETE_EXPIRY_S", "cancel", "expire_incomplete"]

INCOMPLETE_EXPIRY_S = 23 * HOUR_S


def cancel(ctx: Ctx, sub: dict[str, Any], at: int, *, reason: str,
           comment: str | None = None, feedback: str | None = None) -> None:
    """→ canceled now, with customer.subscription.deleted."""
    if sub["status"] == "incomplete":
        latest = ctx.store.get("invoice", str(sub.get("latest_invoice")))
        if latest is not None and latest["status"] == "open":
            void(ctx, latest, at)
    sub.update(status="canceled", ended_at=at, canceled_at=sub["canceled_at"] or at)
    sub["cancellation_details"].update(reason=reason)
    if comment is not None:
        sub["cancellation_details"]["comment"] = comment
    if feedback is not None:
        sub["cancellation_details"]["feedback"] = feedback
    ctx.store.touch()
    ctx.emit("customer.subscription.deleted", sub)


def expire_incomplete(ctx: Ctx, sub: dict[str, Any], at: int) -> None:
    """23 h without payment: the open first invoice is voided; terminal state."""
    before = ctx.snapshot(sub)
    latest = ctx.store.get("invoice", str(sub.get("latest_invoice")))
    if latest is not None and latest["status"] == "open":
        pi = ctx.store.get("payment_intent", str(latest.get("_payment_intent")))
        if pi is not None and pi["status"] not in ("succeeded", "canceled"):
            pi.update(status="canceled", canceled_at=at, cancellation_reason="automatic",
                      next_action=None)
            ctx.emit("payment_intent.canceled", pi)
        void(ctx, latest, at)
    sub.update(status="incomplete_expired", ended_at=at, canceled_at=at)
    ctx.store.touch()
    ctx.emit_update("customer.subscription.updated", sub, before)
