"""`coinslot plans migrate`: move the subscribers of a plan's earlier version to the version sold now.

A flow (it calls Stripe), one subscription at a time, each in its own steps:

    read       Stripe's copy, mirrored first (so the row knows its version, and a move made by an
               earlier run that a webhook has not brought yet is seen, not repeated)
    move       swap the plan item to the current version's price, with the subscription's metadata
               saying which version the period was paid for (subscriptions/core.py, `versions_of`):
                 now         prorated and invoiced at once (like an upgrade); the new terms start now
                 period-end  no proration: the renewal bills the new price, and the period keeps the
                             terms it was paid for until then
    record     mirror Stripe's answer; the mirror writes `subscription.plan_version_changed` to the
               outbox, once, whichever of this flow and the webhook records the move first

Safe to run again: subscriptions already on the target version, or already moving to it, are left
alone; a dry run reads and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from coinslot.catalog import prices as catalog_prices
from coinslot.catalog import service as catalog_service
from coinslot.catalog.core import Catalog, Interval, Plan
from coinslot.clock import from_unix
from coinslot.container import Container
from coinslot.errors import CoinslotError, InvalidInput
from coinslot.stripe_gateway.subscriptions import StripeSubscriptionData
from coinslot.subscriptions import service
from coinslot.subscriptions.core import version_metadata

__all__ = ["MigrateAt", "Migration", "Moved", "migrate_version"]

MigrateAt = Literal["period_end", "now"]


@dataclass(frozen=True, slots=True)
class Moved:
    host_user_id: str
    subscription: str
    plan_key: str
    effective_at: dt.datetime | None  # when the new version's terms and price start


@dataclass
class Migration:
    """What a run did (or, dry, would do)."""

    from_version: str
    to_version: str
    at: MigrateAt
    dry_run: bool
    plans: list[str]
    moved: list[Moved] = field(default_factory=list)
    already: int = 0  # found on the target version, or moving to it already
    failed: list[tuple[str, str]] = field(default_factory=list)  # (subscription, why)


def _plans(catalog: Catalog, *, from_version: str, to_version: str, plan_key: str | None) -> list[Plan]:
    """The plans with an earlier version `from_version` (all of them, or `plan_key`), checked to sell
    `to_version` now: a subscriber is only moved to the version new customers get."""
    if plan_key is not None and plan_key not in catalog.plans:
        raise InvalidInput(f"no plan {plan_key!r} in the catalog", field="plan")
    chosen = [plan for plan in catalog.plans.values()
              if from_version in plan.earlier_versions and plan_key in (None, plan.key)]
    if not chosen:
        where = f"plan {plan_key!r}" if plan_key else "no plan"
        raise InvalidInput(f"{where} has an earlier version {from_version!r} in the catalog "
                           "([plans.<key>.versions.<version>])", field="from")
    for plan in chosen:
        if plan.version != to_version:
            raise InvalidInput(f"plan {plan.key!r} sells version {plan.version!r}, not {to_version!r}: "
                               "subscribers move to the version sold now", field="to")
    return chosen


def migrate_version(
    container: Container, *, from_version: str, to_version: str, at: MigrateAt = "period_end",
    plan_key: str | None = None, dry_run: bool = False,
    on_progress: Callable[[int, int], None] | None = None, progress_every: int = 50,
) -> Migration:
    """Move every serving subscriber of `from_version` to `to_version` (see the module's docstring)."""
    catalog = catalog_service.get_catalog(container.settings)
    plans = _plans(catalog, from_version=from_version, to_version=to_version, plan_key=plan_key)
    report = Migration(from_version, to_version, at, dry_run, [plan.key for plan in plans])
    todo: list[tuple[Plan, int, str, str]] = []
    with container.db.unit_of_work(read_only=True) as session:
        for plan in plans:
            todo += [(plan, *row) for row in service.subscribers_on_version(
                session, catalog=catalog, plan_key=plan.key, version=from_version)]
    price_ids: dict[tuple[str, Interval], str] = {}
    if not todo and on_progress is not None:
        on_progress(0, 0)  # said, so an operator re-running it sees there was nothing left to move
    for done, (plan, row_id, subscription_id, host_user_id) in enumerate(todo, start=1):
        try:
            _move_one(container, catalog, report, plan, row_id=row_id, subscription_id=subscription_id,
                      host_user_id=host_user_id, price_ids=price_ids)
        except CoinslotError as exc:
            report.failed.append((subscription_id, exc.message))
        if on_progress is not None and (done % progress_every == 0 or done == len(todo)):
            on_progress(done, len(todo))
    return report


def _move_one(container: Container, catalog: Catalog, report: Migration, plan: Plan, *, row_id: int,
              subscription_id: str, host_user_id: str, price_ids: dict[tuple[str, Interval], str]) -> None:
    snapshot = container.gateway.subscriptions.retrieve(subscription_id)
    item = snapshot.first_item
    if item is None or item.interval not in ("month", "year"):
        raise InvalidInput(f"subscription {subscription_id} has no monthly or yearly plan item")
    if not report.dry_run:
        row_version = _mirror(container, snapshot, catalog)
        if row_version != report.from_version:
            report.already += 1  # moved (or moving) since the list was read: an earlier run's work
            return
    interval: Interval = "year" if item.interval == "year" else "month"
    key = (plan.key, interval)
    if key not in price_ids:
        price = catalog_prices.plan_price(catalog, plan_key=plan.key, interval=interval)
        price_ids[key] = catalog_prices.resolve_price(container.gateway, price)
    period_end_s = item.current_period_end_s
    effective_at = container.clock.now() if report.at == "now" else from_unix(period_end_s)
    moved = Moved(host_user_id, subscription_id, plan.key, effective_at)
    if report.dry_run:
        report.moved.append(moved)
        return
    # The key names the row, the move and the period: a retry (this run's, or a re-run in the same
    # period) is replayed by Stripe rather than made twice.
    idempotency_key = (f"coinslot:subscription:{row_id}:version:{report.from_version}:{report.to_version}:"
                       f"{report.at}:{period_end_s}")
    if report.at == "now":
        changed = container.gateway.subscriptions.change_price(
            subscription_id, item_id=item.id, price_id=price_ids[key], proration_behavior="always_invoice",
            idempotency_key=idempotency_key,
            metadata=version_metadata(plan_key=plan.key, kept_version=None, at_s=None))
    else:
        changed = container.gateway.subscriptions.change_price(
            subscription_id, item_id=item.id, price_id=price_ids[key], proration_behavior="none",
            idempotency_key=idempotency_key,
            metadata=version_metadata(plan_key=plan.key, kept_version=report.from_version, at_s=period_end_s))
    _record(container, changed, catalog, invoiced=report.at == "now")
    report.moved.append(moved)


def _mirror(container: Container, snapshot: StripeSubscriptionData, catalog: Catalog) -> str | None:
    """Mirror Stripe's copy; the version in force afterwards, None when another is pending."""
    now = container.clock.now()
    with container.db.unit_of_work() as session:
        row = service.sync_subscription(session, snapshot=snapshot, catalog=catalog, now=now,
                                        seen_at_ms=int(now.timestamp() * 1000))
        return row.plan_version if row.pending_plan_version is None else None


def _record(
    container: Container, snapshot: StripeSubscriptionData, catalog: Catalog, *, invoiced: bool
) -> None:
    """Mirror the move and, moved now, apply its invoice when paid (its credits: the new version's)."""
    now = container.clock.now()
    invoice = (container.gateway.invoices.retrieve(snapshot.latest_invoice_id)
               if invoiced and snapshot.latest_invoice_id is not None else None)
    with container.db.unit_of_work() as session:
        if invoice is None:
            service.sync_subscription(session, snapshot=snapshot, catalog=catalog, now=now,
                                      seen_at_ms=int(now.timestamp() * 1000))
            return
        service.apply_paid_invoice(session, invoice=invoice, subscription=snapshot,
                                   seen_at_ms=int(now.timestamp() * 1000), catalog=catalog, now=now,
                                   renewal_grace=dt.timedelta(days=container.settings.past_due_grace_days))
