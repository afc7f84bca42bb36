"""Steps the billing stories share: buy through Checkout on stripesim, and read what coinslot recorded.

The steps talk to the two servers the way their users do (coinslot's REST API,
stripesim's pay page control, Stripe's API through the SDK); the reads look at
coinslot's tables directly, because the stories assert the ledger entries, the
mirror rows and the event statuses, not only what the API chooses to show.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import stripe
from sqlalchemy import select, text

from coinslot.catalog import flows as catalog_flows
from coinslot.catalog.parser import load_catalog
from coinslot.models import Alert, Customer, LedgerEntry, Subscription, WebhookAttempt, WebhookEvent
from coinslot.webhooks.worker import process_due
from tests.support.stack import CATALOGS, STRIPE_KEY, WEBHOOK_SECRET, Stack

RETURN_URLS = {"success_url": "http://127.0.0.1:5000/billing", "cancel_url": "http://127.0.0.1:5000/pricing"}


# --- buying ---------------------------------------------------------------------------------------------


def push_catalog(stack: Stack, catalog: str = "patch_hive") -> None:
    """`coinslot catalog push`: the plans and packs exist at Stripe, with their lookup keys."""
    gateway = stack.container.gateway
    parsed = load_catalog(CATALOGS / f"{catalog}.toml")
    catalog_flows.apply_push(gateway, catalog_flows.plan_push(gateway, parsed))
    stack.sim.dispatcher.flush()


def start_checkout(stack: Stack, **body: Any) -> dict[str, Any]:
    response = stack.api.post("/v1/checkout/sessions", json={**RETURN_URLS, **body})
    assert response.status_code == 201, response.text
    started: dict[str, Any] = response.json()
    return started


def pay(stack: Stack, session_id: str, card: str = "pm_card_visa") -> dict[str, Any]:
    """The customer pays on Stripe's hosted page."""
    response = httpx.post(
        f"{stack.sim_server.url}/_sim/checkout/sessions/{session_id}/complete",
        json={"payment_method": card},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    paid: dict[str, Any] = response.json()
    return paid


def subscribe(stack: Stack, user: str, *, plan: str = "pro", card: str = "pm_card_visa") -> tuple[str, str]:
    """A user takes a monthly plan through Checkout; returns (checkout session id, subscription id)."""
    started = start_checkout(
        stack, host_user_id=user, email=f"{user}@example.com", plan=plan, interval="month"
    )
    paid = pay(stack, started["session_id"], card)
    return started["session_id"], str(paid["subscription"])


def buy_credits(stack: Stack, user: str, quantity: int) -> str:
    """A user buys a pack of credits through Checkout; returns the checkout session id."""
    started = start_checkout(
        stack, host_user_id=user, email=f"{user}@example.com", pack="credits", quantity=quantity
    )
    pay(stack, started["session_id"])
    return str(started["session_id"])


def summary(stack: Stack, user: str) -> dict[str, Any]:
    """What the host app shows the user: plan, subscription and credits."""
    response = stack.api.get(f"/v1/customers/{user}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


# --- Stripe's side --------------------------------------------------------------------------------------


def stripe_events(stack: Stack, event_type: str) -> list[dict[str, Any]]:
    """Stripe's events of a type, oldest first, as plain JSON (what a delivery carries)."""
    listed = stack.stripe.v1.events.list(params={"type": event_type, "limit": 100})
    return [event.to_dict() for event in reversed(listed.data)]


def deliver(stack: Stack, event: dict[str, Any], *, client: httpx.Client | None = None) -> httpx.Response:
    """POST an event to coinslot signed with the endpoint's secret, as Stripe does."""
    body = json.dumps(event, default=str)
    header = stripe.WebhookSignature.generate_signature_header(body, WEBHOOK_SECRET)
    headers = {"Stripe-Signature": header, "Content-Type": "application/json"}
    return (client or httpx).post(f"{stack.url}/webhooks/stripe", content=body.encode(), headers=headers)


def deliver_concurrently(stack: Stack, event: dict[str, Any], *, copies: int) -> list[httpx.Response]:
    barrier = threading.Barrier(copies)
    answers: list[httpx.Response] = []

    def send() -> None:
        with httpx.Client(timeout=30) as client:
            barrier.wait()
            answers.append(deliver(stack, event, client=client))

    threads = [threading.Thread(target=send) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def deliveries(stack: Stack, event_id: str) -> list[dict[str, Any]]:
    """stripesim's delivery log for one event: one entry per delivery, with each attempt's HTTP status."""
    return [d for d in stack.sim.dispatcher.deliveries() if d["event_id"] == event_id]


def set_endpoint_enabled(stack: Stack, enabled: bool) -> None:
    """Disable or re-enable coinslot's webhook endpoint at Stripe (a disabled one gets nothing)."""
    [endpoint] = stack.stripe.v1.webhook_endpoints.list().data
    stack.stripe.v1.webhook_endpoints.update(endpoint.id, params={"disabled": not enabled})


# --- processing -----------------------------------------------------------------------------------------


def settle_with_workers(stack: Stack, workers: int) -> None:
    """Deliver everything, then let several workers race for the inbox at the same moment."""
    stack.sim.dispatcher.flush()
    barrier = threading.Barrier(workers)

    def work(name: str) -> None:
        barrier.wait()
        while process_due(stack.container, limit=5, worker=name):
            pass

    threads = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def settle_when_due(stack: Stack, max_wait_s: float = 120.0) -> None:
    """Move coinslot's clock to the last scheduled retry (the worker's backoff), then settle.

    The clock is moved rather than waited on: with a backoff long enough that no retry comes due by
    wall-clock time passing inside a `settle()` (under CPU load a settle takes longer than a short
    backoff), a test sees exactly the attempts it caused, and still does not sleep.
    """
    with stack.container.db.unit_of_work(read_only=True) as session:
        due = session.scalar(
            select(WebhookEvent.next_attempt_at)
            .where(WebhookEvent.status == "failed")
            .order_by(WebhookEvent.next_attempt_at.desc())
            .limit(1)
        )
    assert due is not None, "no retry is scheduled"
    due = due if due.tzinfo else due.replace(tzinfo=dt.UTC)  # SQLite hands back naive UTC
    wait_s = (due - stack.clock.now()).total_seconds()
    assert wait_s < max_wait_s, f"next retry in {wait_s:.1f}s"
    if wait_s > 0:
        stack.clock.move_to(due)
    stack.settle()


def cli_env(stack: Stack) -> dict[str, str]:
    """What `coinslot ...` needs to reach this stack's database and Stripe."""
    settings = stack.container.settings
    return {
        "COINSLOT_DATABASE_URL": settings.database_url,
        "COINSLOT_STRIPE_SECRET_KEY": STRIPE_KEY,
        "COINSLOT_STRIPE_API_BASE": stack.sim_server.url,
        "COINSLOT_STRIPE_WEBHOOK_SECRETS": WEBHOOK_SECRET,
        "COINSLOT_STRIPE_MAX_NETWORK_RETRIES": "0",
        "COINSLOT_CATALOG_PATH": str(settings.catalog_path),
        "COLUMNS": "200",
    }


# --- coinslot's records ---------------------------------------------------------------------------------


def inbox(stack: Stack, event_type: str | None = None) -> list[WebhookEvent]:
    """Stored Stripe events, in the order they were received."""
    with stack.container.db.unit_of_work(read_only=True) as session:
        query = select(WebhookEvent).order_by(WebhookEvent.id)
        if event_type is not None:
            query = query.where(WebhookEvent.type == event_type)
        return list(session.scalars(query))


def stored_event(stack: Stack, stripe_event_id: str) -> WebhookEvent:
    with stack.container.db.unit_of_work(read_only=True) as session:
        return session.scalars(
            select(WebhookEvent).where(WebhookEvent.stripe_event_id == stripe_event_id)
        ).one()


def attempts(stack: Stack, stripe_event_id: str) -> list[str]:
    """The outcome of each processing attempt of an event, in order."""
    with stack.container.db.unit_of_work(read_only=True) as session:
        query = (
            select(WebhookAttempt.outcome)
            .join(WebhookEvent, WebhookEvent.id == WebhookAttempt.event_id)
            .where(WebhookEvent.stripe_event_id == stripe_event_id)
            .order_by(WebhookAttempt.id)
        )
        return list(session.scalars(query))


def ledger(stack: Stack, user: str) -> list[tuple[str, str, int]]:
    """A user's ledger entries, oldest first: (entry id, kind, change to the available credits)."""
    with stack.container.db.unit_of_work(read_only=True) as session:
        query = (
            select(LedgerEntry.entry_id, LedgerEntry.kind, LedgerEntry.available_delta)
            .join(Customer, Customer.id == LedgerEntry.customer_id)
            .where(Customer.host_user_id == user)
            .order_by(LedgerEntry.id)
        )
        return [(str(entry_id), str(kind), int(delta)) for entry_id, kind, delta in session.execute(query)]


def mirror(stack: Stack, subscription_id: str) -> Subscription | None:
    with stack.container.db.unit_of_work(read_only=True) as session:
        query = select(Subscription).where(Subscription.stripe_subscription_id == subscription_id)
        return session.scalars(query).one_or_none()


def alerts(stack: Stack) -> list[Alert]:
    with stack.container.db.unit_of_work(read_only=True) as session:
        return list(session.scalars(select(Alert).order_by(Alert.id)))


@contextmanager
def failing_ledger_writes(stack: Stack, entry_prefix: str, message: str) -> Iterator[None]:
    """A database fault: every insert of a ledger entry whose id starts with `entry_prefix` fails.

    A trigger, not a patch: the failure happens inside the worker's real transaction,
    after the effects before it (the subscription's sync) were written.
    """
    engine = stack.container.db.engine
    pattern = entry_prefix.replace("'", "''") + "%"
    reason = message.replace("'", "''")
    if engine.dialect.name == "postgresql":
        create = [
            "CREATE FUNCTION coinslot_test_fault() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{reason}'; END $$",
            "CREATE TRIGGER coinslot_test_fault BEFORE INSERT ON ledger_entries FOR EACH ROW "
            f"WHEN (NEW.entry_id LIKE '{pattern}') EXECUTE FUNCTION coinslot_test_fault()",
        ]
        drop = ["DROP TRIGGER coinslot_test_fault ON ledger_entries", "DROP FUNCTION coinslot_test_fault()"]
    else:
        create = [
            "CREATE TRIGGER coinslot_test_fault BEFORE INSERT ON ledger_entries "
            f"WHEN NEW.entry_id LIKE '{pattern}' BEGIN SELECT RAISE(ABORT, '{reason}'); END"
        ]
        drop = ["DROP TRIGGER coinslot_test_fault"]
    with engine.begin() as connection:
        for statement in create:
            connection.execute(text(statement))
    try:
        yield
    finally:
        with engine.begin() as connection:
            for statement in drop:
                connection.execute(text(statement))
