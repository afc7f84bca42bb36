"""Post-payment invoices: a payment-mode Checkout Session with `invoice_creation[enabled]`
gets a paid invoice for what was bought, linked to its payment (`session.invoice`).

The invoice is built like any other (one invoice item and line per Checkout
line item), then finalized as already paid by the session's payment intent:
the customer's balance is not touched, and `invoice.created`,
`invoice.finalized`, `invoice.paid`, `invoice.payment_succeeded` follow.
"""

from __future__ import annotations

from typing import Any

from ..hosted_urls import base_url
from ..store import new_id
from .context import Ctx
from .invoicing import new_invoice, recompute
from .objects import invoice_item, line_from_invoice_item

__all__ = ["invoice_paid_session"]


def invoice_paid_session(ctx: Ctx, session: dict[str, Any]) -> dict[str, Any]:
    """Create, finalize and mark paid the invoice of a paid payment-mode session."""
    customer = ctx.customer(str(session["customer"]))
    pi = ctx.store.require("payment_intent", str(session["payment_intent"]))
    at = ctx.now(customer["id"])
    data = (session.get("invoice_creation") or {}).get("invoice_data") or {}
    invoice = new_invoice(ctx, customer, billing_reason="manual", currency=session["currency"],
                          created=at, period=(at, at))
    invoice.update(description=data.get("description"), footer=data.get("footer"),
                   metadata=dict(data.get("metadata") or {}), auto_advance=False)
    for line_item in session["_line_items"]:
        price = ctx.store.get("price", str(line_item["price"]["id"]))
        ii = invoice_item(ctx.store, customer=customer, price=price,
                          amount=int(line_item["amount_total"]),
                          quantity=int(line_item["quantity"]), date=at, period=(at, at),
                          subscription_id=None, subscription_item_id=None, proration=False)
        ii["invoice"] = invoice["id"]
        ctx.store.insert(ii)
        invoice["lines"]["data"].append(line_from_invoice_item(invoice["id"], ii, price))
    recompute(invoice)
    ctx.store.insert(invoice)
    ctx.emit("invoice.created", invoice)
    _finalize_paid(ctx, invoice, customer, pi, at)
    session["invoice"] = invoice["id"]
    return invoice


def _finalize_paid(ctx: Ctx, invoice: dict[str, Any], customer: dict[str, Any],
                   pi: dict[str, Any], at: int) -> None:
    sequence = int(customer.get("next_invoice_sequence") or 1)
    customer["next_invoice_sequence"] = sequence + 1
    page = f"{base_url(ctx.store)}/i/{invoice['id']}"
    total = int(invoice["total"])
    invoice.update(number=f"{customer.get('invoice_prefix', 'SIM')}-{sequence:04d}",
                   status="paid", amount_due=total, amount_paid=total, amount_remaining=0,
                   attempted=True, attempt_count=1, effective_at=at, ending_balance=0,
                   hosted_invoice_url=page, invoice_pdf=f"{page}/pdf",
                   webhooks_delivered_at=at, _payment_intent=pi["id"])
    invoice["status_transitions"].update(finalized_at=at, paid_at=at)
    payment = ctx.store.insert({
        "id": new_id("inpay"), "object": "invoice_payment", "amount_paid": total,
        "amount_requested": total, "created": at, "currency": invoice["currency"],
        "invoice": invoice["id"], "is_default": True, "livemode": False,
        "payment": {"payment_intent": pi["id"], "type": "payment_intent"}, "status": "paid",
        "status_transitions": {"canceled_at": None, "paid_at": at}})
    invoice["_invoice_payment"] = payment["id"]
    ctx.store.touch()
    ctx.emit("invoice.finalized", invoice)
    ctx.emit("invoice_payment.paid", payment)
    ctx.emit("invoice.paid", invoice)
    ctx.emit("invoice.payment_succeeded", invoice)
