"""Invoice previews (`POST /v1/invoices/create_preview`), computed without storing anything.

With a subscription and no change: the next renewal invoice (the next
period's lines plus pending invoice items). With `subscription_details[items]`
changes (items changed, added, or removed with `deleted`), the same proration
arithmetic as a real update (`billing.proration`):
`create_prorations` (default) shows the renewal invoice carrying the proration
lines, `always_invoice` (or an interval change) the invoice the change would
create at once, `none` the renewal at the new prices. Without a subscription:
the customer's pending invoice items.
"""

from __future__ import annotations

import copy
from typing import Any

from ..errors import InvalidRequestError
from ..store import new_id
from .context import Ctx
from .invoicing import add_item_lines, new_invoice, recompute
from .objects import (
    invoice_item,
    is_metered,
    line_from_invoice_item,
    plan_from_price,
    price_of,
    quantity_of,
    subscription_item,
)
from .proration import addition_amount, cycle_of, proration_amounts, removal_amount, same_cycle
from .subscription_shape import item_period_end, period_end_of

__all__ = ["Change", "preview_invoice"]

# ("change", item id, new price, new quantity) | ("add", None, price, quantity)
# | ("remove", item id, None, 0)
Change = tuple[str, str | None, dict[str, Any] | None, int]


def _none_upcoming(customer_id: str) -> InvalidRequestError:
    return InvalidRequestError(f"No upcoming invoices for customer: {customer_id}",
                               code="invoice_upcoming_none", http_status=404)


def _pending(ctx: Ctx, customer_id: str, sub_id: str | None) -> list[dict[str, Any]]:
    """Pending invoice items the next invoice would sweep up (as `add_pending_items`)."""
    found = []
    for ii in ctx.store.all("invoiceitem"):
        if ii.get("deleted") or ii["invoice"] is not None or ii["customer"] != customer_id:
            continue
        details = (ii.get("parent") or {}).get("subscription_details") or {}
        if sub_id is not None and details.get("subscription") not in (None, sub_id):
            continue
        found.append(ii)
    return found


def preview_invoice(ctx: Ctx, customer: dict[str, Any], sub: dict[str, Any] | None, *,
                    changes: list[Change], behaviour: str, at: int) -> dict[str, Any]:
    """The invoice Stripe would show (draft, id `upcoming_in_...`, not stored)."""
    if sub is None:
        items = _pending(ctx, customer["id"], None)
        if not items:
            raise _none_upcoming(customer["id"])
        invoice = new_invoice(ctx, customer, billing_reason="manual", currency=items[0]["currency"],
                              created=at, period=(at, at))
        return _finish(ctx, invoice, customer, [], items, proration_date=None)
    if sub["status"] in ("canceled", "incomplete_expired") or (
            sub["cancel_at_period_end"] and not changes):
        raise _none_upcoming(customer["id"])
    draft = copy.deepcopy(sub)
    prorations: list[dict[str, Any]] = []
    new_cycle = False
    prorate = behaviour != "none" and sub["status"] in ("active", "past_due")
    for kind, item_id, price, quantity in changes:
        def proration(each_price: dict[str, Any], each_quantity: int, amount: int,
                      item: dict[str, Any], *, unused: bool) -> None:
            if prorate and amount:
                prorations.append(invoice_item(
                    ctx.store, customer=customer, price=each_price, amount=amount,
                    quantity=each_quantity, date=at, period=(at, int(item["current_period_end"])),
                    subscription_id=sub["id"], subscription_item_id=item["id"], proration=True,
                    unused=unused))

        if kind == "add":
            assert price is not None
            cycle = cycle_of(draft)
            added = subscription_item(price, subscription_id=sub["id"], quantity=quantity,
                                      created=at, period_start=cycle[0], period_end=cycle[1])
            proration(price, quantity, addition_amount(price, quantity, cycle, at), added,
                      unused=False)
            draft["items"]["data"].append(added)
            continue
        item = next(i for i in draft["items"]["data"] if i["id"] == item_id)
        if kind == "remove":
            proration(item["price"], quantity_of(item), removal_amount(item, at), item,
                      unused=True)
            draft["items"]["data"].remove(item)
            continue
        assert price is not None
        if price["id"] == item["price"]["id"] and quantity == quantity_of(item):
            continue
        for each_price, each_quantity, amount, unused in proration_amounts(item, price,
                                                                          quantity, at):
            proration(each_price, each_quantity, amount, item, unused=unused)
        new_cycle = new_cycle or not same_cycle(item["price"], price)
        item.update(price=dict(price), plan=plan_from_price(price), quantity=quantity)
    pending = _pending(ctx, customer["id"], sub["id"])
    proration_date = at if changes else None
    if new_cycle:
        for item in draft["items"]["data"]:
            item["current_period_start"] = at
            item["current_period_end"] = item_period_end(at, item["price"], at)
        invoice = new_invoice(ctx, customer, billing_reason="subscription_update",
                              currency=sub["currency"], created=at, period=(at, at),
                              subscription=draft)
        return _finish(ctx, invoice, customer, draft["items"]["data"], prorations + pending,
                       proration_date=proration_date)
    if behaviour == "always_invoice" and prorations:
        invoice = new_invoice(ctx, customer, billing_reason="subscription_update",
                              currency=sub["currency"], created=at, period=(at, at),
                              subscription=draft)
        return _finish(ctx, invoice, customer, [], prorations + pending,
                       proration_date=proration_date)
    end = period_end_of(draft)
    start = min(int(i["current_period_start"]) for i in draft["items"]["data"])
    # Metered items bill the usage of the period now running (reported so far).
    ended = {item["id"]: (int(item["current_period_start"]), end)
             for item in draft["items"]["data"] if is_metered(item["price"])}
    for item in draft["items"]["data"]:
        item["current_period_start"] = end
        item["current_period_end"] = item_period_end(draft["billing_cycle_anchor"], item["price"],
                                                     end)
    invoice = new_invoice(ctx, customer, billing_reason="subscription_cycle",
                          currency=sub["currency"], created=end, period=(start, end),
                          subscription=draft)
    return _finish(ctx, invoice, customer, draft["items"]["data"], prorations + pending,
                   proration_date=proration_date, ended=ended)


def _finish(ctx: Ctx, invoice: dict[str, Any], customer: dict[str, Any],
            sub_items: list[dict[str, Any]], invoice_items: list[dict[str, Any]], *,
            proration_date: int | None,
            ended: dict[str, tuple[int, int]] | None = None) -> dict[str, Any]:
    invoice_id = "upcoming_" + new_id("in")
    invoice["id"] = invoice_id
    invoice["lines"]["url"] = f"/v1/invoices/{invoice_id}/lines"
    add_item_lines(ctx, invoice, sub_items, ended)
    for ii in invoice_items:
        # A copy: previewing must not mark a stored pending item as invoiced.
        invoice["lines"]["data"].append(
            line_from_invoice_item(invoice_id, {**ii, "invoice": invoice_id},
                                   price_of(ctx.store, ii)))
    details = (invoice.get("parent") or {}).get("subscription_details")
    if details is not None:
        details["subscription_proration_date"] = proration_date
    invoice["starting_balance"] = int(customer.get("balance") or 0)
    invoice["auto_advance"] = False
    recompute(invoice)
    return invoice
