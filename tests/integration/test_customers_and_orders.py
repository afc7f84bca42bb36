"""Customers, orders and fulfilment in the database (SQLite and PostgreSQL), without Stripe."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from coinslot.catalog.parser import load_catalog
from coinslot.checkout import core, service
from coinslot.customers import service as customers
from coinslot.db import Database
from coinslot.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from coinslot.ledger import service as ledger
from coinslot.models import CheckoutSession, Customer, Order
from coinslot.stripe_gateway.checkout import StripeCheckoutSessionData, StripeLineItem

NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "catalogs"
SKINOVA = load_catalog(EXAMPLES / "skinova.toml")
PATCH_HIVE = load_catalog(EXAMPLES / "patch_hive.toml")
FORM = {"notes": "itchy patch on the left arm since May", "image_urls": ["https://cdn.example/scan-1.png"]}


def paid_session(session_id: str, **overrides: object) -> StripeCheckoutSessionData:
    fields: dict[str, object] = {
        "id": session_id,
        "url": None,
        "status": "complete",
        "payment_status": "paid",
        "mode": "payment",
        "customer": "cus_1",
        "subscription": None,
        "payment_intent": "pi_1",
        "invoice": None,
        "metadata": {},
        "client_reference_id": None,
        "amount_total": 4900,
        "currency": "usd",
    }
    fields.update(overrides)
    return StripeCheckoutSessionData(**fields)  # type: ignore[arg-type]


def test_parallel_first_visits_make_one_customer_row(db: Database) -> None:
    barrier = threading.Barrier(8)
    ids: list[int] = []

    def visit() -> None:
        barrier.wait()
        with db.unit_of_work() as session:
            ids.append(
                customers.ensure_customer(session, host_user_id="user_42", email="a@example.com", now=NOW).id
            )

    threads = [threading.Thread(target=visit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 1
    with db.unit_of_work(read_only=True) as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 1


def test_a_blank_host_user_id_is_refused(db: Database) -> None:
    with db.unit_of_work() as session, pytest.raises(InvalidInput):
        customers.ensure_customer(session, host_user_id="  ", now=NOW)


def test_a_consultation_form_is_saved_as_a_draft_and_paid_only_by_a_paid_session(db: Database) -> None:
    with db.unit_of_work() as session:
        customer = customers.ensure_customer(session, host_user_id="skin_1", now=NOW)
        order = service.create_order(
            session,
            customer_id=customer.id,
            product_key="consultation",
            payload=FORM,
            catalog=SKINOVA,
            max_payload_bytes=4096,
            now=NOW,
        )
        order_id = order.public_id
    with db.unit_of_work(read_only=True) as session:
        stored = service.get_order(session, order_id=order_id, host_user_id="skin_1")
        assert (stored.status, stored.payload, stored.amount_minor) == ("draft", FORM, 4900)
    metadata = {
        "coinslot_user_id": "skin_1",
        "coinslot_item": "product:consultation",
        "coinslot_order_id": order_id,
    }
    with db.unit_of_work() as session:
        unpaid = service.fulfil_checkout_session(
            session,
            checkout=paid_session("cs_1", payment_status="unpaid", metadata=metadata),
            catalog=SKINOVA,
            now=NOW,
        )
        assert (unpaid.applied, unpaid.reason) == (False, "not_paid")
        assert service.get_order(session, order_id=order_id).status == "draft"
    for _ in range(2):  # webhook and success page both arrive: the second changes nothing
        with db.unit_of_work() as session:
            service.fulfil_checkout_session(
                session, checkout=paid_session("cs_2", metadata=metadata), catalog=SKINOVA, now=NOW
            )
    with db.unit_of_work() as session:
        paid = service.get_order(session, order_id=order_id)
        assert (paid.status, paid.stripe_checkout_session_id, paid.paid_at) == ("paid", "cs_2", NOW)
        service.set_order_status(session, order_id=order_id, status="fulfilled", now=NOW)
    with db.unit_of_work() as session:
        assert service.get_order(session, order_id=order_id).status == "fulfilled"
        with pytest.raises(Conflict):
            service.set_order_status(session, order_id=order_id, status="canceled", now=NOW)


def test_a_second_paid_session_for_one_order_is_loud(db: Database) -> None:
    with db.unit_of_work() as session:
        customer = customers.ensure_customer(session, host_user_id="skin_2", now=NOW)
        order_id = service.create_order(
            session,
            customer_id=customer.id,
            product_key="consultation",
            payload=FORM,
            catalog=SKINOVA,
            max_payload_bytes=4096,
            now=NOW,
        ).public_id
    metadata = {
        "coinslot_user_id": "skin_2",
        "coinslot_item": "product:consultation",
        "coinslot_order_id": order_id,
    }
    with db.unit_of_work() as session:
        service.fulfil_checkout_session(
            session, checkout=paid_session("cs_a", metadata=metadata), catalog=SKINOVA, now=NOW
        )
    with db.unit_of_work() as session, pytest.raises(Conflict) as caught:
        service.fulfil_checkout_session(
            session, checkout=paid_session("cs_b", metadata=metadata), catalog=SKINOVA, now=NOW
        )
    assert caught.value.code == "order_paid_twice"


def test_orders_are_scoped_to_their_user_and_bounded(db: Database) -> None:
    with db.unit_of_work() as session:
        customer = customers.ensure_customer(session, host_user_id="skin_3", now=NOW)
        customers.ensure_customer(session, host_user_id="someone_else", now=NOW)
        order_id = service.create_order(
            session,
            customer_id=customer.id,
            product_key="consultation",
            payload=FORM,
            catalog=SKINOVA,
            max_payload_bytes=4096,
            now=NOW,
        ).public_id
        with pytest.raises(PayloadTooLarge):
            service.create_order(
                session,
                customer_id=customer.id,
                product_key="consultation",
                payload={"notes": "x" * 5000},
                catalog=SKINOVA,
                max_payload_bytes=4096,
                now=NOW,
            )
        with pytest.raises(NotFound):
            service.create_order(
                session,
                customer_id=customer.id,
                product_key="pro",
                payload={},
                catalog=SKINOVA,
                max_payload_bytes=4096,
                now=NOW,
            )
    with db.unit_of_work(read_only=True) as session:
        with pytest.raises(NotFound):
            service.get_order(session, order_id=order_id, host_user_id="someone_else")
        assert [order.public_id for order in service.list_orders(session, host_user_id="skin_3")] == [
            order_id
        ]
        assert service.list_orders(session, host_user_id="someone_else") == []


def test_a_paid_credit_pack_is_credited_once(db: Database) -> None:
    with db.unit_of_work() as session:
        customer = customers.ensure_customer(session, host_user_id="patch_1", now=NOW)
        item = core.resolve_item(PATCH_HIVE, core.ItemRequest(pack="credits", quantity=30))
        intent = service.start_intent(session, customer_id=customer.id, item=item, order=None, now=NOW)
        intent.stripe_session_id = "cs_pack"
        customer_id = customer.id
    checkout = paid_session(
        "cs_pack",
        metadata={"coinslot_user_id": "patch_1", "coinslot_item": "pack:credits"},
        line_items=(StripeLineItem("price_x", "coinslot:pack:credits", 30),),
    )
    results = []
    for _ in range(2):
        with db.unit_of_work() as session:
            results.append(
                service.fulfil_checkout_session(session, checkout=checkout, catalog=PATCH_HIVE, now=NOW)
            )
    assert [(result.applied, result.credits) for result in results] == [(True, 30), (False, 0)]
    with db.unit_of_work(read_only=True) as session:
        assert ledger.balance(session, customer_id=customer_id, now=NOW).available_credits == 30
        intent_row = session.scalar(
            select(CheckoutSession).where(CheckoutSession.stripe_session_id == "cs_pack")
        )
        assert intent_row is not None
        assert intent_row.status == "complete"


def test_a_paid_session_naming_no_user_is_an_error_not_a_silent_drop(db: Database) -> None:
    with db.unit_of_work() as session, pytest.raises(InvalidInput) as caught:
        service.fulfil_checkout_session(
            session, checkout=paid_session("cs_x", customer=None), catalog=PATCH_HIVE, now=NOW
        )
    assert caught.value.code == "missing_metadata"
    with db.unit_of_work(read_only=True) as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 0
