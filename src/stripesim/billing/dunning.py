"""What paying (or failing to pay) an invoice does to its subscription.

Retries follow a Smart-Retries-like default: 8 attempts within 2 weeks.
After the last one the subscription ends as the account's revenue-recovery
setting says: `canceled` (Stripe's default), `unpaid`, or left `past_due`
(`/_sim/billing/settings` changes it). A subscription's first invoice is
never retried: it stays `incomplete` until paid or 23 h pass. Hard declines
(`cards.HARD_DECLINES`) are not retried either.
"""

from __future__ import annotations

from typing import Any

from ..errors import ParameterInvalid
from ..routing import Call, Router
from .context import Ctx
from .invoicing import subscription_of
from .periods import DAY_S
from .subscription_end import cancel

__all__ = ["RETRY_DELAYS_S", "control_router", "end_of_window", "final_action", "invoice_failed",
           "invoice_paid", "schedule_retry"]

# Delay before attempt n+1 after attempt n fails: 8 attempts over 14 days.
RETRY_DELAYS_S = (1 * DAY_S, 2 * DAY_S, 2 * DAY_S, 2 * DAY_S, 2 * DAY_S, 2 * DAY_S, 3 * DAY_S)
FINAL_ACTIONS = ("cancel", "unpaid", "past_due")
_SETTINGS_KEY = "billing.settings"
control_router = Router()


def final_action(ctx: Ctx) -> str:
    return str(ctx.store.kv.get(_SETTINGS_KEY, {}).get("final_action", "cancel"))


def schedule_retry(invoice: dict[str, Any], at: int, *, hard: bool = False) -> None:
    """Set next_payment_attempt (None once the schedule is used up or for first invoices).

    A hard decline (lost, stolen, expired card...) is not retried; the
    revenue-recovery outcome still waits for the end of the retry window
    (`_dunning_ends_at`), leaving time to pay with another card."""
    attempt = int(invoice["attempt_count"])
    retriable = invoice["billing_reason"] != "subscription_create" and attempt <= len(RETRY_DELAYS_S)
    invoice.pop("_dunning_ends_at", None)
    if retriable and hard:
        invoice["next_payment_attempt"] = None
        invoice["_dunning_ends_at"] = at + sum(RETRY_DELAYS_S[attempt - 1:])
        return
    invoice["next_payment_attempt"] = at + RETRY_DELAYS_S[attempt - 1] if retriable else None


def invoice_paid(ctx: Ctx, invoice: dict[str, Any], at: int) -> None:
    """incomplete / past_due / unpaid → active once the latest invoice is paid."""
    sub = ctx.store.get("subscription", subscription_of(invoice) or "")
    if sub is None or sub["status"] not in ("incomplete", "past_due", "unpaid"):
        return
    if sub.get("latest_invoice") not in (None, invoice["id"]):
        latest = ctx.store.get("invoice", sub["latest_invoice"])
        if latest is not None and latest["status"] == "open":
            return
    before = ctx.snapshot(sub)
    sub["status"] = "active"
    ctx.store.touch()
    ctx.emit_update("customer.subscription.updated", sub, before)


def invoice_failed(ctx: Ctx, invoice: dict[str, Any], at: int) -> None:
    """active → past_due; when no attempt is left, the revenue-recovery outcome."""
    sub = ctx.store.get("subscription", subscription_of(invoice) or "")
    if sub is None or sub["status"] in ("canceled", "incomplete_expired", "incomplete"):
        return
    before = ctx.snapshot(sub)
    if invoice["next_payment_attempt"] is None and not invoice.get("_dunning_ends_at"):
        action = final_action(ctx)
        if action == "cancel":
            cancel(ctx, sub, at, reason="payment_failed")
            return
        sub["status"] = "unpaid" if action == "unpaid" else "past_due"
    elif sub["status"] in ("active", "trialing"):
        sub["status"] = "past_due"
    ctx.store.touch()
    ctx.emit_update("customer.subscription.updated", sub, before)


def end_of_window(ctx: Ctx, invoice: dict[str, Any], at: int) -> None:
    """A hard-declined invoice still unpaid when its retry window closes."""
    invoice.pop("_dunning_ends_at", None)
    ctx.store.touch()
    invoice_failed(ctx, invoice, at)


@control_router.get("/_sim/billing/settings")
def get_settings(call: Call) -> dict[str, Any]:
    return {"final_action": final_action(Ctx(call.sim, call))}


@control_router.post("/_sim/billing/settings")
def set_settings(call: Call) -> dict[str, Any]:
    """`{"final_action": "cancel" | "unpaid" | "past_due"}`: what happens to a subscription
    whose invoice is still unpaid after the last retry (Stripe's revenue-recovery setting)."""
    action = call.params.get("final_action", "cancel")
    if action not in FINAL_ACTIONS:
        raise ParameterInvalid("final_action", f"final_action must be one of {FINAL_ACTIONS}.")
    call.store.kv[_SETTINGS_KEY] = {"final_action": action}
    call.store.touch()
    return {"final_action": action}
