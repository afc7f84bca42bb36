"""/v1/invoices (+ lines, finalize, pay, void, mark_uncollectible), /v1/invoice_payments."""

from __future__ import annotations

import copy
from typing import Any

from ..billing.context import Ctx, ensure_writable
from ..billing.customers import live_customer
from ..billing.dunning import invoice_paid
from ..billing.invoicing import (
    add_pending_items,
    finalize,
    mark_paid,
    mark_uncollectible,
    new_invoice,
    recompute,
    subscription_of,
    void,
)
from ..billing.payment import pay_invoice
from ..billing.payment_methods import resolve_payment_method
from ..errors import CardError, InvalidRequestError
from ..expand import register_expander
from ..pagination import filter_created, list_object, paginate
from ..params import get_bool, get_str, merge_metadata, reject_unknown, require
from ..routing import Call, Router
from ..search import search

__all__ = ["router"]

router = Router()
NOUN = "invoice"


def _invoice(call: Call) -> dict[str, Any]:
    return call.store.require(NOUN, call.path_params["id"])


def _status_error(invoice: dict[str, Any], action: str) -> InvalidRequestError:
    return InvalidRequestError(f"You can only {action} an invoice with a different status; this "
                               f"invoice is {invoice['status']}.")


@router.post("/v1/invoices")
def create(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"customer", "auto_advance", "metadata", "description", "currency",
                            "pending_invoice_items_behavior", "collection_method", "subscription"})
    customer = live_customer(call.store, require(params, "customer"), param="customer")
    ensure_writable(call.store, customer["id"])
    ctx = Ctx(call.sim, call)
    now = call.store.now_for(customer["id"])
    invoice = new_invoice(ctx, customer, billing_reason="manual",
                          currency=str(get_str(params, "currency") or "usd"), created=now,
                          period=(now, now))
    invoice["auto_advance"] = bool(get_bool(params, "auto_advance", False))
    invoice["metadata"] = merge_metadata({}, params.get("metadata"))
    invoice["description"] = get_str(params, "description") or None
    if get_str(params, "pending_invoice_items_behavior", "exclude",
               choices=("exclude", "include")) == "include":
        add_pending_items(ctx, invoice, None)
    recompute(invoice)
    call.store.insert(invoice)
    call.emit("invoice.created", invoice)
    return invoice


@router.get("/v1/invoices/search")
def search_invoices(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"query", "limit", "page"})
    return search(call, call.store.all(NOUN),
                  fields={"created", "currency", "customer", "metadata", "number", "status",
                          "total"}, url="/v1/invoices/search")


@router.get("/v1/invoices/{id}")
def retrieve(call: Call) -> dict[str, Any]:
    return _invoice(call)


@router.post("/v1/invoices/{id}")
def update(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"metadata", "description", "auto_advance", "default_payment_method"})
    invoice = _invoice(call)
    ensure_writable(call.store, invoice["customer"])
    before = copy.deepcopy(invoice)
    invoice["metadata"] = merge_metadata(invoice["metadata"], call.params.get("metadata"))
    if "description" in call.params:
        invoice["description"] = get_str(call.params, "description") or None
    if "auto_advance" in call.params:
        invoice["auto_advance"] = bool(get_bool(call.params, "auto_advance"))
    if call.params.get("default_payment_method"):
        invoice["default_payment_method"] = str(call.params["default_payment_method"])
    call.store.touch()
    call.emit_update("invoice.updated", invoice, before)
    return invoice


@router.delete("/v1/invoices/{id}")
def delete(call: Call) -> dict[str, Any]:
    invoice = _invoice(call)
    if invoice["status"] != "draft":
        raise InvalidRequestError("You can only delete draft invoices.")
    for ii in call.store.all("invoiceitem"):
        if ii.get("invoice") == invoice["id"]:
            ii["invoice"] = None
    snapshot = copy.deepcopy(invoice)
    invoice.clear()
    invoice.update({"id": snapshot["id"], "object": NOUN, "deleted": True})
    call.store.touch()
    call.emit("invoice.deleted", snapshot)
    return invoice


@router.get("/v1/invoices/{id}/lines")
def lines(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"limit", "starting_after", "ending_before"})
    invoice = _invoice(call)
    # Lines are shown in invoice order; paginate lists newest first, so hand it reversed.
    data = list(reversed(invoice["lines"]["data"]))
    return paginate(call, data, url=f"/v1/invoices/{invoice['id']}/lines", noun="line_item")


@router.post("/v1/invoices/{id}/finalize")
def finalize_invoice(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"auto_advance"})
    invoice = _invoice(call)
    ensure_writable(call.store, invoice["customer"])
    if invoice["status"] != "draft":
        raise _status_error(invoice, "finalize")
    ctx = Ctx(call.sim, call)
    finalize(ctx, invoice, call.store.now_for(invoice["customer"]))
    if invoice["status"] == "paid":
        invoice_paid(ctx, invoice, call.store.now_for(invoice["customer"]))
    return invoice


@router.post("/v1/invoices/{id}/pay")
def pay(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"payment_method", "paid_out_of_band", "off_session", "forgive",
                                 "source", "mandate"})
    invoice = _invoice(call)
    ensure_writable(call.store, invoice["customer"])
    if invoice["status"] != "open":
        raise _status_error(invoice, "pay")
    ctx = Ctx(call.sim, call)
    at = call.store.now_for(invoice["customer"])
    if get_bool(call.params, "paid_out_of_band"):
        invoice["amount_paid"] = 0
        mark_paid(ctx, invoice, at, amount_paid=0)
        invoice_paid(ctx, invoice, at)
        return invoice
    pm_id = get_str(call.params, "payment_method")
    pm = resolve_payment_method(call.store, pm_id) if pm_id else None
    outcome = pay_invoice(ctx, invoice, pm=pm, off_session=False)
    if outcome != "paid":
        pi = call.store.get("payment_intent", str(invoice.get("_payment_intent"))) or {}
        error = pi.get("last_payment_error") or {}
        raise CardError(error.get("message") or "This payment requires authentication.",
                        code=error.get("code") or "invoice_payment_intent_requires_action",
                        decline_code=error.get("decline_code"))
    return invoice


@router.post("/v1/invoices/{id}/void")
def void_invoice(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, set())
    invoice = _invoice(call)
    ensure_writable(call.store, invoice["customer"])
    if invoice["status"] not in ("open", "uncollectible"):
        raise _status_error(invoice, "void")
    void(Ctx(call.sim, call), invoice, call.store.now_for(invoice["customer"]))
    return invoice


@router.post("/v1/invoices/{id}/mark_uncollectible")
def uncollectible(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, set())
    invoice = _invoice(call)
    ensure_writable(call.store, invoice["customer"])
    if invoice["status"] != "open":
        raise _status_error(invoice, "mark uncollectible")
    mark_uncollectible(Ctx(call.sim, call), invoice, call.store.now_for(invoice["customer"]))
    return invoice


@router.get("/v1/invoices")
def list_invoices(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"limit", "starting_after", "ending_before", "created", "customer",
                            "subscription", "status", "collection_method", "due_date"})
    items = [i for i in call.store.all(NOUN) if not i.get("deleted")]
    customer = get_str(params, "customer")
    if customer:
        items = [i for i in items if i["customer"] == customer]
    sub = get_str(params, "subscription")
    if sub:
        items = [i for i in items if subscription_of(i) == sub]
    status = get_str(params, "status", choices=("draft", "open", "paid", "uncollectible", "void"))
    if status:
        items = [i for i in items if i["status"] == status]
    return paginate(call, filter_created(items, params), url="/v1/invoices", noun=NOUN)


@router.get("/v1/invoice_payments/{id}")
def retrieve_payment(call: Call) -> dict[str, Any]:
    return call.store.require("invoice_payment", call.path_params["id"])


@router.get("/v1/invoice_payments")
def list_payments(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"invoice", "payment", "status", "limit", "starting_after",
                                 "ending_before", "created"})
    items = call.store.all("invoice_payment")
    invoice = get_str(call.params, "invoice")
    if invoice:
        items = [p for p in items if p["invoice"] == invoice]
    return paginate(call, items, url="/v1/invoice_payments", noun="invoice_payment")


def _payments(store: Any, invoice: dict[str, Any]) -> dict[str, Any]:
    data = [p for p in reversed(store.all("invoice_payment")) if p["invoice"] == invoice["id"]]
    return list_object(data, f"/v1/invoice_payments?invoice={invoice['id']}")


def _confirmation_secret(store: Any, invoice: dict[str, Any]) -> dict[str, Any] | None:
    """What a page needs to collect the invoice's payment (Stripe.js confirmPayment)."""
    pi = store.get("payment_intent", str(invoice.get("_payment_intent")))
    if pi is None or invoice["status"] == "draft":
        return None
    return {"client_secret": pi["client_secret"], "type": "payment_intent"}


# Invoice payments and the confirmation secret arrived with basil (2025-03-31), replacing
# `invoice.payment_intent`.
register_expander(NOUN, "payments", _payments, since="2025-03-31.basil")
register_expander(NOUN, "confirmation_secret", _confirmation_secret, since="2025-03-31.basil")
