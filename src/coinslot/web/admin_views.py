"""What the admin pages show, gathered from the domains (read-only)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from coinslot.alerts import service as alerts
from coinslot.catalog.core import Catalog
from coinslot.checkout import service as checkout
from coinslot.customers import service as customers
from coinslot.errors import NotFound
from coinslot.ledger import service as ledger
from coinslot.models import Alert, Customer, Order, Subscription
from coinslot.overview import service as overview
from coinslot.subscriptions import service as subscriptions
from coinslot.subscriptions.core import PlanAccess
from coinslot.web.auth import AdminSession
from coinslot.web.present import NavItem
from coinslot.webhooks import service as events

__all__ = [
    "CustomerDetail", "Pulse", "admin_nav", "admin_page", "customer_detail", "customer_search", "pulse",
]


def admin_nav(current: str, *, open_alerts: int = 0) -> list[NavItem]:
    items = [("Overview", "/admin"), ("Customers", "/admin/customers"), ("Stripe events", "/admin/events"),
             ("Dead letters", "/admin/events?status=dead"), ("Alerts", "/admin/alerts"),
             ("Outbound", "/admin/outbound"), ("Audit log", "/admin/audit")]
    return [NavItem(label, href, href == current, open_alerts if href == "/admin/alerts" else 0)
            for label, href in items]


def admin_page(admin: AdminSession, current: str) -> dict[str, Any]:
    """What every signed-in console page gives its template: the nav (with the open alerts' count), the
    session's CSRF token, who is in."""
    return {"admin": True, "nav": admin_nav(current, open_alerts=admin.open_alerts), "csrf_token": admin.csrf,
            "signed_in": admin.actor}


def customer_search(session: Session, *, query: str) -> Sequence[Customer]:
    return customers.find_customers(session, text=query)


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
    events_by_status: dict[str, int]
    open_alerts: Sequence[Alert]


def pulse(session: Session) -> Pulse:
    open_alerts = alerts.list_alerts(session, unacknowledged_only=True, limit=10)
    return Pulse(events.counts(session), open_alerts)
