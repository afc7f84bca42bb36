"""Adopt an existing Stripe account: read it, link its customers, mirror their subscriptions, grant the
current periods' credits. Safe to run again: the second run writes no new link, mirror value or grant.

    read     every customer and every subscription (a page of 100 per call, discounts expanded)
    per customer, Stripe first, outside any transaction:
             the latest invoice of each serving subscription, the time of its test clock
    then one transaction:
             link the host user (customers.adopt_stripe_customer: never moves an existing link)
             mirror each subscription (subscriptions.sync_subscription, in a savepoint: a price no
               plan stands for is reported and left out, the rest of the customer goes on)
             grant the current period by the invoice that paid it (subscriptions.record_paid_invoice,
               entry `invoice:<in_...>`): the entry its invoice.paid webhook writes, so the period is
               granted once whichever comes first, and a re-run replays it
    dry run: the same, each transaction rolled back; the report is the one a real run would print.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from coinslot.catalog import service as catalog_service
from coinslot.catalog.core import Catalog
from coinslot.container import Container
from coinslot.customers import service as customers_service
from coinslot.customers import test_clocks
from coinslot.customers.flows import METADATA_USER_KEY
from coinslot.errors import Conflict, InvalidInput, NotFound
from coinslot.imports import core
from coinslot.imports.core import ImportReport
from coinslot.stripe_gateway import StripeGateway
from coinslot.stripe_gateway.customers import StripeCustomerData
from coinslot.stripe_gateway.invoices import StripeInvoiceData
from coinslot.stripe_gateway.subscriptions import StripeSubscriptionData
from coinslot.subscriptions import service as subscriptions_service
from coinslot.subscriptions.statuses import is_serving

__all__ = ["ProgressCallback", "import_from_stripe"]

# (customers done, customers in the account)
ProgressCallback = Callable[[int, int], None]


class _RolledBack(Exception):
    """Raised at the end of a dry run's transaction so that the unit of work rolls it back."""


@dataclass(frozen=True, slots=True)
class _Context:
    container: Container
    catalog: Catalog
    dry_run: bool
    seen_at_ms: int  # when the account's reads began: orders these snapshots against the webhooks' reads
    renewal_grace: dt.timedelta


@dataclass
class _Outcome:
    """One customer's part of the report, merged only once its transaction went through."""

    mirrored: int = 0
    not_mirrored: list[StripeSubscriptionData] = field(default_factory=list)
    grants_written: int = 0
    grants_already_made: int = 0
    credits_granted: int = 0
    without_paid_period: int = 0


def import_from_stripe(
    container: Container,
    *,
    mapping: Mapping[str, str] | None = None,
    metadata_keys: Sequence[str] = (),
    dry_run: bool = False,
    catalog: Catalog | None = None,
    on_progress: ProgressCallback | None = None,
    progress_every: int = 50,
) -> ImportReport:
    """Adopt the Stripe account of the configured key; report what was (or, dry, would be) done.

    `mapping`: Stripe customer id -> host user id (the mapping file), before any metadata.
    `metadata_keys`: metadata keys holding the host user id, after coinslot's own (`coinslot_user_id`).
    """
    mapping = mapping or {}
    catalog = catalog or catalog_service.get_catalog(container.settings)  # a bad file: stop before reading
    gateway = container.gateway
    # Stamped before the reads, which may take minutes: a webhook that re-reads a subscription meanwhile
    # is newer than this stamp, so the mirror keeps its copy rather than this older one.
    seen_at_ms = int(container.clock.now().timestamp() * 1000)
    customers = gateway.customers.list_all()
    subscriptions = gateway.subscriptions.list_all()
    context = _Context(
        container=container, catalog=catalog, dry_run=dry_run, seen_at_ms=seen_at_ms,
        renewal_grace=dt.timedelta(days=container.settings.past_due_grace_days),
    )
    report = ImportReport(dry_run=dry_run, customers_seen=len(customers),
                          subscriptions_seen=len(subscriptions))
    known = {customer.id for customer in customers}
    report.mapping_unused = sorted(customer_id for customer_id in mapping if customer_id not in known)
    _note_unmapped_prices(report, context.catalog, subscriptions)
    by_customer: dict[str, list[StripeSubscriptionData]] = {}
    for subscription in subscriptions:
        by_customer.setdefault(subscription.customer_id, []).append(subscription)
    keys = (METADATA_USER_KEY, *(key for key in metadata_keys if key != METADATA_USER_KEY))
    clocks: dict[str, dt.datetime] = {}
    for done, customer in enumerate(customers, start=1):
        link = core.host_user_for(customer.id, customer.metadata, mapping=mapping, metadata_keys=keys)
        owned = by_customer.get(customer.id, [])
        if link is None:
            report.unlinked.append(customer.id)
            report.subscriptions_skipped += len(owned)
        else:
            _import_customer(context, report, gateway, customer, link, owned, clocks)
        if on_progress is not None and (done % progress_every == 0 or done == len(customers)):
            on_progress(done, len(customers))
    return report


def _note_unmapped_prices(report: ImportReport, catalog: Catalog,
                          subscriptions: Sequence[StripeSubscriptionData]) -> None:
    for subscription in subscriptions:
        item = subscription.first_item
        if item is not None and subscriptions_service.plan_for(catalog, subscription) is None:
            report.unmapped(item.price_id, item.price_lookup_key).subscriptions += 1


def _import_customer(
    context: _Context, report: ImportReport, gateway: StripeGateway, customer: StripeCustomerData,
    link: core.Link, owned: list[StripeSubscriptionData], clocks: dict[str, dt.datetime],
) -> None:
    # Stripe first, with no transaction open: a slow answer must not hold the customer's locks.
    invoices = {
        subscription.id: gateway.invoices.retrieve(subscription.latest_invoice_id)
        for subscription in owned if is_serving(subscription.status) and subscription.latest_invoice_id
    }
    clock_id = customer.test_clock_id
    if clock_id is not None and clock_id not in clocks:
        clocks[clock_id] = dt.datetime.fromtimestamp(gateway.test_clocks.frozen_time(clock_id), dt.UTC)
    try:
        with _transaction(context) as session:
            outcome = _apply(context, session, customer, link, owned, invoices,
                             clocks.get(clock_id) if clock_id else None)
    except (Conflict, InvalidInput) as exc:
        report.conflicts.append(core.ImportConflict(customer.id, link.host_user_id, exc.message))
        report.subscriptions_skipped += len(owned)
        return
    _merge(report, link, outcome)


@contextmanager
def _transaction(context: _Context) -> Iterator[Session]:
    """One customer's writes in one transaction; a dry run runs the very same writes and rolls them back."""
    if not context.dry_run:
        with context.container.db.unit_of_work() as session:
            yield session
        return
    try:
        with context.container.db.unit_of_work() as session:
            yield session
            raise _RolledBack
    except _RolledBack:
        pass


def _apply(
    context: _Context, session: Session, customer: StripeCustomerData, link: core.Link,
    owned: list[StripeSubscriptionData], invoices: Mapping[str, StripeInvoiceData],
    frozen_at: dt.datetime | None,
) -> _Outcome:
    now = context.container.clock.now()
    row = customers_service.adopt_stripe_customer(
        session, host_user_id=link.host_user_id, stripe_customer_id=customer.id, email=customer.email,
        name=customer.name, livemode=customer.livemode, now=now,
    )
    test_clocks.attach_clock(session, customer=row, test_clock_id=customer.test_clock_id, frozen_at=frozen_at,
                             now=now)
    # The customer's own time (their test clock's, in test mode), as the webhook worker uses for them.
    customer_now = test_clocks.time_of(session, customer_id=row.id, now=now)
    outcome = _Outcome()
    for subscription in owned:
        if not _mirror(context, session, subscription, customer_now):
            outcome.not_mirrored.append(subscription)
            continue
        outcome.mirrored += 1
        invoice = invoices.get(subscription.id)
        if is_serving(subscription.status):
            _grant_current_period(context, session, outcome, subscription, invoice, customer_now)
    return outcome


def _mirror(context: _Context, session: Session, subscription: StripeSubscriptionData,
            now: dt.datetime) -> bool:
    """Mirror one subscription; False when its price stands for no plan and it grants access (the
    mirror refuses it: it would drop a paying subscriber to the free plan)."""
    try:
        with session.begin_nested():  # a refusal rolls back this subscription only
            subscriptions_service.sync_subscription(session, snapshot=subscription, catalog=context.catalog,
                                                    now=now, seen_at_ms=context.seen_at_ms)
    except NotFound as exc:
        if exc.code != subscriptions_service.PRICE_NOT_IN_CATALOG:
            raise
        return False
    return True


def _grant_current_period(
    context: _Context, session: Session, outcome: _Outcome, subscription: StripeSubscriptionData,
    invoice: StripeInvoiceData | None, now: dt.datetime,
) -> None:
    """Grant the current period by the paid invoice that opened it; none (counted) when the latest
    invoice is unpaid (past_due) or pays for another period. A yearly subscription gets its year's
    opening month, as its invoice did: the month it is in now is granted at its first use, as for
    every yearly subscriber (entitlements.service)."""
    item = subscription.first_item
    line = invoice.service_line if invoice is not None else None
    if invoice is None or not invoice.is_paid or item is None or line is None or (
            line.period_end_s != item.current_period_end_s):
        outcome.without_paid_period += 1
        return
    granted = subscriptions_service.record_paid_invoice(session, invoice=invoice, catalog=context.catalog,
                                                        now=now, renewal_grace=context.renewal_grace)
    if granted is None:
        outcome.without_paid_period += 1
    elif granted.replayed:
        outcome.grants_already_made += 1
    else:
        outcome.grants_written += 1
        outcome.credits_granted += granted.credits


def _merge(report: ImportReport, link: core.Link, outcome: _Outcome) -> None:
    if link.by == "mapping":
        report.linked_by_mapping += 1
    else:
        report.linked_by_metadata += 1
    report.subscriptions_mirrored += outcome.mirrored
    report.subscriptions_skipped += len(outcome.not_mirrored)
    for subscription in outcome.not_mirrored:
        item = subscription.first_item
        if item is not None:
            report.unmapped(item.price_id, item.price_lookup_key).not_mirrored += 1
    report.grants_written += outcome.grants_written
    report.grants_already_made += outcome.grants_already_made
    report.credits_granted += outcome.credits_granted
    report.without_paid_period += outcome.without_paid_period
