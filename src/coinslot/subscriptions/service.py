"""Subscription use cases: mirror Stripe's copy, answer "which plan applies", grant a paid period.

Every function runs inside the caller's transaction and never calls Stripe:
the webhook worker (or a flow) reads Stripe first, then calls these.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from coinslot.catalog.core import Catalog, CatalogItemRef, Plan
from coinslot.clock import from_unix, to_unix
from coinslot.customers import service as customers_service
from coinslot.customers import test_clocks
from coinslot.errors import NotFound
from coinslot.ledger import ids as ledger_ids
from coinslot.ledger import service as ledger_service
from coinslot.models import Customer, Subscription
from coinslot.outbound import service as outbox
from coinslot.stripe_gateway.invoices import StripeInvoiceData, StripeInvoiceLineData
from coinslot.stripe_gateway.subscriptions import StripeSubscriptionData, StripeSubscriptionItemData
from coinslot.subscriptions import allowance, mrr_history, repository
from coinslot.subscriptions.core import (
    ACCESS_BY_STATUS,
    Access,
    PlanAccess,
    addon_quantities,
    best_plan_access,
    overage_item,
    period_discount_minor,
    plan_item,
    plan_ref_for_price,
    versions_of,
)

__all__ = [
    "PRICE_NOT_IN_CATALOG",
    "apply_paid_invoice",
    "find_by_stripe_id",
    "get_by_id",
    "latest_for_customer",
    "list_for_customer",
    "plan_access_for",
    "plan_for",
    "record_failed_invoice",
    "record_paid_invoice",
    "set_pending_plan",
    "stripe_customers",
    "subscribers_on_version",
    "sync_subscription",
    "without_metered_item",
]

# Error code of a paying subscription or a paid invoice whose price stands for no catalog plan.
PRICE_NOT_IN_CATALOG = "price_not_in_catalog"


def sync_subscription(
    session: Session, *, snapshot: StripeSubscriptionData, catalog: Catalog, now: dt.datetime,
    seen_at_ms: int, customer: Customer | None = None,
) -> Subscription:
    """Upsert the mirror from Stripe's copy, unless the stored copy was read later than `seen_at_ms`.

    A snapshot re-read from Stripe is its newest state, so applying it is safe
    whatever event triggered the read; the timestamp only stops a slower
    worker (or an event's own, older payload) from rolling the row back.
    Writes `subscription.created` / `subscription.updated` to the outbox when
    the status, the plan or the cancellation changes, and a row of MRR history
    when its monthly amount does (`mrr_history.py`).

    `customer`: the row of `snapshot.customer_id` when the caller has it already (the worker's batch
    has read it for the event's time), else it is read here.
    """
    if customer is None or customer.stripe_customer_id != snapshot.customer_id:
        customer = _customer_of(session, snapshot)
    # The outbox events below are written once per change: the row is locked and compared. A row not
    # mirrored yet has nothing to lock: its customer's row serialises the writers that would insert it.
    row, last_change = repository.lock_with_last_mrr_change(session, snapshot.id)
    if row is None:
        repository.lock_customer(session, customer.id)
        row, last_change = repository.lock_with_last_mrr_change(session, snapshot.id)
    if snapshot.test_clock_id is not None and customer.stripe_test_clock_id is None:
        # A subscription made before the link knew of the clock: the customer lives on it too.
        test_clocks.attach_clock(session, customer=customer, test_clock_id=snapshot.test_clock_id,
                                 frozen_at=None, now=now)
    if row is not None and seen_at_ms < row.snapshot_at_ms:
        return row
    before = _watched(row) if row is not None else None
    versions_before = _versions(row) if row is not None else None
    mirrored = mrr_history.monthly_value(row) if row is not None else None
    if row is None:
        row = Subscription(
            customer_id=customer.id, stripe_subscription_id=snapshot.id, created_at=now, snapshot_at_ms=0
        )
        session.add(row)
    _copy_snapshot(row, snapshot, catalog, now)
    row.snapshot_at_ms = seen_at_ms
    row.updated_at = now
    session.flush()
    mrr_history.record_changes(session, row=row, mirrored=mirrored, last=last_change, now=now)
    after = _watched(row)
    if before != after:
        event_type = "subscription.created" if before is None else "subscription.updated"
        payload = {"host_user_id": customer.host_user_id, "subscription": after, "previous": before}
        outbox.enqueue(session, event_type=event_type, payload=payload, now=now)
    if versions_before is not None:
        _tell_version_change(session, row, host_user_id=customer.host_user_id, before=versions_before,
                             now=now)
    return row


def _versions(row: Subscription) -> tuple[str | None, str | None, str | None]:
    return row.plan_key, row.plan_version, row.pending_plan_version


def _tell_version_change(session: Session, row: Subscription, *, host_user_id: str,
                         before: tuple[str | None, str | None, str | None], now: dt.datetime) -> None:
    """`subscription.plan_version_changed`: a move to another version of the same plan was scheduled for
    the period end, or took effect (a change of plan is `subscription.updated`'s news, not this)."""
    plan_key, version, pending = before
    if plan_key is None or plan_key != row.plan_key or version is None:
        return
    effective_at: dt.datetime | None
    if row.plan_version != version:
        state, to_version, effective_at = "applied", row.plan_version, now
    elif row.pending_plan_version is not None and row.pending_plan_version != pending:
        state, to_version, effective_at = "scheduled", row.pending_plan_version, row.current_period_end
    else:
        return
    payload = {"host_user_id": host_user_id, "subscription": row.stripe_subscription_id, "plan_key": plan_key,
               "from_version": version, "to_version": to_version, "state": state,
               "effective_at": effective_at.isoformat() if effective_at else None}
    outbox.enqueue(session, event_type="subscription.plan_version_changed", payload=payload, now=now)


def _customer_of(session: Session, snapshot: StripeSubscriptionData) -> Customer:
    customer = customers_service.get_by_stripe_id(session, snapshot.customer_id)
    if customer is None:
        # Kept failing (then dead, with an alert) rather than dropped: the link may still be committing,
        # or the subscription was made outside coinslot and an operator must decide.
        raise NotFound(
            f"subscription {snapshot.id} belongs to Stripe customer {snapshot.customer_id}, "
            "which no coinslot customer is linked to",
            code="unknown_stripe_customer",
        )
    return customer


def plan_item_of(catalog: Catalog, snapshot: StripeSubscriptionData) -> StripeSubscriptionItemData | None:
    """The item that bills the plan (its quantity is the seats); the others bill add-ons."""
    return plan_item(catalog, snapshot.items)


def plan_for(catalog: Catalog, snapshot: StripeSubscriptionData) -> CatalogItemRef | None:
    """The catalog plan a subscription's price (its plan item's) stands for, or None."""
    item = plan_item_of(catalog, snapshot)
    if item is None:
        return None
    return plan_ref_for_price(
        catalog,
        price_id=item.price_id,
        lookup_key=item.price_lookup_key,
        metadata=item.price_metadata,
        interval=item.interval,
    )


def _plan_of(catalog: Catalog, snapshot: StripeSubscriptionData) -> CatalogItemRef | None:
    """The plan the subscription's price stands for. None is refused for a subscription that grants
    access: mirroring it as "no plan" would silently drop a paying subscriber to the free plan."""
    item = plan_item_of(catalog, snapshot)
    if item is None:
        return None
    ref = plan_for(catalog, snapshot)
    if ref is None and ACCESS_BY_STATUS.get(snapshot.status, Access.FREE) is not Access.FREE:
        raise NotFound(
            f"subscription {snapshot.id} ({snapshot.status}) bills price {item.price_id}, which no plan "
            "of the catalog stands for: add the plan back to the catalog (or move the subscription to a "
            "catalog price), then replay the event",
            code=PRICE_NOT_IN_CATALOG, retriable=False,
        )
    return ref


def _copy_snapshot(
    row: Subscription, snapshot: StripeSubscriptionData, catalog: Catalog, now: dt.datetime
) -> None:
    item = plan_item_of(catalog, snapshot)
    ref = _plan_of(catalog, snapshot)
    new_period_end = from_unix(item.current_period_end_s) if item else None
    plan_key = ref.key if ref else None
    paid_for_kept = False
    if row.pending_plan_key is not None and new_period_end != row.current_period_end:
        row.pending_plan_key = None  # a new period began: a scheduled downgrade has taken effect
    elif row.pending_plan_key is not None and plan_key == row.pending_plan_key:
        plan_key = row.plan_key  # downgrade at period end: the paid-for plan lasts until then
        paid_for_kept = True
    if not paid_for_kept:
        _copy_versions(row, snapshot, catalog, plan_key, item)
    if snapshot.status == "past_due" and row.status != "past_due":
        # Never before the period whose payment failed began: on a Stripe test clock, an advance's
        # events may be applied before the clock's own time has moved (customers/test_clocks.py).
        period_start = from_unix(item.current_period_start_s) if item else None
        row.past_due_since = max(now, period_start) if period_start else now
    elif snapshot.status != "past_due":
        row.past_due_since = None
    row.status = snapshot.status
    row.plan_key = plan_key
    row.interval = ref.interval if ref else (item.interval if item else None)
    row.stripe_price_id = item.price_id if item else None
    row.current_period_start = from_unix(item.current_period_start_s) if item else None
    row.current_period_end = new_period_end
    row.cancel_at_period_end = snapshot.cancel_at_period_end
    row.cancel_at = from_unix(snapshot.cancel_at_s)
    row.trial_end = from_unix(snapshot.trial_end_s)
    row.canceled_at = from_unix(snapshot.canceled_at_s)
    row.ended_at = from_unix(snapshot.ended_at_s)
    row.addons = addon_quantities(catalog, snapshot.items) or None
    # Overage is allowed only while Stripe bills it: the plan in force's metered item, not another
    # plan's (a downgrade scheduled at the period end has moved it already) and not none (a subscription
    # started before the plan gained overage, until `coinslot overage attach` adds it).
    metered = overage_item(catalog, plan_key, snapshot.items)
    row.metered_price_id = metered.price_id if metered else None
    _copy_amounts(row, snapshot, item, now)


def _copy_versions(row: Subscription, snapshot: StripeSubscriptionData, catalog: Catalog,
                   plan_key: str | None, item: StripeSubscriptionItemData | None) -> None:
    """The plan version in force (and one pending), from the plan item's price and the subscription's
    metadata. A version the file no longer declares is refused like a removed plan: its terms are unknown."""
    plan = catalog.plans.get(plan_key or "")
    if plan is None or item is None:
        row.plan_version = row.pending_plan_version = None
        return
    in_force, pending = versions_of(plan, price_metadata=item.price_metadata,
                                    subscription_metadata=snapshot.metadata,
                                    period_start_s=item.current_period_start_s)
    if in_force is None and ACCESS_BY_STATUS.get(snapshot.status, Access.FREE) is not Access.FREE:
        raise NotFound(
            f"subscription {snapshot.id} ({snapshot.status}) bills price {item.price_id}, a version of plan "
            f"{plan.key} the catalog no longer declares: add it back under [plans.{plan.key}.versions] "
            "(or move its subscribers with `coinslot plans migrate`), then replay the event",
            code=PRICE_NOT_IN_CATALOG, retriable=False,
        )
    row.plan_version, row.pending_plan_version = in_force, pending


def _copy_amounts(row: Subscription, snapshot: StripeSubscriptionData,
                  item: StripeSubscriptionItemData | None, now: dt.datetime) -> None:
    """What the subscription bills per period: every item's unit amount x quantity, and what the
    discounts in force at `now` take off it (the figures count revenue from these)."""
    row.currency = snapshot.currency or (item.currency if item else None)
    row.unit_amount_minor = item.unit_amount_minor if item else None
    row.quantity = item.quantity if item else None
    row.interval_count = item.interval_count if item else None
    # A metered item (a plan's overage) bills usage in arrears: no part of the recurring amount.
    licensed = [each for each in snapshot.items if not each.metered]
    amounts = [each.unit_amount_minor * each.quantity for each in licensed
               if each.unit_amount_minor is not None]
    # An item without a unit amount (tiered) makes the period's amount unknown, not smaller.
    known = bool(licensed) and len(amounts) == len(licensed)
    row.period_amount_minor = sum(amounts) if known else None
    if snapshot.discounts is None:
        return  # named by id only (an event's own payload): the terms stored last stay
    at_s = to_unix(now)
    in_force = [each for each in snapshot.discounts if each.end_s is None or each.end_s > at_s]
    row.period_discount_minor = (
        period_discount_minor(row.period_amount_minor, in_force, currency=row.currency or "")
        if row.period_amount_minor is not None else None
    )
    ends = [each.end_s for each in in_force if each.end_s is not None]
    row.discount_ends_at = from_unix(min(ends)) if ends else None


def _watched(row: Subscription) -> dict[str, Any]:
    """What the host app is told about: a change in any of these is an outbox event."""
    return {
        "id": row.stripe_subscription_id,
        "status": row.status,
        "plan_key": row.plan_key,
        "interval": row.interval,
        "cancel_at_period_end": row.cancel_at_period_end,
        "pending_plan_key": row.pending_plan_key,
        "current_period_end": row.current_period_end.isoformat() if row.current_period_end else None,
        "seats": row.quantity,
        "addons": dict(sorted((row.addons or {}).items())),
    }


def plan_access_for(
    session: Session, *, customer_id: int, catalog: Catalog, now: dt.datetime, grace: dt.timedelta
) -> PlanAccess:
    """The plan that applies to a customer now: the best plan any of their subscriptions grants.

    Without a granting subscription it is the catalog's default plan, with the
    reason taken from the newest subscription (e.g. "incomplete", "canceled").
    """
    return best_plan_access(repository.for_customer(session, customer_id), catalog=catalog, now=now,
                            grace=grace)


def apply_paid_invoice(
    session: Session, *, invoice: StripeInvoiceData, subscription: StripeSubscriptionData | None,
    seen_at_ms: int, catalog: Catalog, now: dt.datetime, renewal_grace: dt.timedelta,
    customer: Customer | None = None, mirrored: Subscription | None = None,
) -> Subscription | None:
    """What a paid invoice does, whoever learns of it first (the invoice.paid webhook, the return from
    Checkout, a plan change answered at once): mirror its subscription as read at `seen_at_ms`, then
    grant the period's credits (`record_paid_invoice`, once per invoice). The subscription comes first
    because invoice.paid often arrives before customer.subscription.created. `customer`: as for
    `sync_subscription`; `mirrored`: the subscription's row as this transaction synced it already, when
    `subscription` is None. Returns the row synced here (None when none was)."""
    row = None
    if subscription is not None:
        row = sync_subscription(session, snapshot=subscription, catalog=catalog, now=now,
                                seen_at_ms=seen_at_ms, customer=customer)
    record_paid_invoice(session, invoice=invoice, catalog=catalog, now=now, renewal_grace=renewal_grace,
                        mirrored=row or mirrored)
    return row


def record_paid_invoice(
    session: Session, *, invoice: StripeInvoiceData, catalog: Catalog, now: dt.datetime,
    renewal_grace: dt.timedelta, mirrored: Subscription | None = None,
) -> ledger_service.EntryResult | None:
    """Grant a subscription period's credits for a paid invoice: the one place they are granted.

    They last until the next period's grant, at most `renewal_grace` (the past-due grace) past
    the period's end: the renewal invoice is paid after the period ended.

    What it grants: the plan's `credits_per_period`, times the seats on a per-seat plan, plus each
    add-on's (`allowance.py`), as billed for the period. A change of seats or add-ons mid-period is
    invoiced at once and tops the period up (or caps it), like a plan change.

    A yearly invoice grants one month (`credits_per_period` is monthly): the year's first month,
    or for an upgrade's proration the month it happened in (the difference, for that month only:
    the following months are granted lazily with the new plan's allowance). Its credits end with
    that month; only the year's last month keeps the renewal grace.

    The ledger entry id is derived from the invoice (`invoice:<in_...>`), so the
    same invoice can never grant twice, whichever event (or replay) brings it.
    The subscription must be synced first (the handler does it in the same transaction); `mirrored`: the
    row that sync returned, when the caller has it (else it is read).
    Returns the grant (`replayed` when the invoice had granted already), None for an unpaid invoice.
    """
    if not invoice.is_paid or invoice.subscription_id is None:
        return None
    row = mirrored
    if row is None or row.stripe_subscription_id != invoice.subscription_id:
        row = repository.get_by_stripe_id(session, invoice.subscription_id)
    if row is None:
        raise NotFound(f"invoice {invoice.id} pays subscription {invoice.subscription_id}, not mirrored yet")
    line = allowance.service_line(catalog, invoice)
    period_start, period_end = _paid_period(row, line)
    if period_start is None or period_end is None:
        raise NotFound(f"invoice {invoice.id} names no period to grant credits for")
    plan = _granted_plan(catalog, row, line, period_start, period_end)
    if plan is None or plan.kind != "subscription":
        # Paid money with no plan to grant: never a silent no-op (the event dies with an alert).
        raise NotFound(
            f"invoice {invoice.id} was paid for subscription {row.stripe_subscription_id}, but its price "
            f"{line.price_id if line else None} stands for no plan of the catalog: no credits granted",
            code=PRICE_NOT_IN_CATALOG, retriable=False,
        )
    granted = allowance.billed_allowance(catalog, plan, row, invoice, period_start=period_start,
                                         period_end=period_end)
    if _interval_of(row, line) == "year":
        # `credits_per_period` is a monthly allowance: the invoice grants the month it pays from
        # (month 1, or the month of an upgrade); the other months are granted at their first use
        # (entitlements.service), with the plan in effect then.
        paid_from = (from_unix(line.period_start_s) if line else None) or period_start
        month = ledger_service.period_month(period_start=period_start, period_end=period_end, at=paid_from)
        period_start, period_end = month.start, month.end
        renewal_grace = renewal_grace if month.last else dt.timedelta(0)
    return ledger_service.grant_period(
        session,
        customer_id=row.customer_id,
        entry_id=ledger_ids.invoice_grant(invoice.id),
        credits=granted.credits,
        period_start=period_start,
        period_end=period_end,
        rollover_cap=granted.rollover_cap,
        unlimited=plan.unlimited,
        now=now,
        source=ledger_ids.subscription_source(row.stripe_subscription_id),
        renewal_grace=renewal_grace,
    )


def _interval_of(row: Subscription, line: StripeInvoiceLineData | None) -> str | None:
    """The billing interval the invoice paid for (its line's price; else the mirror's)."""
    return (line.price_interval if line else None) or row.interval


def _granted_plan(
    catalog: Catalog,
    row: Subscription,
    line: StripeInvoiceLineData | None,
    period_start: dt.datetime,
    period_end: dt.datetime,
) -> Plan | None:
    """The plan, as of the version in force, whose credits a paid invoice gives its period.

    For the mirror's current period, the plan in effect now (the handler has just
    re-synced the mirror from Stripe): the invoices of one period arrive in any
    order, e.g. the period's opening invoice (Core) after an upgrade's proration
    (Pro), and since a second grant for a period is a plan change to the ledger,
    granting each invoice its own line's plan would let the older one undo the
    newer one (cap Pro's 100 credits back to Core's 25). For an earlier period,
    the plan the invoice's line paid for; the mirror's when the line names none.
    """
    if (period_start, period_end) == (row.current_period_start, row.current_period_end) and row.plan_key:
        return catalog.plan_terms(row.plan_key, row.plan_version)
    ref = (
        plan_ref_for_price(
            catalog,
            price_id=line.price_id,
            lookup_key=line.price_lookup_key,
            metadata=line.price_metadata,
            interval=line.price_interval,
        )
        if line
        else None
    )
    if ref is None:
        return catalog.plan_terms(row.plan_key, row.plan_version)
    plan = catalog.plans[ref.key]
    return plan.terms(plan.version_of_price(line.price_metadata) if line else None)


def _paid_period(
    row: Subscription, line: StripeInvoiceLineData | None
) -> tuple[dt.datetime | None, dt.datetime | None]:
    if line is None:
        return row.current_period_start, row.current_period_end
    end = from_unix(line.period_end_s)
    if line.proration and end == row.current_period_end:
        # An upgrade's proration runs from the change to the period end; the ledger knows the
        # period by its start, so the grant names the whole period (and tops it up).
        return row.current_period_start, end
    return from_unix(line.period_start_s), end


def record_failed_invoice(session: Session, *, invoice: StripeInvoiceData, now: dt.datetime) -> None:
    """Tell the host a payment failed (the subscription's own status comes from its re-sync)."""
    customer = customers_service.get_by_stripe_id(session, invoice.customer_id)
    payload: Mapping[str, Any] = {
        "host_user_id": customer.host_user_id if customer else None,
        "invoice": invoice.id,
        "subscription": invoice.subscription_id,
        "amount_due_minor": invoice.amount_due_minor,
        "currency": invoice.currency,
        "attempt_count": invoice.attempt_count,
        "next_payment_attempt": invoice.next_payment_attempt_s,
    }
    outbox.enqueue(session, event_type="payment.failed", payload=payload, now=now)


def set_pending_plan(
    session: Session, *, stripe_subscription_id: str, plan_key: str | None, now: dt.datetime
) -> None:
    """Record a downgrade scheduled for the period end (or clear it)."""
    row = repository.get_by_stripe_id(session, stripe_subscription_id, for_update=True)
    if row is None:
        raise NotFound(f"subscription {stripe_subscription_id} is not mirrored")
    row.pending_plan_key = plan_key
    row.updated_at = now


def list_for_customer(session: Session, *, customer_id: int) -> Sequence[Subscription]:
    """Every subscription of a customer, newest first (ended ones too)."""
    return repository.for_customer(session, customer_id)


def latest_for_customer(session: Session, *, customer_id: int) -> Subscription | None:
    """The customer's live subscription, else the newest ended one, else None: the one a page shows."""
    live = repository.current_for_customer(session, customer_id)
    if live is not None:
        return live
    history = repository.for_customer(session, customer_id)
    return history[0] if history else None


def get_by_id(session: Session, *, subscription_id: int) -> Subscription | None:
    """A mirrored subscription by local id (free when plan access has just loaded it)."""
    return repository.by_id(session, subscription_id)


def find_by_stripe_id(session: Session, *, stripe_subscription_id: str) -> Subscription | None:
    """The mirrored row of a Stripe subscription id (`sub_...`), or None when not mirrored yet."""
    return repository.get_by_stripe_id(session, stripe_subscription_id)


def stripe_customers(session: Session) -> Sequence[tuple[int, str]]:
    """(customer id, Stripe customer id) of every customer linked to Stripe, by id: what reconcile walks."""
    return repository.stripe_customers(session)


def subscribers_on_version(session: Session, *, catalog: Catalog, plan_key: str,
                           version: str) -> Sequence[tuple[int, str, str]]:
    """(row id, `sub_...`, host user id) of the serving subscriptions to a plan's `version`, not already
    moving to another: what `coinslot plans migrate` walks."""
    plan = catalog.plans.get(plan_key)
    oldest = plan is not None and plan.oldest_version == version
    return repository.on_version(session, plan_key=plan_key, version=version, oldest=oldest)


def without_metered_item(session: Session, *, catalog: Catalog) -> Sequence[tuple[int, str, str]]:
    """(row id, `sub_...`, host user id) of the live subscriptions to a plan with overage that carry no
    metered item of it (Stripe would bill none of their overage): what `coinslot overage attach` walks."""
    plan_keys = [plan.key for plan in catalog.plans.values() if plan.overage is not None]
    return repository.without_metered_item(session, plan_keys=plan_keys) if plan_keys else []
