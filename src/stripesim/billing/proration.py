"""Price and quantity changes mid-period, with Stripe's proration behaviours.

create_prorations: a credit for the unused time on the old price and a
debit for the remaining time on the new one become pending invoice items,
swept onto the next invoice. always_invoice: the same items, invoiced at
once (billing_reason subscription_update). none: no proration. Amounts are
prorated to the second and rounded to the nearest minor unit.
A change of interval restarts the billing cycle now and bills the new
period in full at once, minus the credit.

Items added mid-period are debited for the rest of the period, items removed
are credited for the unused time; each item prorates on its own (one pending
invoice item per item), as Stripe does.
"""

from __future__ import annotations

from typing import Any

from .context import Ctx
from .lifecycle import invoice_now
from .objects import invoice_item, plan_from_price, quantity_of
from .subscription_shape import item_period_end

__all__ = ["BEHAVIOURS", "INTERVAL_MISMATCH", "Proration", "add_item", "addition_amount",
           "change_item", "cycle_of", "invoice_change", "proration_amounts", "removal_amount",
           "remove_item", "same_cycle"]

BEHAVIOURS = ("create_prorations", "always_invoice", "none")
# stripesim bills one cycle per subscription (Stripe's classic rule); mixed intervals need
# flexible-mode item periods, which it does not emulate.
INTERVAL_MISMATCH = ("Currency and interval fields must match across all plans on this "
                     "subscription. Found mismatch in interval field.")


def _share(amount: int, remaining: int, length: int) -> int:
    """amount × remaining / length, rounded half away from zero, in integers."""
    if length <= 0:
        return 0
    sign = -1 if amount < 0 else 1
    return sign * ((abs(amount) * remaining * 2 + length) // (2 * length))


def _proration_item(ctx: Ctx, sub: dict[str, Any], item: dict[str, Any], price: dict[str, Any],
                    quantity: int, amount: int, at: int, *, unused: bool) -> None:
    customer = ctx.customer(sub["customer"])
    ii = invoice_item(ctx.store, customer=customer, price=price, amount=amount, quantity=quantity,
                      date=at, period=(at, int(item["current_period_end"])),
                      subscription_id=sub["id"], subscription_item_id=item["id"],
                      proration=True, unused=unused)
    ctx.store.insert(ii)
    ctx.emit("invoiceitem.created", ii)


def _unit(price: dict[str, Any]) -> int:
    return int(price.get("unit_amount") or 0)


def same_cycle(old_price: dict[str, Any], price: dict[str, Any]) -> bool:
    """Do both prices bill on the same interval (so the billing cycle stays)?"""
    old, new = old_price.get("recurring") or {}, price.get("recurring") or {}
    return bool(old.get("interval") == new.get("interval")
                and old.get("interval_count", 1) == new.get("interval_count", 1))


Proration = tuple[dict[str, Any], int, int, bool]  # (price, quantity, amount, unused)


def proration_amounts(item: dict[str, Any], price: dict[str, Any], quantity: int,
                      at: int) -> list[Proration]:
    """The credit for the unused time of the item's current price and, on the same
    cycle, the debit for the rest of the period on `price` × `quantity`."""
    old_price, old_quantity = item["price"], quantity_of(item)
    start, end = int(item["current_period_start"]), int(item["current_period_end"])
    found: list[Proration] = []
    credit = -_share(_unit(old_price) * old_quantity, end - at, end - start)
    if credit:
        found.append((old_price, old_quantity, credit, True))
    if same_cycle(old_price, price):
        debit = _share(_unit(price) * quantity, end - at, end - start)
        if debit:
            found.append((price, quantity, debit, False))
    return found


def change_item(ctx: Ctx, sub: dict[str, Any], item: dict[str, Any], *,
                price: dict[str, Any], quantity: int, at: int, behaviour: str) -> str | None:
    """Switch `item` to `price` × `quantity` at `at`; what to invoice now is left to
    `invoice_change` (after the caller emits customer.subscription.updated).
    Returns "prorations", "new_cycle" or None."""
    cycle_kept = same_cycle(item["price"], price)
    prorate = behaviour != "none" and sub["status"] in ("active", "past_due")
    if prorate:
        for each_price, each_quantity, amount, unused in proration_amounts(item, price, quantity,
                                                                          at):
            _proration_item(ctx, sub, item, each_price, each_quantity, amount, at, unused=unused)
    item.update(price=dict(price), plan=plan_from_price(price), quantity=quantity)
    if cycle_kept:
        return "prorations" if prorate and behaviour == "always_invoice" else None
    # New interval: the cycle restarts now and the new period is billed in full at once.
    sub["billing_cycle_anchor"] = at
    for each in sub["items"]["data"]:
        each["current_period_start"] = at
        each["current_period_end"] = item_period_end(at, each["price"], at)
    return "new_cycle"


def invoice_change(ctx: Ctx, sub: dict[str, Any], at: int, what: str | None) -> None:
    """Invoice what `change_item` asked for."""
    if what == "prorations":
        invoice_now(ctx, sub, at, billing_reason="subscription_update")
    elif what == "new_cycle":
        invoice_now(ctx, sub, at, billing_reason="subscription_update", with_item_lines=True)




def cycle_of(sub: dict[str, Any]) -> tuple[int, int]:
    """The subscription's current billing period (its items share it)."""
    items = sub["items"]["data"]
    return (min(int(i["current_period_start"]) for i in items),
            min(int(i["current_period_end"]) for i in items))


def addition_amount(price: dict[str, Any], quantity: int, cycle: tuple[int, int], at: int) -> int:
    """What an item added at `at` costs for the rest of the period."""
    start, end = cycle
    return _share(_unit(price) * quantity, end - at, end - start)


def removal_amount(item: dict[str, Any], at: int) -> int:
    """The credit (negative) for the unused time of an item removed at `at`."""
    start, end = int(item["current_period_start"]), int(item["current_period_end"])
    return -_share(_unit(item["price"]) * quantity_of(item), end - at, end - start)


def _prorates(sub: dict[str, Any], behaviour: str) -> bool:
    return behaviour != "none" and sub["status"] in ("active", "past_due")


def add_item(ctx: Ctx, sub: dict[str, Any], item: dict[str, Any], *, at: int,
             behaviour: str) -> str | None:
    """Put `item` (built by the caller, on the subscription's cycle) on `sub`; debit the rest
    of the period. Returns "prorations" when the change is to be invoiced now."""
    cycle = cycle_of(sub)
    item.update(current_period_start=cycle[0], current_period_end=cycle[1])
    sub["items"]["data"].append(item)
    if not _prorates(sub, behaviour):
        return None
    amount = addition_amount(item["price"], quantity_of(item), cycle, at)
    if amount:
        _proration_item(ctx, sub, item, item["price"], quantity_of(item), amount, at,
                        unused=False)
    return "prorations" if behaviour == "always_invoice" else None


def remove_item(ctx: Ctx, sub: dict[str, Any], item: dict[str, Any], *, at: int,
                behaviour: str) -> str | None:
    """Take `item` off `sub`; credit its unused time."""
    if _prorates(sub, behaviour):
        amount = removal_amount(item, at)
        if amount:
            _proration_item(ctx, sub, item, item["price"], quantity_of(item), amount, at,
                            unused=True)
    sub["items"]["data"] = [i for i in sub["items"]["data"] if i["id"] != item["id"]]
    return "prorations" if _prorates(sub, behaviour) and behaviour == "always_invoice" else None
