"""What the admin pages show, gathered from the domains (read-only)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from coinslot.alerts import service as alerts
from coinslot.analytics.service import Figures
from coinslot.catalog.core import Catalog
from coinslot.checkout import service as checkout
from coinslot.customers import service as customers
from coinslot.errors import NotFound
from coinslot.ledger import service as ledger
from coinslot.models import Alert, Customer, Order, OutboxMessage, Subscription, WebhookEvent
from coinslot.outbound import service as outbound
from coinslot.overview import service as overview
from coinslot.queue.service import StatusCount
from coinslot.subscriptions import service as subscriptions
from coinslot.subscriptions.core import PlanAccess
from coinslot.web.auth import AdminSession
from coinslot.web.paging import NewestFirst, newest_first
from coinslot.web.present import NavItem
from coinslot.webhooks import service as events

__all__ = [
    "CustomerDetail", "Pulse", "admin_nav", "admin_page", "customer_detail", "customer_search",
    "event_search", "figures_csv", "message_search", "pulse",
]

FIGURES_CSV_COLUMNS = ("figure", "plan", "interval", "currency", "subscriptions", "value")
CUSTOMERS_PER_PAGE = 50
QUEUE_ROWS_PER_PAGE = 200  # events and outbound messages: a screenful to scan for errors


def admin_nav(current: str, *, open_alerts: int = 0) -> list[NavItem]:
    items = [("Overview", "/admin"), ("Customers", "/admin/customers"), ("Events", "/admin/events"),
             ("Dead letters", "/admin/events?status=dead"), ("Alerts", "/admin/alerts"),
             ("Outbound", "/admin/outbound"), ("Auto top-up", "/admin/auto_topup"),
             ("Audit", "/admin/audit")]
    return [NavItem(label, href, href == current, open_alerts if href == "/admin/alerts" else 0)
            for label, href in items]


def admin_page(admin: AdminSession, current: str) -> dict[str, Any]:
    """What every signed-in console page gives its template: the nav (with the open alerts' count), the
    session's CSRF token, who is in."""
    return {"admin": True, "nav": admin_nav(current, open_alerts=admin.open_alerts), "csrf_token": admin.csrf,
            "signed_in": admin.actor}


def customer_search(session: Session, *, query: str, before: int | None) -> NewestFirst[Customer]:
    """A page of the customers page: those matching `query`, newest first, older than `before`."""
    return newest_first(
        lambda limit: customers.find_customers(session, text=query, before_id=before, limit=limit),
        limit=CUSTOMERS_PER_PAGE, before=before, path="/admin/customers", query={"q": query})


def event_search(session: Session, *, status: str, type_: str,
                 before: int | None) -> NewestFirst[WebhookEvent]:
    """A page of the events page (or the dead letters): Stripe events newest first, filtered."""
    return newest_first(
        lambda limit: events.list_events(session, status=status or None, event_type=type_.strip() or None,
                                         before_id=before, limit=limit),
        limit=QUEUE_ROWS_PER_PAGE, before=before, path="/admin/events",
        query={"status": status, "type": type_})


def message_search(session: Session, *, status: str, type_: str,
                   before: int | None) -> NewestFirst[OutboxMessage]:
    """A page of the outbound page: the messages to the host app newest first, filtered."""
    return newest_first(
        lambda limit: outbound.list_messages(session, status=status or None, event_type=type_.strip() or None,
                                             before_id=before, limit=limit),
        limit=QUEUE_ROWS_PER_PAGE, before=before, path="/admin/outbound",
        query={"status": status, "type": type_})


@dataclass(frozen=True, slots=True)
class CustomerDetail:
    customer: Customer
    access: PlanAccess
    subscriptions: Sequence[Subscription]
    credits: overview.CreditsState  # the balance the customer's pages and the API show
    entries: Sequence[ledger.LedgerLine]  # newest first
    orders: Sequence[Order]


def customer_detail(session: Session, *, customer_id: int, catalog: Catalog, now: dt.datetime,
                    grace_days: int) -> CustomerDetail:
    customer = customers.get_by_id(session, customer_id=customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    return CustomerDetail(
        customer=customer,
        access=subscriptions.plan_access_for(session, customer_id=customer_id, catalog=catalog, now=now,
                                             grace=dt.timedelta(days=grace_days)),
        subscriptions=subscriptions.list_for_customer(session, customer_id=customer_id),
        credits=overview.customer_state(session, host_user_id=customer.host_user_id, catalog=catalog, now=now,
                                        grace=dt.timedelta(days=grace_days)).credits,
        entries=ledger.entries(session, customer_id=customer_id, limit=100),
        orders=checkout.list_orders(session, host_user_id=customer.host_user_id, limit=50),
    )


@dataclass(frozen=True, slots=True)
class Pulse:
    events_by_status: dict[str, StatusCount]
    open_alerts: Sequence[Alert]


def pulse(session: Session) -> Pulse:
    open_alerts = alerts.list_alerts(session, unacknowledged_only=True, limit=10)
    return Pulse(events.counts(session), open_alerts)


def figures_csv(figures: Figures) -> str:
    """The overview's revenue figures as CSV, one figure per row (FIGURES_CSV_COLUMNS); amounts in minor
    units, as integers, so a spreadsheet sums them exactly. The per-plan MRR rows are each rounded on their
    own: they may differ from the currency's total (rounded once) by less than a minor unit per row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIGURES_CSV_COLUMNS)
    mrr = figures.mrr
    for currency, total_minor in mrr.total_minor.items():
        counted = sum(line.subscriptions for line in mrr.lines if line.currency == currency)
        writer.writerow(("mrr_minor", "", "", currency, counted, total_minor))
    for line in mrr.lines:
        writer.writerow(("mrr_minor", line.plan_key or "", line.interval, line.currency, line.subscriptions,
                         line.mrr_minor))
    writer.writerow(("mrr_estimated_at_catalog_price", "", "", "", mrr.estimated, ""))
    for row in figures.subscribers:
        writer.writerow(("active_subscribers", row.plan_key, row.interval or "", "", row.count, ""))
    churn = figures.churn
    writer.writerow(("churn_window_days", "", "", "", "", churn.window_days))
    writer.writerow(("churn_live_at_start", "", "", "", churn.live_at_start, ""))
    writer.writerow(("churn_ended", "", "", "", churn.ended, ""))
    writer.writerow(("churn_rate_percent", "", "", "", "",
                     "" if churn.rate_percent is None else str(churn.rate_percent)))
    return out.getvalue()
