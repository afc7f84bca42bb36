"""`coinslot overage attach`: give the plan's metered item to the subscriptions that lack it.

A subscription started before its plan gained overage has no metered item: Stripe would bill none of its
overage, so coinslot refuses it (`PlanAccess.plan`). This flow (it calls Stripe) walks the live
subscriptions to a plan with overage that the mirror records without the item, one at a time:

    read     Stripe's copy, mirrored first: an item an earlier run (or anyone) added is recorded, not
             added again (and after upgrading to revision 0012, this records the items already there)
    attach   add the plan's metered price at the subscription's interval as an item (or point another
             plan's stale metered item at it); no proration: a metered item bills usage, not time
    record   mirror Stripe's answer: from then on, uses past the balance go into overage and the
             renewal invoice bills them

Safe to run again: a subscription carrying the item is left alone, and each call's idempotency key names
the row, the price and the period, so a retry is replayed by Stripe rather than made twice. A dry run
reads Stripe and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from coinslot.catalog import prices as catalog_prices
from coinslot.catalog import service as catalog_service
from coinslot.catalog.core import Catalog, Interval
from coinslot.container import Container
from coinslot.errors import CoinslotError, InvalidInput
from coinslot.stripe_gateway.subscriptions import MeteredSwap, StripeSubscriptionData
from coinslot.subscriptions import service
from coinslot.subscriptions.core import overage_item

__all__ = ["Attached", "Attachment", "attach_overage_items"]


@dataclass(frozen=True, slots=True)
class Attached:
    host_user_id: str
    subscription: str
    plan_key: str
    metered_price_id: str


@dataclass
class Attachment:
    """What a run did (or, dry, would do)."""

    dry_run: bool
    attached: list[Attached] = field(default_factory=list)
    already: int = 0  # found carrying the item at Stripe: recorded in the mirror (not in a dry run)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (subscription, why)


def attach_overage_items(
    container: Container, *, dry_run: bool = False, on_progress: Callable[[int, int], None] | None = None,
    progress_every: int = 50,
) -> Attachment:
    """Add the plan's metered item to every live subscription on a plan with overage without one."""
    catalog = catalog_service.get_catalog(container.settings)
    with container.db.unit_of_work(read_only=True) as session:
        todo = service.without_metered_item(session, catalog=catalog)
    report = Attachment(dry_run)
    price_ids: dict[tuple[str, Interval], str] = {}
    if not todo and on_progress is not None:
        on_progress(0, 0)  # said, so an operator re-running it sees there was nothing left to attach
    for done, (row_id, subscription_id, host_user_id) in enumerate(todo, start=1):
        try:
            _attach_one(container, catalog, report, row_id=row_id, subscription_id=subscription_id,
                        host_user_id=host_user_id, price_ids=price_ids)
        except CoinslotError as exc:
            report.failed.append((subscription_id, exc.message))
        if on_progress is not None and (done % progress_every == 0 or done == len(todo)):
            on_progress(done, len(todo))
    return report


def _attach_one(container: Container, catalog: Catalog, report: Attachment, *, row_id: int,
                subscription_id: str, host_user_id: str, price_ids: dict[tuple[str, Interval], str]) -> None:
    snapshot = container.gateway.subscriptions.retrieve(subscription_id)
    ref = service.plan_for(catalog, snapshot)
    item = service.plan_item_of(catalog, snapshot)
    if ref is None or item is None or ref.interval is None:
        raise InvalidInput(f"subscription {subscription_id} bills no monthly or yearly plan of the catalog")
    if overage_item(catalog, ref.key, snapshot.items) is not None:
        report.already += 1  # added since the mirror was written (an earlier run, a stale mirror)
        if not report.dry_run:
            _mirror(container, snapshot, catalog)
        return
    key = (ref.key, ref.interval)
    if key not in price_ids:
        price = catalog_prices.plan_price(catalog, plan_key=ref.key, interval=ref.interval)
        metered_price_id = catalog_prices.overage_price_id(container.gateway, catalog, price)
        if metered_price_id is None:
            raise InvalidInput(f"plan {ref.key!r} has no overage at interval {ref.interval}")
        price_ids[key] = metered_price_id
    attached = Attached(host_user_id, subscription_id, ref.key, price_ids[key])
    if report.dry_run:
        report.attached.append(attached)
        return
    stale = snapshot.metered_item  # another plan's metered price: pointed at this plan's, not doubled
    swap = MeteredSwap(stale.id if stale else None, price_ids[key])
    # The key names the row, the price and the period: a retry (this run's, or a re-run in the same
    # period) is replayed by Stripe rather than adding a second metered item.
    idempotency_key = (f"coinslot:subscription:{row_id}:overage-attach:{price_ids[key]}:"
                       f"{item.current_period_end_s}")
    changed = container.gateway.subscriptions.change_items(
        subscription_id, items=swap.item_changes(), proration_behavior="none",
        idempotency_key=idempotency_key)
    _mirror(container, changed, catalog)
    report.attached.append(attached)


def _mirror(container: Container, snapshot: StripeSubscriptionData, catalog: Catalog) -> None:
    now = container.clock.now()
    with container.db.unit_of_work() as session:
        service.sync_subscription(session, snapshot=snapshot, catalog=catalog, now=now,
                                  seen_at_ms=int(now.timestamp() * 1000))
