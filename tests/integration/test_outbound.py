"""Webhooks to the host app (SQLite and PostgreSQL): signed, delivered once, retried, dead-lettered.

A real host endpoint listens on loopback and verifies every delivery with
`coinslot.hostwebhooks.verify_host_webhook`, as a host app would.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from coinslot.app import create_app
from coinslot.checkout import service as checkout
from coinslot.cli import app as cli
from coinslot.clock import FixedClock
from coinslot.config import Settings
from coinslot.container import Container
from coinslot.customers import service as customers
from coinslot.db import Database
from coinslot.errors import InvalidInput
from coinslot.models import Alert, OutboxMessage
from coinslot.outbound import service as outbound
from coinslot.outbound.delivery import post
from coinslot.outbound.sender import claim, deliver_due, lease_s, record, start_sender
from coinslot.queue.service import StatusCount
from tests.integration.test_customers_and_orders import SKINOVA, paid_session
from tests.support.host_receiver import SECRET, HostReceiver

NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "catalogs"
LOW = {"host_user_id": "ph_1", "available_credits": 4, "period_credits": 25}


def make_settings(db: Database, host_url: str | None, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": db.url,
        "host_webhook_url": host_url,
        "host_webhook_secret": SECRET,
        "host_webhook_max_attempts": 3,
        "host_webhook_retry_base_s": 10.0,
        "host_webhook_retry_cap_s": 60.0,
        "host_webhook_timeout_s": 5.0,
        "log_json": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def host(clock: FixedClock) -> Iterator[HostReceiver]:
    # The host checks freshness against coinslot's (fixed) clock, so moving time keeps deliveries fresh.
    with HostReceiver(now_s=lambda: clock.now().timestamp()) as receiver:
        yield receiver


@pytest.fixture
def container(db: Database, clock: FixedClock, host: HostReceiver) -> Container:
    return Container(settings=make_settings(db, host.url), db=db, clock=clock)


def enqueue(container: Container, event_type: str = "credits.low", payload: object = None) -> str:
    with container.db.unit_of_work() as session:
        message = outbound.enqueue(session, event_type=event_type, payload=payload or LOW, now=NOW)
        session.flush()
        return message.webhook_id


def message(container: Container, webhook_id: str) -> OutboxMessage:
    with container.db.unit_of_work(read_only=True) as session:
        return session.scalars(select(OutboxMessage).where(OutboxMessage.webhook_id == webhook_id)).one()


def later(clock: FixedClock, seconds: float) -> None:
    clock.advance(dt.timedelta(seconds=seconds))


def test_a_credits_low_event_reaches_the_host_once_signed_and_in_the_standard_envelope(
    container: Container, host: HostReceiver
) -> None:
    webhook_id = enqueue(container)
    assert deliver_due(container) == 1
    assert deliver_due(container) == 0  # delivered: never sent again
    [received] = host.received
    assert host.rejected == []
    assert received.webhook_id == webhook_id
    assert received.event == {"type": "credits.low", "timestamp": "2026-11-01T12:00:00Z", "data": LOW}
    row = message(container, webhook_id)
    assert (row.status, row.attempts, row.delivered_at, row.last_status_code) == ("delivered", 1, NOW, 200)
    assert (row.locked_by, row.next_attempt_at) == (None, None)


def test_a_host_that_fails_twice_gets_the_event_on_the_third_attempt_with_the_same_id(
    container: Container, host: HostReceiver, clock: FixedClock
) -> None:
    host.answers = [500, 503]
    webhook_id = enqueue(container)
    assert deliver_due(container) == 1
    failed = message(container, webhook_id)
    assert (failed.status, failed.attempts, failed.last_status_code) == ("failed", 1, 500)
    assert failed.next_attempt_at is not None
    assert failed.next_attempt_at > NOW
    assert deliver_due(container) == 0  # backing off: not due yet
    for _ in range(2):
        later(clock, 60)
        assert deliver_due(container) == 1
    row = message(container, webhook_id)
    assert (row.status, row.attempts, row.last_error) == ("delivered", 3, None)
    assert [r.webhook_id for r in host.received] == [webhook_id] * 3


def test_after_the_last_attempt_a_message_is_dead_with_an_alert_that_is_not_sent_to_the_host(
    container: Container, host: HostReceiver, clock: FixedClock
) -> None:
    host.answers = [500] * 3
    webhook_id = enqueue(container, "payment.failed", {"host_user_id": "ph_1", "invoice": "in_1"})
    for _ in range(3):
        deliver_due(container)
        later(clock, 60)
    dead = message(container, webhook_id)
    assert (dead.status, dead.attempts, dead.next_attempt_at) == ("dead", 3, None)
    assert "HTTP 500" in (dead.last_error or "")
    with container.db.unit_of_work(read_only=True) as session:
        [alert] = session.scalars(select(Alert)).all()
        # An alert.raised about a dead channel would travel that channel, die, and alert again: none.
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    assert (alert.code, alert.subject_id) == ("outbound.dead", webhook_id)
    assert deliver_due(container) == 0
    # The host is fixed; the operator replays: same webhook id, fresh attempts.
    with container.db.unit_of_work() as session:
        outbound.replay(session, message_ref=webhook_id, now=clock.now())
    assert deliver_due(container) == 1
    replayed = message(container, webhook_id)
    assert (replayed.status, replayed.attempts) == ("delivered", 1)
    assert {r.webhook_id for r in host.received} == {webhook_id}


def test_an_alert_from_the_stripe_pipeline_is_delivered_as_alert_raised(
    container: Container, host: HostReceiver
) -> None:
    with container.db.unit_of_work() as session:
        outbound.raise_alert(
            session, code="webhook.dead", message="evt_1 is dead", now=NOW, subject_type="webhook_event",
            subject_id="evt_1",
        )
    deliver_due(container)
    [received] = host.received
    assert received.event["type"] == "alert.raised"
    assert received.event["data"] == {
        "code": "webhook.dead",
        "message": "evt_1 is dead",
        "subject_type": "webhook_event",
        "subject_id": "evt_1",
    }


def test_two_senders_side_by_side_deliver_each_message_exactly_once(
    container: Container, host: HostReceiver
) -> None:
    # On PostgreSQL the senders claim concurrently (SKIP LOCKED); on SQLite one claim runs at a time.
    webhook_ids = {enqueue(container, payload={"n": n}) for n in range(40)}
    errors: list[BaseException] = []

    def run(sender: str) -> None:
        try:
            while deliver_due(container, sender=sender, limit=3) > 0:
                pass
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f"sender-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    counts = collections.Counter(r.webhook_id for r in host.received)
    assert set(counts) == webhook_ids
    assert set(counts.values()) == {1}
    with container.db.unit_of_work(read_only=True) as session:
        assert outbound.counts(session) == {"delivered": StatusCount(40)}


def test_a_sender_killed_mid_delivery_leaves_the_message_to_another_with_the_same_webhook_id(
    container: Container, host: HostReceiver, clock: FixedClock
) -> None:
    webhook_id = enqueue(container)
    # Sender A claims and POSTs, then dies before recording the answer.
    [delivery] = claim(container, sender="A", limit=10)
    with httpx.Client(timeout=5) as client:
        answer = post(delivery, client=client, url=host.url, secret=SECRET, now=clock.now())
    assert answer.is_delivered
    assert deliver_due(container, sender="B") == 0  # still leased to A
    later(clock, lease_s(container.settings, limit=10) + 1)
    assert deliver_due(container, sender="B") == 1
    assert [r.webhook_id for r in host.received] == [webhook_id, webhook_id]  # the host dedupes on it
    row = message(container, webhook_id)
    assert (row.status, row.attempts) == ("delivered", 2)
    assert record(container, delivery, answer, sender="A") == "lease_lost"  # A comes back: nothing changes


def test_without_a_host_url_messages_stay_pending_and_visible(
    db: Database, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    container = Container(settings=make_settings(db, None), db=db, clock=clock)
    webhook_id = enqueue(container)
    assert start_sender(container) is None
    assert deliver_due(container) == 0
    row = message(container, webhook_id)
    assert (row.status, row.attempts, row.locked_by, row.last_error) == ("pending", 0, None, None)
    monkeypatch.setenv("COINSLOT_DATABASE_URL", db.url)
    monkeypatch.delenv("COINSLOT_HOST_WEBHOOK_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "250")
    listed = CliRunner().invoke(cli, ["outbound", "list", "--status", "pending"])
    assert listed.exit_code == 0, listed.output
    assert "all messages: pending 1" in listed.output
    assert "COINSLOT_HOST_WEBHOOK_URL is not set" in listed.output


def test_an_operator_replays_dead_messages_from_the_cli(
    container: Container, host: HostReceiver, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    webhook_id = enqueue(container)
    with container.db.unit_of_work() as session:
        row = session.merge(message(container, webhook_id))
        row.status, row.next_attempt_at, row.last_error = "dead", None, "HTTP 500: boom"
    monkeypatch.setenv("COINSLOT_DATABASE_URL", container.db.url)
    monkeypatch.setenv("COLUMNS", "250")
    runner = CliRunner()
    assert "all messages: dead 1" in runner.invoke(cli, ["outbound", "list"]).output
    replayed = runner.invoke(cli, ["outbound", "replay", "--dead"])
    assert replayed.exit_code == 0, replayed.output
    assert "1 dead message(s) due again" in replayed.output
    # The CLI made it due at the wall clock's now; the sender here runs on the test's clock.
    clock.set(max(clock.now(), dt.datetime.now(dt.UTC)) + dt.timedelta(seconds=1))
    assert deliver_due(container) == 1
    assert message(container, webhook_id).status == "delivered"
    assert runner.invoke(cli, ["outbound", "replay", "msg_nope"]).exit_code == 2


def test_a_paid_order_is_announced_once_as_order_paid(container: Container, host: HostReceiver) -> None:
    with container.db.unit_of_work() as session:
        customer = customers.ensure_customer(session, host_user_id="skin_1", now=NOW)
        order = checkout.create_order(
            session, customer_id=customer.id, product_key="consultation", payload={"notes": "arm"},
            catalog=SKINOVA, max_payload_bytes=4096, now=NOW,
        )
        order_id = order.public_id
    metadata = {"coinslot_user_id": "skin_1", "coinslot_item": "product:consultation",
                "coinslot_order_id": order_id}
    for _ in range(2):  # the webhook and the success page both fulfil: one announcement
        with container.db.unit_of_work() as session:
            checkout.fulfil_checkout_session(
                session, checkout=paid_session("cs_1", metadata=metadata), catalog=SKINOVA, now=NOW
            )
    deliver_due(container)
    [received] = host.received
    assert received.event["type"] == "order.paid"
    assert received.event["data"] == {
        "host_user_id": "skin_1", "order_id": order_id, "product_key": "consultation", "amount_minor": 4900,
        "currency": "usd", "checkout_session": "cs_1", "paid_at": NOW.isoformat(),
    }


def test_the_app_runs_a_sender_when_a_host_url_is_set(container: Container, host: HostReceiver) -> None:
    settings = make_settings(container.db, host.url, catalog_path=EXAMPLES / "patch_hive.toml")
    webhook_id = enqueue(container)
    app = create_app(settings, db=container.db, clock=container.clock, configure_logs=False)
    with TestClient(app):  # the lifespan starts BACKGROUND_STARTERS
        deadline = time.monotonic() + 15
        while not host.received and time.monotonic() < deadline:
            time.sleep(0.05)
    assert [r.webhook_id for r in host.received] == [webhook_id]
    assert message(container, webhook_id).status == "delivered"


def test_a_host_url_without_a_usable_secret_stops_start_up(db: Database, clock: FixedClock) -> None:
    for secret in (None, "whsec_not base64!"):
        settings = make_settings(db, "http://127.0.0.1:9/hooks", host_webhook_secret=secret)
        with pytest.raises(InvalidInput, match="COINSLOT_HOST_WEBHOOK_SECRET"):
            start_sender(Container(settings=settings, db=db, clock=clock))


def test_payloads_round_trip_as_json(container: Container, host: HostReceiver) -> None:
    payload = {"host_user_id": "ü-1", "nested": {"list": [1, 2]}, "none": None}
    enqueue(container, "subscription.updated", payload)
    deliver_due(container)
    assert host.received[0].event["data"] == payload
    assert json.loads(message(container, host.received[0].webhook_id).payload) == payload
