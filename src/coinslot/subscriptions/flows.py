"""Stripe-side subscription actions: cancel at period end, resume, change plan, portal sessions.

Each flow: read the local mirror (short transaction) -> call Stripe (no
transaction open) -> mirror Stripe's answer (new transaction). The webhook
that Stripe sends for the same change later finds the mirror up to date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from coinslot.catalog import prices as catalog_prices
from coinslot.catalog import service as catalog_service
from coinslot.catalog.core import Catalog, Interval
from coinslot.container import Container
from coinslot.customers import service as customers_service
from coinslot.errors import CoinslotError, Conflict, InvalidInput, NotFound
from coinslot.models import Subscription
from coinslot.stripe_gateway.portal import PortalFlow, PortalSessionData
from coinslot.stripe_gateway.subscriptions import MeteredSwap, StripeSubscriptionData
from coinslot.subscriptions import repository, service, statuses
from coinslot.subscriptions.core import is_upgrade

__all__ = [
    "ChangePreview",
    "ChangeTiming",
    "SubscriptionView",
    "cancel_at_period_end",
    "change_plan",
    "checked_proration_date",
    "open_portal",
    "preview_change",
    "refresh",
    "resume",
]

ChangeTiming = Literal["now", "period_end"]


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    """The mirror as the API shows it."""

    stripe_subscription_id: str
    status: str
    plan_key: str | None
    interval: str | None
    cancel_at_period_end: bool
    current_period_end: dt.datetime | None
    pending_plan_key: str | None
    seats: int | None = None  # the plan item's quantity
    addons: tuple[str, ...] = ()  # the add-ons it bills, by catalog key


@dataclass(frozen=True, slots=True)
class _Current:
    row_id: int
    stripe_subscription_id: str
    stripe_customer_id: str
    plan_key: str | None
    interval: str | None
    snapshot_at_ms: int
    pending_plan_key: str | None  # a downgrade scheduled for the period end


def _current(container: Container, host_user_id: str) -> _Current:
    with container.db.unit_of_work(read_only=True) as session:
        customer = customers_service.get_by_host_user_id(session, host_user_id)
        stripe_customer_id = customers_service.stripe_id_for_mode(
            customer, livemode=container.settings.livemode
        ) if customer is not None else None
        if customer is None or stripe_customer_id is None:
            raise NotFound(f"no subscription for user {host_user_id!r}", code="no_subscription")
        row = repository.current_for_customer(session, customer.id)
        if row is None:
            raise NotFound(f"no live subscription for user {host_user_id!r}", code="no_subscription")
        return _Current(
            row.id,
            row.stripe_subscription_id,
            stripe_customer_id,
            row.plan_key,
            row.interval,
            row.snapshot_at_ms,
            row.pending_plan_key,
        )


def _idempotency_key(current: _Current, action: str) -> str:
    # Derived from the saved row and the snapshot it acts on: a retry of the same request is
    # replayed by Stripe, while the same action after the state moved on is a new request.
    return f"coinslot:subscription:{current.row_id}:{action}:{current.snapshot_at_ms}"


def _mirror(
    container: Container, snapshot: StripeSubscriptionData, catalog: Catalog, *, clear_pending: bool = False
) -> SubscriptionView:
    """Record Stripe's answer; `clear_pending` drops a scheduled downgrade in the same transaction."""
    now = container.clock.now()
    with container.db.unit_of_work() as session:
        if clear_pending:
            service.set_pending_plan(session, stripe_subscription_id=snapshot.id, plan_key=None, now=now)
        row = service.sync_subscription(
            session, snapshot=snapshot, catalog=catalog, now=now, seen_at_ms=int(now.timestamp() * 1000)
        )
        return _view(row)


def cancel_at_period_end(container: Container, *, host_user_id: str) -> SubscriptionView:
    """Stop renewing: the plan stays until the end of the paid period."""
    current = _current(container, host_user_id)
    snapshot = container.gateway.subscriptions.set_cancel_at_period_end(
        current.stripe_subscription_id, cancel=True, idempotency_key=_idempotency_key(current, "cancel")
    )
    return _mirror(container, snapshot, catalog_service.get_catalog(container.settings))


def resume(container: Container, *, host_user_id: str) -> SubscriptionView:
    """Take back a cancellation at period end (before the period ends)."""
    current = _current(container, host_user_id)
    snapshot = container.gateway.subscriptions.set_cancel_at_period_end(
        current.stripe_subscription_id, cancel=False, idempotency_key=_idempotency_key(current, "resume")
    )
    return _mirror(container, snapshot, catalog_service.get_catalog(container.settings))


def _price_id(container: Container, catalog: Catalog, plan_key: str, interval: Interval) -> str:
    """The Stripe price of a plan, by the same resolver and amount check as checkout."""
    price = catalog_prices.plan_price(catalog, plan_key=plan_key, interval=interval)
    return catalog_prices.resolve_price(container.gateway, price)


def change_plan(
    container: Container,
    *,
    host_user_id: str,
    plan_key: str,
    interval: Interval | None = None,
    timing: ChangeTiming | None = None,
    proration_date_s: int | None = None,
) -> SubscriptionView:
    """Switch plans. By default an upgrade applies now (prorated, invoiced at once) and a
    downgrade at the period end (the paid-for plan lasts until then); `timing` overrides.
    `proration_date_s` (unix seconds, from `preview_change`) charges what the preview showed.

    While a downgrade is pending, choosing the plan one is on undoes it, and any other choice
    starts from the plan paid for: the scheduled downgrade is undone first.

    A change applied now is invoiced and paid at once: its invoice is applied before returning (the
    new plan's credits show on the next page), and the invoice.paid webhook later finds it done.
    """
    catalog = catalog_service.get_catalog(container.settings)
    current = _current(container, host_user_id)
    chosen: Interval = interval or _interval_of(current)
    if current.pending_plan_key is not None:
        kept = _undo_pending_downgrade(container, catalog, current)
        if (plan_key, chosen) == (current.plan_key, current.interval):
            return kept
        current = _current(container, host_user_id)
    if plan_key == current.plan_key and chosen == current.interval:
        raise Conflict(f"user {host_user_id!r} is already on {plan_key} ({chosen})", code="same_plan")
    upgrade = is_upgrade(catalog, from_plan=current.plan_key, to_plan=plan_key)
    when = timing or ("now" if upgrade else "period_end")
    price_id = _price_id(container, catalog, plan_key, chosen)
    item_id = _item_id(container, current)
    metered = _metered_swap(container, catalog, current, plan_key=plan_key, interval=chosen)
    key = _idempotency_key(current, f"change:{plan_key}:{chosen}:{when}")
    if when == "period_end":
        changed = _schedule_downgrade(container, current, item_id=item_id, price_id=price_id,
                                      plan_key=plan_key, idempotency_key=key, metered=metered)
    else:
        changed = container.gateway.subscriptions.change_price(
            current.stripe_subscription_id, item_id=item_id, price_id=price_id,
            proration_behavior="always_invoice", idempotency_key=key, proration_date_s=proration_date_s,
            metered=metered,
        )
        if changed.latest_invoice_id is not None:
            return _apply_invoice(container, changed, changed.latest_invoice_id, catalog)
    return _mirror(container, changed, catalog)


def _apply_invoice(container: Container, snapshot: StripeSubscriptionData, invoice_id: str,
                   catalog: Catalog) -> SubscriptionView:
    """Mirror the subscription and apply its invoice if paid (both idempotent with the webhooks)."""
    invoice = container.gateway.invoices.retrieve(invoice_id)
    now = container.clock.now()
    with container.db.unit_of_work() as session:
        service.apply_paid_invoice(session, invoice=invoice, subscription=snapshot,
                                   seen_at_ms=int(now.timestamp() * 1000), catalog=catalog, now=now,
                                   renewal_grace=dt.timedelta(days=container.settings.past_due_grace_days))
        row = service.find_by_stripe_id(session, stripe_subscription_id=snapshot.id)
        assert row is not None  # mirrored just above
        return _view(row)


def _view(row: Subscription) -> SubscriptionView:
    return SubscriptionView(row.stripe_subscription_id, row.status, row.plan_key, row.interval,
                            row.cancel_at_period_end, row.current_period_end, row.pending_plan_key,
                            row.quantity, tuple(sorted(row.addons or {})))


@dataclass(frozen=True, slots=True)
class ChangePreview:
    """What a plan change would do, before anything changes: the confirmation step shows it."""

    plan_key: str
    interval: Interval
    timing: ChangeTiming  # "now" (charged and granted at once) or "period_end" (nothing charged now)
    effective_at: dt.datetime
    currency: str
    amount_due_minor: int | None  # charged now; None when Stripe cannot tell it in advance (see `note`)
    lines: tuple[tuple[str, int], ...]  # the invoice's lines, prorations included
    proration_date_s: int | None  # pass back to `change_plan` so the charge is the one shown
    note: str = ""


# How long a preview's proration moment may be confirmed: the customer sees a price and confirms it; a
# moment chosen by the form instead could be years back or forward (a cheaper proration).
PREVIEW_VALID_S = 30 * 60


def preview_change(
    container: Container, *, host_user_id: str, plan_key: str, interval: Interval | None = None,
) -> ChangePreview:
    """What switching to `plan_key` would charge now (Stripe's proration preview), or when it would apply."""
    catalog = catalog_service.get_catalog(container.settings)
    current = _current(container, host_user_id)
    chosen: Interval = interval or _interval_of(current)
    paid_for = (current.plan_key, current.interval)
    if (plan_key, chosen) == paid_for and current.pending_plan_key is None:
        raise Conflict(f"user {host_user_id!r} is already on {plan_key} ({chosen})", code="same_plan")
    price = catalog_prices.plan_price(catalog, plan_key=plan_key, interval=chosen)
    price_id = catalog_prices.resolve_price(container.gateway, price)
    snapshot = container.gateway.subscriptions.retrieve(current.stripe_subscription_id)
    item = service.plan_item_of(catalog, snapshot)
    if item is None:
        raise Conflict(f"subscription {current.stripe_subscription_id} has no item to change")
    period_end = dt.datetime.fromtimestamp(item.current_period_end_s or 0, dt.UTC)
    keeping = (plan_key, chosen) == paid_for
    if keeping or not is_upgrade(catalog, from_plan=current.plan_key, to_plan=plan_key):
        note = ("Your scheduled switch is canceled: you stay on your plan." if keeping
                else "Nothing is charged now: you keep your plan until then.")
        return ChangePreview(plan_key, chosen, "period_end", period_end, price.currency, 0, (), None, note)
    now = container.clock.now()
    if current.pending_plan_key is not None:
        # Stripe holds the scheduled plan's price until the switch is undone, so a preview from it would
        # show the difference to the cheaper plan: say what will be charged instead of a wrong figure.
        return ChangePreview(plan_key, chosen, "now", now, price.currency, None, (), None,
                             "Your scheduled switch is canceled first; you are then charged the prorated "
                             "difference from the plan you paid for.")
    preview = container.gateway.invoices.preview_price_change(
        customer_id=current.stripe_customer_id, subscription_id=current.stripe_subscription_id,
        item_id=item.id, price_id=price_id, proration_behavior="always_invoice",
        proration_date_s=int(now.timestamp()),
    )
    return ChangePreview(plan_key, chosen, "now", now, preview.currency, preview.amount_due_minor,
                         preview.lines, preview.proration_date_s or int(now.timestamp()))


def checked_proration_date(container: Container, proration_date: int | None) -> int | None:
    """A preview's proration moment, if still fresh; InvalidInput asks for a new preview otherwise."""
    if proration_date is None:
        return None
    now_s = int(container.clock.now().timestamp())
    if not now_s - PREVIEW_VALID_S <= proration_date <= now_s:
        raise InvalidInput("this price preview has expired: review the change again", field="proration_date",
                           code="preview_expired")
    return proration_date


def refresh(container: Container, *, host_user_id: str) -> list[SubscriptionView]:
    """Re-read the customer's subscriptions from Stripe and mirror them, applying each live one's latest
    invoice if it is paid: what the page shows after the customer changed things at Stripe (the portal),
    before Stripe's webhooks arrive. Idempotent with those webhooks."""
    with container.db.unit_of_work(read_only=True) as session:
        customer = customers_service.get_by_host_user_id(session, host_user_id)
        stripe_customer_id = customers_service.stripe_id_for_mode(
            customer, livemode=container.settings.livemode
        ) if customer is not None else None
    if stripe_customer_id is None:
        return []
    catalog = catalog_service.get_catalog(container.settings)
    views = []
    for snapshot in container.gateway.subscriptions.list_for_customer(stripe_customer_id):
        if statuses.is_live(snapshot.status) and snapshot.latest_invoice_id is not None:
            views.append(_apply_invoice(container, snapshot, snapshot.latest_invoice_id, catalog))
        else:
            views.append(_mirror(container, snapshot, catalog))
    return views


def _interval_of(current: _Current) -> Interval:
    return "year" if current.interval == "year" else "month"


def _item_id(container: Container, current: _Current) -> str:
    """The subscription's plan item, read from Stripe (its other items bill add-ons)."""
    snapshot = container.gateway.subscriptions.retrieve(current.stripe_subscription_id)
    item = service.plan_item_of(catalog_service.get_catalog(container.settings), snapshot)
    if item is None:
        raise Conflict(f"subscription {current.stripe_subscription_id} has no item to change")
    return item.id


def _metered_swap(container: Container, catalog: Catalog, current: _Current, *, plan_key: str,
                  interval: Interval) -> MeteredSwap | None:
    """The metered item the plan `plan_key` bills its overage with: the subscription's own item moved to
    the new plan's metered price (its period and the usage reported in it go on), added when the old
    plan had none, removed when the new plan has no overage; None when nothing changes."""
    item = container.gateway.subscriptions.retrieve(current.stripe_subscription_id).metered_item
    price = catalog_prices.plan_price(catalog, plan_key=plan_key, interval=interval)
    metered_price_id = catalog_prices.overage_price_id(container.gateway, catalog, price)
    if item is None and metered_price_id is None:
        return None
    if item is not None and item.price_id == metered_price_id:
        return None
    return MeteredSwap(item.id if item else None, metered_price_id)


def _undo_pending_downgrade(container: Container, catalog: Catalog, current: _Current) -> SubscriptionView:
    """Put the paid-for plan's price back at Stripe, without proration, and forget the downgrade.

    A scheduled downgrade swapped the price at Stripe already (with no proration), so the
    price Stripe holds is one the customer never used: an upgrade prorated from it would
    charge the difference to the cheap price (PRO -> CORE scheduled -> STUDIO billed $25.00,
    not $15.00). Swapping back without proration restores what was paid for.
    """
    if current.plan_key is None:
        raise Conflict(f"subscription {current.stripe_subscription_id} has no plan to keep")
    restored = container.gateway.subscriptions.change_price(
        current.stripe_subscription_id,
        item_id=_item_id(container, current),
        price_id=_price_id(container, catalog, current.plan_key, _interval_of(current)),
        proration_behavior="none",
        idempotency_key=_idempotency_key(current, f"undo:{current.pending_plan_key}"),
        metered=_metered_swap(container, catalog, current, plan_key=current.plan_key,
                              interval=_interval_of(current)),
    )
    return _mirror(container, restored, catalog, clear_pending=True)


def _schedule_downgrade(
    container: Container, current: _Current, *, item_id: str, price_id: str, plan_key: str,
    idempotency_key: str, metered: MeteredSwap | None = None,
) -> StripeSubscriptionData:
    """Swap the price now without proration; the mirror keeps the paid-for plan until the period ends.

    The pending plan is recorded before the call because Stripe's customer.subscription.updated for
    the swap may be applied before this flow records the answer, and without it the mirror would
    end the paid-for plan at once. When Stripe does not accept the swap, it is taken back.
    """
    _set_pending(container, current, plan_key)
    try:
        return container.gateway.subscriptions.change_price(
            current.stripe_subscription_id, item_id=item_id, price_id=price_id,
            proration_behavior="none", idempotency_key=idempotency_key, metered=metered,
        )
    except CoinslotError:
        _set_pending(container, current, None)
        raise


def _set_pending(container: Container, current: _Current, plan_key: str | None) -> None:
    with container.db.unit_of_work() as session:
        service.set_pending_plan(
            session, stripe_subscription_id=current.stripe_subscription_id, plan_key=plan_key,
            now=container.clock.now(),
        )


def open_portal(
    container: Container,
    *,
    host_user_id: str,
    return_url: str,
    flow: PortalFlow | None = None,
    plan_key: str | None = None,
    interval: Interval | None = None,
) -> PortalSessionData:
    """A billing portal link; `flow` opens it on switching plan, confirming a given switch, or cancelling."""
    with container.db.unit_of_work(read_only=True) as session:
        customer = customers_service.get_by_host_user_id(session, host_user_id)
        linked = customers_service.stripe_id_for_mode(
            customer, livemode=container.settings.livemode
        ) if customer is not None else None
        if linked is None:
            raise NotFound(f"user {host_user_id!r} has no Stripe customer yet", code="no_stripe_customer")
        stripe_customer_id = linked
    catalog = catalog_service.get_catalog(container.settings)
    configuration_id = _portal_configuration(container, catalog)
    if flow is None:
        return container.gateway.portal.create_session(
            customer_id=stripe_customer_id, return_url=return_url, configuration_id=configuration_id
        )
    current = _current(container, host_user_id)
    item_id = price_id = None
    if flow == "subscription_update_confirm":
        if plan_key is None:
            raise InvalidInput("the confirm flow needs the plan to switch to", field="plan")
        chosen: Interval = interval or ("year" if current.interval == "year" else "month")
        price_id = _price_id(container, catalog, plan_key, chosen)
        snapshot = container.gateway.subscriptions.retrieve(current.stripe_subscription_id)
        item = service.plan_item_of(catalog, snapshot)
        item_id = item.id if item else None
    return container.gateway.portal.create_session(
        customer_id=stripe_customer_id,
        return_url=return_url,
        flow=flow,
        subscription_id=current.stripe_subscription_id,
        subscription_item_id=item_id,
        price_id=price_id,
        configuration_id=configuration_id,
    )


def _portal_configuration(container: Container, catalog: Catalog) -> str | None:
    """The portal configuration offering the catalog's subscription plans whose Stripe price agrees with the
    file (None: none does, and the portal offers no plan switch)."""
    prices = [price for price in catalog_prices.catalog_prices(catalog) if price.ref.kind == "plan"]
    plan_prices: dict[str, list[str]] = {}
    for stripe_price in catalog_prices.resolve_prices(container.gateway, prices).values():
        plan_prices.setdefault(stripe_price.product, []).append(stripe_price.id)
    if not plan_prices:
        return None
    return container.gateway.portal.ensure_configuration(plan_prices=plan_prices)
