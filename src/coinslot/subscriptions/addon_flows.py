"""Seats and add-ons: changes of a subscription's items other than its plan's price, with Stripe's proration.

    seats       the plan item's quantity, on a per-seat plan (`per_seat = true`)
    add-ons     items of their own on the same subscription (`[addons.<key>]`)

Each change follows the plan switch's pattern (flows.py): an optional preview (Stripe's proration, nothing
changes) whose `proration_date` the confirmation passes back, so the customer is charged what they saw;
then the change at Stripe, invoiced at once (`always_invoice`: the added seats or add-on are paid now,
the unused time of removed ones credited to the customer's Stripe balance), and its invoice applied
before returning: the period's credits are topped up (or capped) by the same `record_paid_invoice`
the invoice.paid webhook calls later, once per invoice.
"""

from __future__ import annotations

from dataclasses import dataclass

from coinslot.catalog import prices as catalog_prices
from coinslot.catalog import service as catalog_service
from coinslot.catalog.core import Catalog, Plan, checked_seats
from coinslot.container import Container
from coinslot.errors import Conflict
from coinslot.stripe_gateway.subscriptions import ItemChange, StripeSubscriptionData
from coinslot.subscriptions import service
from coinslot.subscriptions.core import addon_quantities
from coinslot.subscriptions.flows import (
    SubscriptionView,
    _apply_invoice,
    _Current,
    _current,
    _idempotency_key,
    _interval_of,
    _mirror,
)

__all__ = ["ItemsPreview", "add_addon", "change_seats", "preview_addon", "preview_seats", "remove_addon"]


@dataclass(frozen=True, slots=True)
class ItemsPreview:
    """What a change of seats or add-ons would charge now (Stripe's proration preview); nothing changed."""

    currency: str
    amount_due_minor: int  # charged now (0 when the change credits)
    total_minor: int  # negative: the unused time of what is removed, credited to the Stripe balance
    lines: tuple[tuple[str, int], ...]
    proration_date: int  # pass back to the change so that the charge is the one shown


@dataclass(frozen=True, slots=True)
class _Change:
    """A change resolved against Stripe's current copy, ready to preview or apply."""

    current: _Current
    snapshot: StripeSubscriptionData
    items: list[ItemChange]
    action: str  # part of the idempotency key: "seats:7", "addon:extra_tokens:add"


def _plan_of(catalog: Catalog, current: _Current) -> Plan:
    plan = catalog.plans.get(current.plan_key or "")
    if plan is None:
        raise Conflict(f"subscription {current.stripe_subscription_id} bills no plan of the catalog",
                       code="no_plan")
    if current.pending_plan_key is not None:
        # Stripe holds the scheduled plan's price already: a change prorated from it would charge the
        # difference to a price the customer never used (flows._undo_pending_downgrade).
        raise Conflict(f"a switch to {current.pending_plan_key!r} is scheduled for the period end: undo it "
                       "(choose your current plan) before changing seats or add-ons", code="change_pending")
    return plan


def _seats_change(container: Container, catalog: Catalog, host_user_id: str, seats: int) -> _Change:
    current = _current(container, host_user_id)
    plan = _plan_of(catalog, current)
    if not plan.per_seat:
        raise Conflict(f"plan {plan.key!r} is not sold per seat", code="not_per_seat")
    seats = checked_seats(plan, seats, field="seats")
    snapshot = container.gateway.subscriptions.retrieve(current.stripe_subscription_id)
    item = service.plan_item_of(catalog, snapshot)
    if item is None:
        raise Conflict(f"subscription {current.stripe_subscription_id} has no plan item", code="no_plan")
    if item.quantity == seats:
        raise Conflict(f"the subscription has {seats} seats already", code="same_seats")
    return _Change(current, snapshot, [ItemChange(item_id=item.id, quantity=seats)], f"seats:{seats}")


def _addon_change(container: Container, catalog: Catalog, host_user_id: str, addon_key: str, *,
                  add: bool) -> _Change:
    current = _current(container, host_user_id)
    plan = _plan_of(catalog, current)
    price = catalog_prices.addon_price(catalog, addon_key=addon_key, interval=_interval_of(current))
    snapshot = container.gateway.subscriptions.retrieve(current.stripe_subscription_id)
    on = [item for item in snapshot.items if addon_key in addon_quantities(catalog, [item])]
    action = f"addon:{addon_key}:{'add' if add else 'remove'}"
    if not add:
        if not on:
            raise Conflict(f"add-on {addon_key!r} is not on the subscription", code="addon_not_added")
        return _Change(current, snapshot, [ItemChange(item_id=item.id, deleted=True) for item in on], action)
    if plan.key not in catalog.addons[addon_key].plans:
        raise Conflict(f"add-on {addon_key!r} is not offered with plan {plan.key!r}",
                       code="addon_not_for_plan")
    if on:
        raise Conflict(f"add-on {addon_key!r} is on the subscription already", code="addon_already_added")
    price_id = catalog_prices.resolve_price(container.gateway, price)
    return _Change(current, snapshot, [ItemChange(price_id=price_id, quantity=1)], action)


def _preview(container: Container, change: _Change) -> ItemsPreview:
    now_s = int(container.clock.now().timestamp())
    preview = container.gateway.invoices.preview_items_change(
        customer_id=change.current.stripe_customer_id, subscription_id=change.current.stripe_subscription_id,
        items=change.items, proration_behavior="always_invoice", proration_date_s=now_s,
    )
    return ItemsPreview(preview.currency, preview.amount_due_minor, preview.total_minor, preview.lines,
                        preview.proration_date_s or now_s)


def _apply(container: Container, catalog: Catalog, change: _Change, proration_date: int | None
           ) -> SubscriptionView:
    changed = container.gateway.subscriptions.change_items(
        change.current.stripe_subscription_id, items=change.items, proration_behavior="always_invoice",
        idempotency_key=_idempotency_key(change.current, change.action), proration_date_s=proration_date,
    )
    # Only a new invoice is this change's: a trial's change invoices nothing, and re-applying the
    # period's own invoice would grant it again under another allowance.
    invoice_id = changed.latest_invoice_id
    if invoice_id is not None and invoice_id != change.snapshot.latest_invoice_id:
        return _apply_invoice(container, changed, invoice_id, catalog)
    return _mirror(container, changed, catalog)


def preview_seats(container: Container, *, host_user_id: str, seats: int) -> ItemsPreview:
    """What changing the seats to `seats` would charge now (or credit, for fewer); nothing changes."""
    catalog = catalog_service.get_catalog(container.settings)
    return _preview(container, _seats_change(container, catalog, host_user_id, seats))


def change_seats(container: Container, *, host_user_id: str, seats: int,
                 proration_date: int | None = None) -> SubscriptionView:
    """Set the seats of a per-seat plan's subscription now, prorated: more seats are charged at once and
    their credits granted at once (per-seat credits); fewer are credited for their unused time and the
    period's credits capped to the new allowance (`settings.downgrade_policy`)."""
    catalog = catalog_service.get_catalog(container.settings)
    change = _seats_change(container, catalog, host_user_id, seats)
    return _apply(container, catalog, change, proration_date)


def preview_addon(container: Container, *, host_user_id: str, addon_key: str, add: bool = True
                  ) -> ItemsPreview:
    """What adding (or removing) an add-on would charge now; nothing changes."""
    catalog = catalog_service.get_catalog(container.settings)
    return _preview(container, _addon_change(container, catalog, host_user_id, addon_key, add=add))


def add_addon(container: Container, *, host_user_id: str, addon_key: str,
              proration_date: int | None = None) -> SubscriptionView:
    """Put an add-on on the subscription now, prorated for the rest of the period and invoiced at once; its
    credits for the period are granted at once, its features unlock at once. It renews with the plan."""
    catalog = catalog_service.get_catalog(container.settings)
    change = _addon_change(container, catalog, host_user_id, addon_key, add=True)
    return _apply(container, catalog, change, proration_date)


def remove_addon(container: Container, *, host_user_id: str, addon_key: str) -> SubscriptionView:
    """Take an add-on off now: its unused time is credited to the customer's Stripe balance, its features
    lock at once and the period's credits are capped to the allowance without it."""
    catalog = catalog_service.get_catalog(container.settings)
    change = _addon_change(container, catalog, host_user_id, addon_key, add=False)
    return _apply(container, catalog, change, None)
