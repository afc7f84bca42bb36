"""/v1/invoiceitems: one-off charges or credits, swept onto the customer's next invoice.

An item is pending (`invoice` null) until an invoice takes it: the next
subscription invoice of the customer (renewal, update), a manual invoice
created with `pending_invoice_items_behavior=include`, or a draft named with
`invoice=`. Pending items and items on a draft can be updated and deleted.
"""

from __future__ import annotations

import copy
from typing import Any

from ..billing.context import ensure_writable
from ..billing.customers import live_customer
from ..billing.invoicing import recompute
from ..billing.objects import invoice_item, line_from_invoice_item, price_of, pricing
from ..errors import InvalidRequestError, ParameterInvalid, ResourceMissing
from ..pagination import filter_range, paginate
from ..params import get_bool, get_dict, get_int, get_str, merge_metadata, reject_unknown, require
from ..routing import Call, Router
from .prices import create_price

__all__ = ["router"]

router = Router()
NOUN = "invoiceitem"
_FIELDS = {"amount", "description", "discountable", "metadata", "period", "price_data",
           "pricing", "quantity", "tax_behavior", "tax_rates", "unit_amount_decimal", "discounts"}
_CREATE = _FIELDS | {"customer", "currency", "invoice", "subscription"}


def _price(call: Call, params: dict[str, Any]) -> dict[str, Any] | None:
    chosen = (get_dict(params, "pricing") or {}).get("price")
    if chosen:
        price = call.store.require("price", chosen, param="pricing[price]")
    elif params.get("price_data"):
        data = get_dict(params, "price_data") or {}
        require(data, "product") if "product" in data else require({}, "price_data[product]")
        price = create_price(call, data, param_prefix="price_data")
    else:
        return None
    if price.get("recurring"):
        raise InvalidRequestError(
            "The price specified is set to `type=recurring` but this field only accepts prices "
            "with `type=one_time`.", param="pricing[price]")
    return price


def _amount(params: dict[str, Any], price: dict[str, Any] | None, quantity: int,
            current: int | None = None) -> int:
    if price is not None:
        return int(price.get("unit_amount") or 0) * quantity
    if "unit_amount_decimal" in params:
        unit = get_str(params, "unit_amount_decimal") or "0"
        try:
            return round(float(unit) * quantity)
        except ValueError:
            raise ParameterInvalid("unit_amount_decimal", "Invalid decimal: " + unit) from None
    amount = get_int(params, "amount")
    if amount is None:
        if current is not None:
            return current
        raise InvalidRequestError("You must specify `amount`, `pricing[price]`, `price_data` or "
                                  "`unit_amount_decimal`.", param="amount")
    return amount


def _period(params: dict[str, Any], now: int, current: tuple[int, int] | None) -> tuple[int, int]:
    raw = get_dict(params, "period")
    if raw is None:
        return current or (now, now)
    start = get_int(raw, "start", param="period[start]")
    end = get_int(raw, "end", param="period[end]")
    if start is None or end is None:
        require({}, "period[start]" if start is None else "period[end]")
        raise AssertionError("unreachable")
    if end < start:
        raise ParameterInvalid("period[end]", "The period end must be at or after its start.")
    return start, end


def _draft_invoice(call: Call, invoice_id: Any, customer_id: str) -> dict[str, Any]:
    invoice = call.store.require("invoice", invoice_id, param="invoice")
    if invoice.get("deleted") or invoice["customer"] != customer_id:
        raise InvalidRequestError("The invoice belongs to another customer.", param="invoice")
    if invoice["status"] != "draft":
        raise InvalidRequestError("You can only add invoice items to draft invoices; this invoice "
                                  f"is {invoice['status']}.", param="invoice")
    return invoice


def _sync_line(call: Call, ii: dict[str, Any], *, remove: bool = False) -> None:
    """Mirror an item on its draft invoice (replace or drop its line), with invoice.updated."""
    invoice = call.store.get("invoice", str(ii["invoice"]))
    if invoice is None or invoice.get("deleted"):
        return
    before = copy.deepcopy(invoice)
    lines = [line for line in invoice["lines"]["data"]
             if ((line.get("parent") or {}).get("invoice_item_details") or
                 (line.get("parent") or {}).get("subscription_item_details") or {}
                 ).get("invoice_item") != ii["id"]]
    if not remove:
        lines.append(line_from_invoice_item(invoice["id"], ii, price_of(call.store, ii)))
    invoice["lines"]["data"] = lines
    recompute(invoice)
    call.emit_update("invoice.updated", invoice, before)


def _item(call: Call) -> dict[str, Any]:
    return call.store.require(NOUN, call.path_params["id"], param="id")


def _editable(call: Call, ii: dict[str, Any], action: str) -> None:
    if ii.get("deleted"):
        raise ResourceMissing(NOUN, ii["id"])
    ensure_writable(call.store, ii["customer"])
    invoice = call.store.get("invoice", str(ii["invoice"])) if ii["invoice"] else None
    if invoice is not None and invoice["status"] != "draft":
        raise InvalidRequestError(f"You cannot {action} an invoice item that is attached to a "
                                  f"{invoice['status']} invoice.")


@router.post("/v1/invoiceitems")
def create(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, _CREATE)
    customer = live_customer(call.store, require(params, "customer"), param="customer")
    ensure_writable(call.store, customer["id"])
    invoice = _draft_invoice(call, params["invoice"], customer["id"]) if params.get(
        "invoice") else None
    sub_id = get_str(params, "subscription") or None
    if sub_id is not None:
        sub = call.store.require("subscription", sub_id, param="subscription")
        if sub["customer"] != customer["id"]:
            raise InvalidRequestError("The subscription belongs to another customer.",
                                      param="subscription")
    price = _price(call, params)
    currency = (get_str(params, "currency") or "").lower()
    if price is None and not currency:
        require(params, "currency")
    if price is not None and currency and currency != price["currency"]:
        raise InvalidRequestError("The currency must match the price's currency.",
                                  param="currency")
    quantity = get_int(params, "quantity", 1, minimum=1) or 1
    now = call.store.now_for(customer["id"])
    ii = invoice_item(call.store, customer=customer, price=price,
                      amount=_amount(params, price, quantity), quantity=quantity, date=now,
                      period=_period(params, now, None), subscription_id=sub_id,
                      subscription_item_id=None, proration=False, currency=currency or None,
                      description=get_str(params, "description") or None)
    ii["discountable"] = bool(get_bool(params, "discountable", True))
    ii["metadata"] = merge_metadata({}, params.get("metadata"))
    if invoice is not None:
        ii["invoice"] = invoice["id"]
    call.store.insert(ii)
    call.emit("invoiceitem.created", ii)
    if invoice is not None:
        _sync_line(call, ii)
    return ii


@router.get("/v1/invoiceitems/{id}")
def retrieve(call: Call) -> dict[str, Any]:
    return _item(call)


@router.post("/v1/invoiceitems/{id}")
def update(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, _FIELDS)
    ii = _item(call)
    _editable(call, ii, "update")
    price = _price(call, params) or (price_of(call.store, ii)
                                     if "amount" not in params
                                     and "unit_amount_decimal" not in params else None)
    quantity = get_int(params, "quantity", int(ii["quantity"]), minimum=1) or 1
    amount = _amount(params, price, quantity, current=int(ii["amount"]))
    if price is not None and price["currency"] != ii["currency"]:
        raise InvalidRequestError("The currency must match the price's currency.",
                                  param="pricing[price]")
    start, end = ii["period"]["start"], ii["period"]["end"]
    period = _period(params, start, (start, end))
    ii.update(amount=amount, net_amount=amount, quantity=quantity,
              quantity_decimal=str(quantity), pricing=pricing(price, amount, quantity),
              period={"end": period[1], "start": period[0]})
    if "description" in params:
        ii["description"] = get_str(params, "description") or None
    if "discountable" in params:
        ii["discountable"] = bool(get_bool(params, "discountable"))
    ii["metadata"] = merge_metadata(ii["metadata"], params.get("metadata"))
    call.store.touch()
    if ii["invoice"]:
        _sync_line(call, ii)
    return ii


@router.delete("/v1/invoiceitems/{id}")
def delete(call: Call) -> dict[str, Any]:
    ii = _item(call)
    _editable(call, ii, "delete")
    snapshot = copy.deepcopy(ii)
    if ii["invoice"]:
        _sync_line(call, ii, remove=True)
    ii.clear()
    ii.update({"id": snapshot["id"], "object": NOUN, "deleted": True})
    call.store.touch()
    call.emit("invoiceitem.deleted", snapshot)
    return ii


@router.get("/v1/invoiceitems")
def list_items(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"limit", "starting_after", "ending_before", "created", "customer",
                            "invoice", "pending", "customer_account"})
    items = [ii for ii in call.store.all(NOUN) if not ii.get("deleted")]
    for field in ("customer", "invoice"):
        value = get_str(params, field)
        if value:
            items = [ii for ii in items if ii.get(field) == value]
    pending = get_bool(params, "pending")
    if pending is not None:
        items = [ii for ii in items if (ii["invoice"] is None) == pending]
    items = filter_range(items, "date", params.get("created"), "created")
    return paginate(call, items, url="/v1/invoiceitems", noun=NOUN)
