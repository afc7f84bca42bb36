"""Invoices: build, fill from subscription items and pending invoice items,
finalize (number, customer balance), mark paid, void, mark uncollectible.

The customer balance (negative = credit) is applied at finalization:
amount_due = max(0, total + balance) and what is left becomes the new
balance, so a negative-total proration invoice leaves a credit that the
next invoice consumes, as Stripe does.
"""

from __future__ import annotations

from typing import Any

from ..hosted_urls import base_url
from ..pagination import list_object
from ..store import new_id
from .balance import adjust_balance
from .context import Ctx
from .discount_math import apply_rules
from .discounts import attach_to_invoice, consume_once
from .metering import usage
from .objects import is_metered, line_from_invoice_item, line_from_sub_item, line_from_usage, price_of
from .periods import HOUR_S

__all__ = ["Period", "add_item_lines", "add_pending_items", "finalize", "mark_paid",
           "mark_uncollectible", "new_invoice", "recompute", "subscription_of", "usage_line",
           "void"]

# Stripe waits about an hour after invoice.created before finalizing a renewal.
FINALIZE_DELAY_S = HOUR_S


def new_invoice(ctx: Ctx, customer: dict[str, Any], *, billing_reason: str, currency: str,
                created: int, period: tuple[int, int],
                subscription: dict[str, Any] | None = None,
                auto_finalize: bool = False) -> dict[str, Any]:
    """A draft invoice (not yet stored); lines are added by the caller."""
    invoice_id = new_id("in")
    parent = None
    if subscription is not None:
        parent = {"quote_details": None, "type": "subscription_details",
                  "subscription_details": {"metadata": dict(subscription.get("metadata") or {}),
                                           "subscription": subscription["id"],
                                           "subscription_proration_date": None}}
    invoice: dict[str, Any] = {
        "id": invoice_id, "object": "invoice", "account_country": "US",
        "account_name": "stripesim", "account_tax_ids": None, "amount_due": 0,
        "amount_overpaid": 0, "amount_paid": 0, "amount_remaining": 0, "amount_shipping": 0,
        "application": None, "attempt_count": 0, "attempted": False,
        "auto_advance": auto_finalize or subscription is not None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None,
                          "provider": None, "status": None},
        "automatically_finalizes_at": created + FINALIZE_DELAY_S if auto_finalize else None,
        "billing_reason": billing_reason, "collection_method": "charge_automatically",
        "created": created, "currency": currency, "custom_fields": None,
        "customer": customer["id"], "customer_account": None,
        "customer_address": customer.get("address"), "customer_email": customer.get("email"),
        "customer_name": customer.get("name"), "customer_phone": customer.get("phone"),
        "customer_shipping": customer.get("shipping"),
        "customer_tax_exempt": customer.get("tax_exempt", "none"), "customer_tax_ids": [],
        "default_payment_method": None, "default_source": None, "default_tax_rates": [],
        "description": None, "discounts": [], "due_date": None, "effective_at": None,
        "ending_balance": None, "footer": None, "from_invoice": None,
        "hosted_invoice_url": None, "invoice_pdf": None, "issuer": {"type": "self"},
        "last_finalization_error": None, "latest_revision": None,
        "lines": list_object([], f"/v1/invoices/{invoice_id}/lines"), "livemode": False,
        "metadata": {}, "next_payment_attempt": None, "number": None, "on_behalf_of": None,
        "parent": parent,
        "payment_settings": {"default_mandate": None, "payment_method_options": None,
                             "payment_method_types": None},
        "period_end": period[1], "period_start": period[0],
        "post_payment_credit_notes_amount": 0, "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": {"amount_tax_display": None, "pdf": {"page_size": "auto"},
                      "template": None, "template_version": None},
        "shipping_cost": None, "shipping_details": None, "starting_balance": 0,
        "statement_descriptor": None, "status": "draft",
        "status_transitions": {"finalized_at": None, "marked_uncollectible_at": None,
                               "paid_at": None, "voided_at": None},
        "subtotal": 0, "subtotal_excluding_tax": 0, "test_clock": customer.get("test_clock"),
        "total": 0, "total_discount_amounts": [], "total_excluding_tax": 0,
        "total_pretax_credit_amounts": [], "total_taxes": [], "webhooks_delivered_at": None,
    }
    if subscription is not None:
        attach_to_invoice(ctx, invoice, subscription, created)
    return invoice


def subscription_of(invoice: dict[str, Any]) -> str | None:
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    sub_id = details.get("subscription")
    return sub_id if isinstance(sub_id, str) else None


Period = tuple[int, int]


def add_item_lines(ctx: Ctx, invoice: dict[str, Any], items: list[dict[str, Any]],
                   ended: dict[str, Period] | None = None) -> None:
    """A line per item: licensed items bill their current period in advance; metered items
    bill the usage of the period that just `ended` (by item id), or nothing yet."""
    for item in items:
        lines = invoice["lines"]["data"]
        if is_metered(item["price"]):
            period = (ended or {}).get(item["id"])
            lines.append(usage_line(ctx, invoice, item, period))
            continue
        period = (item["current_period_start"], item["current_period_end"])
        lines.append(line_from_sub_item(ctx.store, invoice["id"], item, period))


def usage_line(ctx: Ctx, invoice: dict[str, Any], item: dict[str, Any],
               period: Period | None) -> dict[str, Any]:
    """A metered item's line for the usage of `period` (None: a zero line for its period)."""
    if period is None:
        own = (int(item["current_period_start"]), int(item["current_period_end"]))
        return line_from_usage(ctx.store, invoice["id"], item, own, 0)
    meter = ctx.store.get("billing.meter", str(item["price"]["recurring"]["meter"]))
    used = usage(ctx.store, meter, invoice["customer"], *period) if meter else 0
    return line_from_usage(ctx.store, invoice["id"], item, period, used)


def add_pending_items(ctx: Ctx, invoice: dict[str, Any], subscription_id: str | None) -> None:
    """Sweep the customer's pending invoice items (of this subscription) onto the invoice."""
    for ii in ctx.store.all("invoiceitem"):
        if ii.get("deleted") or ii["invoice"] is not None or ii["customer"] != invoice["customer"]:
            continue
        details = (ii.get("parent") or {}).get("subscription_details") or {}
        if subscription_id is not None and details.get("subscription") not in (None, subscription_id):
            continue
        ii["invoice"] = invoice["id"]
        invoice["lines"]["data"].append(
            line_from_invoice_item(invoice["id"], ii, price_of(ctx.store, ii)))


def recompute(invoice: dict[str, Any]) -> None:
    """Totals from the lines, less the invoice's discounts (`_discount_rules`, see
    `billing.discounts`); no tax: stripesim does not emulate it."""
    lines = invoice["lines"]["data"]
    subtotal = sum(int(line["amount"]) for line in lines)
    rules = invoice.get("_discount_rules") or []
    taken = apply_rules(lines, rules, invoice["currency"])
    invoice["total_discount_amounts"] = [{"amount": amount, "discount": rule["discount"]}
                                         for rule, amount in zip(rules, taken, strict=True)]
    total = subtotal - sum(taken)
    invoice.update(subtotal=subtotal, subtotal_excluding_tax=subtotal, total=total,
                   total_excluding_tax=total)
    if invoice["status"] == "draft":
        invoice["amount_due"] = max(0, total + invoice["starting_balance"])
    invoice["amount_remaining"] = max(0, invoice["amount_due"] - invoice["amount_paid"])


def finalize(ctx: Ctx, invoice: dict[str, Any], at: int) -> None:
    """draft → open: number, balance applied, hosted page and PDF links, invoice.finalized;
    $0 invoices are paid at once."""
    customer = ctx.customer(invoice["customer"])
    before = ctx.snapshot(customer)
    balance = int(customer.get("balance") or 0)
    recompute(invoice)
    total = invoice["total"]
    invoice["starting_balance"] = balance
    invoice["amount_due"] = max(0, total + balance)
    invoice["ending_balance"] = total + balance - invoice["amount_due"]
    invoice["amount_remaining"] = invoice["amount_due"]
    sequence = int(customer.get("next_invoice_sequence") or 1)
    invoice["number"] = f"{customer.get('invoice_prefix', 'SIM')}-{sequence:04d}"
    customer["next_invoice_sequence"] = int(customer.get("next_invoice_sequence") or 1) + 1
    applied = invoice["ending_balance"] - balance
    if applied:
        adjust_balance(ctx, customer, applied, kind="applied_to_invoice",
                       currency=invoice["currency"], invoice=invoice["id"], at=at, announce=False)
    invoice["status"] = "open"
    invoice["automatically_finalizes_at"] = None
    invoice["status_transitions"]["finalized_at"] = at
    invoice["effective_at"] = at
    invoice["webhooks_delivered_at"] = invoice["webhooks_delivered_at"] or at
    page = f"{base_url(ctx.store)}/i/{invoice['id']}"
    invoice.update(hosted_invoice_url=page, invoice_pdf=f"{page}/pdf")
    ctx.store.touch()
    if customer["balance"] != before["balance"]:
        ctx.emit_update("customer.updated", customer, before)
    ctx.emit("invoice.finalized", invoice)
    consume_once(ctx, invoice, ctx.store.get("subscription", subscription_of(invoice) or ""))
    if invoice["amount_due"] == 0:
        mark_paid(ctx, invoice, at)


def mark_paid(ctx: Ctx, invoice: dict[str, Any], at: int, *, amount_paid: int | None = None) -> None:
    invoice["amount_paid"] = invoice["amount_due"] if amount_paid is None else amount_paid
    invoice["amount_remaining"] = 0
    invoice["status"] = "paid"
    invoice["attempted"] = invoice["attempted"] or invoice["amount_due"] > 0
    invoice["next_payment_attempt"] = None
    invoice["status_transitions"]["paid_at"] = at
    ctx.store.touch()
    ctx.emit("invoice.paid", invoice)
    ctx.emit("invoice.payment_succeeded", invoice)


def void(ctx: Ctx, invoice: dict[str, Any], at: int) -> None:
    """→ void; a customer balance the invoice had used is given back."""
    applied = int(invoice.get("ending_balance") or 0) - int(invoice["starting_balance"])
    if applied and invoice["status"] in ("open", "uncollectible"):
        adjust_balance(ctx, ctx.customer(invoice["customer"]), -applied,
                       kind="unapplied_from_invoice", currency=invoice["currency"],
                       invoice=invoice["id"], at=at)
    invoice["status"] = "void"
    invoice["next_payment_attempt"] = None
    invoice["amount_remaining"] = 0
    invoice["status_transitions"]["voided_at"] = at
    ctx.store.touch()
    ctx.emit("invoice.voided", invoice)


def mark_uncollectible(ctx: Ctx, invoice: dict[str, Any], at: int) -> None:
    invoice["status"] = "uncollectible"
    invoice["next_payment_attempt"] = None
    invoice["status_transitions"]["marked_uncollectible_at"] = at
    ctx.store.touch()
    ctx.emit("invoice.marked_uncollectible", invoice)
