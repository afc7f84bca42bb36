"""Subscriptions over time: start, renew, trial end, pause/resume (how one ends:
`subscription_end`)."""

from __future__ import annotations

from typing import Any

from .context import Ctx
from .invoicing import (
    Period,
    add_item_lines,
    add_pending_items,
    finalize,
    new_invoice,
    recompute,
)
from .objects import is_metered, product_name
from .payment import ensure_intent, pay_invoice
from .periods import HOUR_S
from .subscription_end import cancel
from .subscription_shape import item_period_end, period_end_of

__all__ = ["TRIAL_WILL_END_S", "invoice_now", "renew", "resume", "start", "trial_will_end"]

TRIAL_WILL_END_S = 3 * 24 * HOUR_S


def _first_invoice(ctx: Ctx, sub: dict[str, Any], customer: dict[str, Any]) -> dict[str, Any]:
    at = sub["created"]
    invoice = new_invoice(ctx, customer, billing_reason="subscription_create",
                          currency=sub["currency"], created=at, period=(at, at), subscription=sub)
    add_item_lines(ctx, invoice, sub["items"]["data"])
    if sub["status"] == "trialing":
        for line in invoice["lines"]["data"]:
            price = ctx.store.get("price", line["pricing"]["price_details"]["price"]) or {}
            line.update(amount=0, subtotal=0,
                        description=f"Trial period for {product_name(ctx.store, price)}")
    recompute(invoice)
    return invoice


def start(ctx: Ctx, sub: dict[str, Any], *, payment_behavior: str = "allow_incomplete",
          pm: dict[str, Any] | None = None) -> str:
    """Store a new subscription and bill its first invoice; returns the payment outcome."""
    customer = ctx.customer(sub["customer"])
    invoice = _first_invoice(ctx, sub, customer)
    if sub["status"] == "incomplete" and invoice["total"] + int(customer.get("balance") or 0) <= 0:
        sub["status"] = "active"  # nothing to pay: Stripe starts it active
    sub["latest_invoice"] = invoice["id"]
    ctx.store.insert(sub)
    ctx.emit("customer.subscription.created", sub)
    ctx.store.insert(invoice)
    ctx.emit("invoice.created", invoice)
    finalize(ctx, invoice, sub["created"])
    if invoice["status"] != "open":
        return "paid"
    if payment_behavior == "default_incomplete":
        ensure_intent(ctx, invoice)
        return "incomplete"
    return pay_invoice(ctx, invoice, pm=pm, off_session=False)


def _roll_items(sub: dict[str, Any], at: int) -> None:
    for item in sub["items"]["data"]:
        item["current_period_start"] = at
        item["current_period_end"] = item_period_end(sub["billing_cycle_anchor"], item["price"], at)


def _ended_periods(sub: dict[str, Any], at: int) -> dict[str, Period]:
    """The period each metered item ends at `at` (its usage is billed now, in arrears)."""
    return {item["id"]: (int(item["current_period_start"]), at)
            for item in sub["items"]["data"] if is_metered(item["price"])}


def _final_usage_invoice(ctx: Ctx, sub: dict[str, Any], at: int) -> None:
    """A subscription ending at its period end still bills that period's metered usage."""
    ended = _ended_periods(sub, at)
    if sub["status"] not in ("active", "past_due") or not ended:
        return
    customer = ctx.customer(sub["customer"])
    previous_start = min(int(i["current_period_start"]) for i in sub["items"]["data"])
    invoice = new_invoice(ctx, customer, billing_reason="subscription_cycle",
                          currency=sub["currency"], created=at, period=(previous_start, at),
                          subscription=sub, auto_finalize=True)
    metered = [i for i in sub["items"]["data"] if i["id"] in ended]
    add_item_lines(ctx, invoice, metered, ended)
    add_pending_items(ctx, invoice, sub["id"])
    recompute(invoice)
    if invoice["total"] <= 0:
        return
    ctx.store.insert(invoice)
    sub["latest_invoice"] = invoice["id"]
    ctx.emit("invoice.created", invoice)


def renew(ctx: Ctx, sub: dict[str, Any], at: int) -> None:
    """The period ends at `at`: cancel, end the trial, or roll over and draft the invoice."""
    if sub["cancel_at_period_end"] or (sub["cancel_at"] is not None and sub["cancel_at"] <= at):
        _final_usage_invoice(ctx, sub, at)
        cancel(ctx, sub, at, reason="cancellation_requested")
        return
    before = ctx.snapshot(sub)
    customer = ctx.customer(sub["customer"])
    previous_start = min(int(i["current_period_start"]) for i in sub["items"]["data"])
    if sub["status"] == "trialing":
        has_pm = sub.get("default_payment_method") or (
            customer.get("invoice_settings") or {}).get("default_payment_method")
        behaviour = sub["trial_settings"]["end_behavior"]["missing_payment_method"]
        if not has_pm and behaviour == "cancel":
            cancel(ctx, sub, at, reason="cancellation_requested")
            return
        if not has_pm and behaviour == "pause":
            sub["status"] = "paused"
            ctx.store.touch()
            ctx.emit_update("customer.subscription.updated", sub, before)
            ctx.emit("customer.subscription.paused", sub)
            return
        sub["status"] = "active"
    ended = _ended_periods(sub, at)
    _roll_items(sub, at)
    ctx.store.touch()
    ctx.emit_update("customer.subscription.updated", sub, before)
    # An unpaid subscription keeps drafting invoices but Stripe does not attempt them.
    auto = sub["status"] != "unpaid"
    invoice = new_invoice(ctx, customer, billing_reason="subscription_cycle",
                          currency=sub["currency"], created=at, period=(previous_start, at),
                          subscription=sub, auto_finalize=auto)
    invoice["auto_advance"] = auto
    add_item_lines(ctx, invoice, sub["items"]["data"], ended)
    add_pending_items(ctx, invoice, sub["id"])
    recompute(invoice)
    ctx.store.insert(invoice)
    sub["latest_invoice"] = invoice["id"]
    ctx.emit("invoice.created", invoice)


def invoice_now(ctx: Ctx, sub: dict[str, Any], at: int, *, billing_reason: str,
                with_item_lines: bool = False) -> dict[str, Any]:
    """Invoice at once, finalize and pay: the pending items (always_invoice), plus the items'
    own lines when a new cycle starts now (resume, a change of interval)."""
    customer = ctx.customer(sub["customer"])
    invoice = new_invoice(ctx, customer, billing_reason=billing_reason, currency=sub["currency"],
                          created=at, period=(at, at), subscription=sub)
    if with_item_lines:
        add_item_lines(ctx, invoice, sub["items"]["data"])
    add_pending_items(ctx, invoice, sub["id"])
    recompute(invoice)
    ctx.store.insert(invoice)
    sub["latest_invoice"] = invoice["id"]
    ctx.emit("invoice.created", invoice)
    finalize(ctx, invoice, at)
    if invoice["status"] == "open":
        pay_invoice(ctx, invoice)
    return invoice


def trial_will_end(ctx: Ctx, sub: dict[str, Any]) -> None:
    sub["_trial_will_end_sent"] = True
    ctx.store.touch()
    ctx.emit("customer.subscription.trial_will_end", sub)


def resume(ctx: Ctx, sub: dict[str, Any], at: int) -> None:
    """paused → active with a new cycle starting now, invoiced at once."""
    before = ctx.snapshot(sub)
    sub["status"] = "active"
    sub["billing_cycle_anchor"] = at
    _roll_items(sub, at)
    ctx.store.touch()
    ctx.emit_update("customer.subscription.updated", sub, before)
    ctx.emit("customer.subscription.resumed", sub)
    invoice_now(ctx, sub, at, billing_reason="subscription_cycle", with_item_lines=True)


def next_due(sub: dict[str, Any]) -> int:
    return period_end_of(sub)
