"""Credit notes: lowering a finalized invoice, refunding or crediting what was paid.

A credit note first lowers what is still due on the invoice
(`pre_payment_amount`, not below zero; an open invoice brought to zero is
paid); the rest (`post_payment_amount`) must be split exactly between a
refund of the invoice's charge (`refund_amount`), a credit to the customer's
balance (`credit_amount`, applied to the next invoice) and money returned
outside Stripe (`out_of_band_amount`), as Stripe requires. Voiding reverses
it, except a refund (money already returned) or an invoice it settled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidRequestError
from ..hosted_urls import base_url
from ..pagination import list_object
from ..store import new_id
from . import dunning
from .balance import adjust_balance
from .context import Ctx
from .invoicing import mark_paid
from .refunds import create_refund

__all__ = ["NoteSpec", "draft_note", "issue", "void_note"]

NOUN = "credit_note"
_REFUND_REASONS = {"duplicate": "duplicate", "fraudulent": "fraudulent"}


@dataclass
class NoteSpec:
    """What a create (or preview) asks for, already parsed."""

    lines: list[dict[str, Any]] = field(default_factory=list)  # built credit note lines
    amount: int | None = None
    refund_amount: int = 0
    credit_amount: int = 0
    out_of_band_amount: int | None = None
    reason: str | None = None
    memo: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


def credited_so_far(ctx: Ctx, invoice: dict[str, Any]) -> int:
    return sum(int(cn["amount"]) for cn in ctx.store.all(NOUN)
               if cn["invoice"] == invoice["id"] and cn["status"] != "void")


def _charge_of(ctx: Ctx, invoice: dict[str, Any]) -> dict[str, Any] | None:
    pi = ctx.store.get("payment_intent", str(invoice.get("_payment_intent")))
    if pi is None or pi["status"] != "succeeded":
        return None
    return ctx.store.get("charge", str(pi.get("latest_charge")))


def draft_note(ctx: Ctx, invoice: dict[str, Any], spec: NoteSpec, at: int) -> dict[str, Any]:
    """The credit note `spec` makes for `invoice` (not stored); 400 when Stripe would refuse."""
    if invoice["status"] not in ("open", "paid"):
        raise InvalidRequestError(
            f"Credit notes can only be issued for open or paid invoices; this invoice is "
            f"{invoice['status']}.", param="invoice")
    total = sum(int(line["amount"]) for line in spec.lines)
    if spec.amount is not None and spec.lines and spec.amount != total:
        raise InvalidRequestError(f"`amount` ({spec.amount}) must equal the sum of the lines "
                                  f"({total}).", param="amount")
    if not spec.lines:
        if spec.amount is None:
            raise InvalidRequestError("One of `amount`, `lines`, or `shipping_cost` must be "
                                      "provided.", param="amount")
        total = spec.amount
    if total <= 0:
        raise InvalidRequestError("The credit note amount must be greater than zero.",
                                  param="amount")
    creditable = int(invoice["total"]) - credited_so_far(ctx, invoice)
    if total > creditable:
        raise InvalidRequestError(
            f"The credit note amount ({total}) exceeds what is left to credit on the invoice "
            f"({creditable}).", param="amount")
    pre = min(total, int(invoice["amount_remaining"])) if invoice["status"] == "open" else 0
    post = total - pre
    split = spec.refund_amount + spec.credit_amount + (spec.out_of_band_amount or 0)
    if split != post:
        raise InvalidRequestError(
            f"The sum of refund_amount, credit_amount and out_of_band_amount ({split}) must "
            f"equal the post-payment amount of the credit note ({post}).",
            param="refund_amount" if spec.refund_amount else "credit_amount")
    charge = _charge_of(ctx, invoice)
    if spec.refund_amount:
        left = int(charge["amount"]) - int(charge["amount_refunded"]) if charge else 0
        if spec.refund_amount > left:
            raise InvalidRequestError(
                f"refund_amount ({spec.refund_amount}) is greater than what the invoice's charge "
                f"can still refund ({left}).", param="refund_amount")
    cn_id = new_id("cn")
    number = sum(1 for cn in ctx.store.all(NOUN) if cn["invoice"] == invoice["id"]) + 1
    return {
        "id": cn_id, "object": NOUN, "amount": total, "amount_shipping": 0, "created": at,
        "currency": invoice["currency"], "customer": invoice["customer"],
        "customer_account": None, "customer_balance_transaction": None, "discount_amount": 0,
        "discount_amounts": [], "effective_at": at, "invoice": invoice["id"],
        "lines": list_object(spec.lines, f"/v1/credit_notes/{cn_id}/lines"), "livemode": False,
        "memo": spec.memo, "metadata": dict(spec.metadata),
        "number": f"{invoice['number']}-CN-{number:02d}",
        "out_of_band_amount": spec.out_of_band_amount,
        "pdf": f"{base_url(ctx.store)}/cn/{cn_id}/pdf", "post_payment_amount": post,
        "pre_payment_amount": pre, "pretax_credit_amounts": [], "reason": spec.reason,
        "refunds": [], "shipping_cost": None, "status": "issued", "subtotal": total,
        "subtotal_excluding_tax": total, "total": total, "total_excluding_tax": total,
        "total_taxes": [],
        "type": "mixed" if pre and post else ("pre_payment" if pre else "post_payment"),
        "voided_at": None,
        "_credit_amount": spec.credit_amount,
    }


def issue(ctx: Ctx, cn: dict[str, Any], invoice: dict[str, Any], spec: NoteSpec) -> None:
    """Store `cn` (from `draft_note`) and carry out what it says."""
    at = int(cn["created"])
    ctx.store.insert(cn)
    before = ctx.snapshot(invoice)
    pre, post = int(cn["pre_payment_amount"]), int(cn["post_payment_amount"])
    invoice["amount_due"] = int(invoice["amount_due"]) - pre
    invoice["amount_remaining"] = int(invoice["amount_remaining"]) - pre
    invoice["pre_payment_credit_notes_amount"] += pre
    invoice["post_payment_credit_notes_amount"] += post
    if spec.credit_amount:
        txn = adjust_balance(ctx, ctx.customer(invoice["customer"]), -spec.credit_amount,
                             kind="credit_note", currency=invoice["currency"],
                             credit_note=cn["id"], invoice=invoice["id"], at=at)
        cn["customer_balance_transaction"] = txn["id"]
    if spec.refund_amount:
        charge = _charge_of(ctx, invoice)
        assert charge is not None  # checked by draft_note
        params = {"charge": charge["id"], "amount": str(spec.refund_amount),
                  "metadata": {"credit_note": cn["id"]}}
        if spec.reason in _REFUND_REASONS:
            params["reason"] = _REFUND_REASONS[spec.reason]
        refund = create_refund(ctx, params)
        cn["refunds"] = [{"amount_refunded": spec.refund_amount, "payment_record_refund": None,
                          "refund": refund["id"], "type": "refund"}]
    ctx.store.touch()
    ctx.emit("credit_note.created", cn)
    ctx.emit_update("invoice.updated", invoice, before)
    if invoice["status"] == "open" and pre and invoice["amount_remaining"] == 0:
        cn["_settled_invoice"] = True
        mark_paid(ctx, invoice, at, amount_paid=int(invoice["amount_paid"]))
        dunning.invoice_paid(ctx, invoice, at)


def void_note(ctx: Ctx, cn: dict[str, Any], at: int) -> None:
    """issued → void, reversing the invoice adjustment and the balance credit."""
    if cn["status"] != "issued":
        raise InvalidRequestError(f"This credit note is already {cn['status']}.")
    if cn["refunds"]:
        raise InvalidRequestError("A credit note that refunded a charge cannot be voided: the "
                                  "money has already been returned.")
    if cn.get("_settled_invoice"):
        raise InvalidRequestError("This credit note brought its invoice to paid; it cannot be "
                                  "voided.")
    invoice = ctx.store.require("invoice", cn["invoice"])
    before = ctx.snapshot(invoice)
    pre, post = int(cn["pre_payment_amount"]), int(cn["post_payment_amount"])
    invoice["amount_due"] = int(invoice["amount_due"]) + pre
    invoice["amount_remaining"] = int(invoice["amount_remaining"]) + pre
    invoice["pre_payment_credit_notes_amount"] -= pre
    invoice["post_payment_credit_notes_amount"] -= post
    if cn["_credit_amount"]:
        adjust_balance(ctx, ctx.customer(cn["customer"]), int(cn["_credit_amount"]),
                       kind="credit_note", currency=cn["currency"], credit_note=cn["id"],
                       invoice=invoice["id"], at=at)
    cn.update(status="void", voided_at=at)
    ctx.store.touch()
    ctx.emit("credit_note.voided", cn)
    ctx.emit_update("invoice.updated", invoice, before)
