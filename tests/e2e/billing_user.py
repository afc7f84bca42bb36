"""A host app's user living a billing story against stripesim, through coinslot's REST API only.

The user's Stripe customer sits on its own Stripe test clock and carries
`metadata.coinslot_user_id`, so coinslot links it at the first checkout (as it
would a customer made before coinslot's own row existed). `renew()` moves that
clock, and coinslot's clock with it, past the end of the current period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select

from coinslot.catalog import flows as catalog_flows
from coinslot.catalog.parser import load_catalog
from coinslot.customers.flows import METADATA_USER_KEY
from coinslot.ledger import service as ledger
from coinslot.models import Customer, LedgerEntry
from tests.support.dates import MID_MONTH
from tests.support.stack import CATALOGS, Stack

__all__ = ["URLS", "User", "assert_ledger_exact", "credits", "push_catalog"]

URLS = {"success_url": "http://127.0.0.1:5000/billing", "cancel_url": "http://127.0.0.1:5000/pricing"}
# Stripe (and stripesim) finalizes a renewal's draft invoice an hour after the period starts.
PAST_RENEWAL = dt.timedelta(hours=2)


def push_catalog(stack: Stack, name: str) -> None:
    """`coinslot catalog push`: the catalog's products and prices exist at Stripe."""
    gateway = stack.container.gateway
    catalog_flows.apply_push(
        gateway, catalog_flows.plan_push(gateway, load_catalog(CATALOGS / f"{name}.toml"))
    )


def credits(available: int, *, period: int, held: int = 0, debt: int = 0) -> dict[str, int]:
    """What GET /v1/credits/{user} answers, in the order a reader thinks of it."""
    return {
        "available_credits": available,
        "held_credits": held,
        "debt_credits": debt,
        "period_credits": period,
    }


def assert_ledger_exact(stack: Stack) -> None:
    """`coinslot credits verify` on the stack's database: every cached balance equals its entries."""
    with stack.container.db.unit_of_work(read_only=True) as session:
        problems = ledger.verify(session)
    assert problems == [], "\n".join(str(problem) for problem in problems)


@dataclass
class User:
    stack: Stack
    host_user_id: str
    test_clock_id: str
    stripe_customer_id: str

    @classmethod
    def on_test_clock(cls, stack: Stack, host_user_id: str, start_at: dt.datetime = MID_MONTH) -> User:
        """A user whose Stripe customer lives on a test clock frozen at `start_at` (a pinned date, never
        today's: tests/support/dates.py)."""
        clock_id = stack.new_test_clock(start_at)
        customer = stack.stripe.v1.customers.create(
            params={
                "email": f"{host_user_id}@example.com",
                "test_clock": clock_id,
                "metadata": {METADATA_USER_KEY: host_user_id},
            }
        )
        return cls(stack, host_user_id, clock_id, customer.id)

    # --- checkout -------------------------------------------------------------------------------

    def start_checkout(self, **item: Any) -> httpx.Response:
        return self.stack.api.post(
            "/v1/checkout/sessions", json={"host_user_id": self.host_user_id, **URLS, **item}
        )

    def pay(self, session_id: str, card: str = "pm_card_visa") -> None:
        """Pay on Stripe's hosted page, then let the webhooks arrive and apply."""
        paid = httpx.post(
            f"{self.stack.sim_server.url}/_sim/checkout/sessions/{session_id}/complete",
            json={"payment_method": card},
            timeout=30,
        )
        assert paid.status_code == 200, paid.text
        self.stack.settle()

    def subscribe(self, plan: str, interval: str = "month") -> str:
        """Checkout for a plan, paid with a Visa; returns the Stripe subscription id."""
        started = self.start_checkout(plan=plan, interval=interval)
        assert started.status_code == 201, started.text
        assert started.json()["mode"] == "subscription"
        self.pay(started.json()["session_id"])
        session = self.stack.stripe.v1.checkout.sessions.retrieve(started.json()["session_id"])
        assert session.customer == self.stripe_customer_id  # the customer on the test clock was reused
        return str(session.subscription)

    def buy(self, pack: str, quantity: int = 1) -> str:
        """Checkout for a credit pack, paid with a Visa; returns the Checkout session id."""
        started = self.start_checkout(pack=pack, quantity=quantity)
        assert started.status_code == 201, started.text
        session_id: str = started.json()["session_id"]
        self.pay(session_id)
        return session_id

    # --- using credits ----------------------------------------------------------------------------

    def consume(self, feature: str, idempotency_key: str, **params: str) -> httpx.Response:
        body: dict[str, Any] = {
            "user_id": self.host_user_id,
            "feature": feature,
            "idempotency_key": idempotency_key,
        }
        if params:
            body["params"] = params
        return self.stack.api.post("/v1/consume", json=body)

    def check(self, feature: str, **params: str) -> dict[str, Any]:
        body: dict[str, Any] = {"user_id": self.host_user_id, "feature": feature, "params": params}
        answer = self.stack.api.post("/v1/check", json=body)
        assert answer.status_code == 200, answer.text
        decision: dict[str, Any] = answer.json()
        return decision

    def credits(self) -> dict[str, int]:
        """GET /v1/credits/{user}: available, held, debt and the period's allowance."""
        answer = self.stack.api.get(f"/v1/credits/{self.host_user_id}")
        assert answer.status_code == 200, answer.text
        return {key: value for key, value in answer.json().items() if key != "host_user_id"}

    def history(self, months: int = 6) -> list[dict[str, Any]]:
        answer = self.stack.api.get(f"/v1/credits/{self.host_user_id}/history", params={"months": months})
        assert answer.status_code == 200, answer.text
        rows: list[dict[str, Any]] = answer.json()
        return rows

    def summary(self) -> dict[str, Any]:
        answer = self.stack.api.get(f"/v1/customers/{self.host_user_id}")
        assert answer.status_code == 200, answer.text
        summary: dict[str, Any] = answer.json()
        return summary

    def change_plan(self, plan: str, **options: str) -> dict[str, Any]:
        answer = self.stack.api.post(
            f"/v1/customers/{self.host_user_id}/subscription/change", json={"plan": plan, **options}
        )
        assert answer.status_code == 200, answer.text
        self.stack.settle()
        changed: dict[str, Any] = answer.json()
        return changed

    # --- time -------------------------------------------------------------------------------------

    def period_end(self, subscription_id: str) -> dt.datetime:
        subscription = self.stack.stripe.v1.subscriptions.retrieve(subscription_id)
        return dt.datetime.fromtimestamp(subscription["items"].data[0].current_period_end, dt.UTC)

    def renew(self, subscription_id: str) -> str:
        """Move the test clock past the period's end: Stripe bills the renewal, the webhooks apply.
        Returns the renewal invoice's id."""
        before = self.latest_invoice(subscription_id)
        self.stack.advance_clock(self.test_clock_id, to=self.period_end(subscription_id) + PAST_RENEWAL)
        self.stack.settle()
        renewal = self.latest_invoice(subscription_id)
        assert renewal != before
        return renewal

    def advance(self, days: int) -> None:
        self.stack.advance_clock(self.test_clock_id, to=self.stack.clock.now() + dt.timedelta(days=days))
        self.stack.settle()

    def latest_invoice(self, subscription_id: str) -> str:
        return str(self.stack.stripe.v1.subscriptions.retrieve(subscription_id).latest_invoice)

    # --- the ledger as an operator sees it ----------------------------------------------------------

    @property
    def customer_id(self) -> int:
        with self.stack.container.db.unit_of_work(read_only=True) as session:
            return ledger.customer_id_for(session, host_user_id=self.host_user_id)

    def key(self, idempotency_key: str) -> str:
        """The entry id coinslot gives this user's idempotency key."""
        return ledger.caller_entry_id(customer_id=self.customer_id, idempotency_key=idempotency_key)

    def entries(self) -> list[tuple[str, str, int, int]]:
        """(entry id, kind, change to the available credits, available after), oldest first.

        An expiry's id is shown as `lot:<lot>:expired` (the ledger suffixes the balance version)."""
        with self.stack.container.db.unit_of_work(read_only=True) as session:
            rows = session.scalars(
                select(LedgerEntry)
                .join(Customer, Customer.id == LedgerEntry.customer_id)
                .where(Customer.host_user_id == self.host_user_id)
                .order_by(LedgerEntry.id)
            )
            return [
                (
                    entry.entry_id.rsplit(":", 1)[0] if entry.kind == "expire" else entry.entry_id,
                    entry.kind,
                    entry.available_delta,
                    entry.balance_after,
                )
                for entry in rows
            ]

    def lot_of(self, entry_id: str) -> int:
        """The lot an entry created (e.g. the lot of a period's grant), to name its expiry."""
        with self.stack.container.db.unit_of_work(read_only=True) as session:
            lot_id = session.scalar(select(LedgerEntry.lot_id).where(LedgerEntry.entry_id == entry_id))
        assert lot_id is not None
        return lot_id
