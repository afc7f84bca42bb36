"""Repair drift: re-read every customer's subscriptions from Stripe, and backfill the events the inbox
missed from Stripe's events list (`backfill.py`), where the worker processes them as usual."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from coinslot.catalog import service as catalog_service
from coinslot.catalog.core import Catalog
from coinslot.container import Container
from coinslot.subscriptions import service as subscriptions_service
from coinslot.webhooks.backfill import backfill_events

__all__ = ["Change", "ReconcileReport", "reconcile"]


@dataclass(frozen=True, slots=True)
class Change:
    subscription_id: str
    before: str  # "status/plan" or "(missing)"
    after: str


@dataclass
class ReconcileReport:
    customers_checked: int = 0
    subscriptions_checked: int = 0
    changes: list[Change] = field(default_factory=list)
    events_recovered: list[str] = field(default_factory=list)


def _summary(status: str | None, plan_key: str | None, cancel_at_period_end: bool) -> str:
    if status is None:
        return "(missing)"
    return f"{status}/{plan_key or '-'}" + (" (cancels at period end)" if cancel_at_period_end else "")


def reconcile(
    container: Container,
    *,
    include_events: bool = True,
    load_catalog: Callable[[], Catalog] | None = None,
    on_customer: Callable[[str], None] | None = None,
) -> ReconcileReport:
    """Bring the mirror to Stripe's state and recover undelivered events; report what changed."""
    catalog = (load_catalog or (lambda: catalog_service.get_catalog(container.settings)))()
    gateway = container.gateway
    report = ReconcileReport()
    with container.db.unit_of_work(read_only=True) as session:
        customers = subscriptions_service.stripe_customers(session)
    for _customer_id, stripe_customer_id in customers:
        report.customers_checked += 1
        snapshots = gateway.subscriptions.list_for_customer(stripe_customer_id)  # no transaction open
        seen_at_ms = int(container.clock.now().timestamp() * 1000)
        with container.db.unit_of_work() as session:
            for snapshot in snapshots:
                report.subscriptions_checked += 1
                row = subscriptions_service.find_by_stripe_id(session, stripe_subscription_id=snapshot.id)
                before = _summary(
                    *(row.status, row.plan_key, row.cancel_at_period_end) if row else (None, None, False)
                )
                synced = subscriptions_service.sync_subscription(
                    session,
                    snapshot=snapshot,
                    catalog=catalog,
                    now=container.clock.now(),
                    seen_at_ms=seen_at_ms,
                )
                after = _summary(synced.status, synced.plan_key, synced.cancel_at_period_end)
                if after != before:
                    report.changes.append(Change(snapshot.id, before, after))
        if on_customer is not None:
            on_customer(stripe_customer_id)
    if include_events:
        _recover_events(container, report)
    return report


def _recover_events(container: Container, report: ReconcileReport) -> None:
    report.events_recovered.extend(backfill_events(container).stored)
