"""The customer's invoice balance is a ledger: every change is a customer balance transaction,
whether made through the API or by invoices (credits from downgrades, voids)."""

from __future__ import annotations

import pytest
import stripe

from tests.stripesim.billing_helpers import DAY, T0, advance, clock_customer, price
from tests.stripesim.conftest import SimHelper
from tests.stripesim.fidelity import assert_stripe_shape


def _ledger(sim: SimHelper, customer_id: str) -> list[tuple[str, int, int]]:
    """(type, amount, ending_balance), oldest first."""
    listed = sim.client.v1.customers.balance_transactions.list(customer_id, params={"limit": 100})
    return [(t.type, t.amount, t.ending_balance) for t in reversed(listed.data)]


def test_adjustments_through_the_api_move_the_balance(sim: SimHelper) -> None:
    customer = sim.client.v1.customers.create(params={"balance": -300})
    credit = sim.client.v1.customers.balance_transactions.create(customer.id, params={
        "amount": -1000, "currency": "usd", "description": "Goodwill credit",
        "metadata": {"ticket": "42"}})
    assert (credit.type, credit.ending_balance, credit.currency) == ("adjustment", -1300, "usd")
    assert_stripe_shape(credit)
    updated = sim.client.v1.customers.balance_transactions.update(customer.id, credit.id, params={
        "description": "Goodwill credit (support)"})
    assert updated.description == "Goodwill credit (support)"
    assert sim.client.v1.customers.balance_transactions.retrieve(customer.id, credit.id).amount == -1000
    sim.client.v1.customers.update(customer.id, params={"balance": 200})
    after = sim.client.v1.customers.retrieve(customer.id)
    assert (after.balance, after.currency) == (200, "usd")
    assert _ledger(sim, customer.id) == [("initial", -300, -300), ("adjustment", -1000, -1300),
                                        ("adjustment", 1500, 200)]
    event = sim.client.v1.events.list(params={"type": "customer.updated"}).data[0]
    assert event.data.previous_attributes["balance"] == -1300
    assert_stripe_shape(sim.client.v1.customers.balance_transactions.list(customer.id))


def test_bad_balance_transactions_are_refused(sim: SimHelper) -> None:
    customer = sim.client.v1.customers.create()
    sim.client.v1.customers.balance_transactions.create(customer.id, params={
        "amount": -100, "currency": "eur"})
    with pytest.raises(stripe.InvalidRequestError, match="in eur"):
        sim.client.v1.customers.balance_transactions.create(customer.id, params={
            "amount": -100, "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError, match="zero"):
        sim.client.v1.customers.balance_transactions.create(customer.id, params={
            "amount": 0, "currency": "eur"})
    other = sim.client.v1.customers.create()
    txn = sim.client.v1.customers.balance_transactions.list(customer.id).data[0]
    with pytest.raises(stripe.InvalidRequestError, match="No such customer_balance_transaction"):
        sim.client.v1.customers.balance_transactions.retrieve(other.id, txn.id)
    assert sim.client.v1.customers.retrieve(customer.id).balance == -100


def test_invoices_apply_the_balance_and_a_void_gives_it_back(sim: SimHelper) -> None:
    basic, plus = price(sim, 1000, name="Basic"), price(sim, 3000, name="Plus")
    clock, customer = clock_customer(sim)
    sub = sim.client.v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"price": plus.id}]})
    advance(sim, clock.id, T0 + 15 * DAY + 12 * 3600)
    down = sim.client.v1.subscriptions.update(sub.id, params={
        "items": [{"id": sub["items"].data[0].id, "price": basic.id}],
        "proration_behavior": "always_invoice"})
    credit_invoice = str(down.latest_invoice)
    assert _ledger(sim, customer.id) == [("applied_to_invoice", -1000, -1000)]
    txn = sim.client.v1.customers.balance_transactions.list(customer.id).data[0]
    assert txn.invoice == credit_invoice
    manual = sim.client.v1.invoice_items.create(params={
        "customer": customer.id, "amount": 2500, "currency": "usd"})
    invoice = sim.client.v1.invoices.create(params={
        "customer": customer.id, "pending_invoice_items_behavior": "include"})
    assert manual.id
    finalized = sim.client.v1.invoices.finalize_invoice(invoice.id)
    assert (finalized.starting_balance, finalized.amount_due) == (-1000, 1500)
    sim.client.v1.invoices.void_invoice(invoice.id)
    assert _ledger(sim, customer.id) == [
        ("applied_to_invoice", -1000, -1000), ("applied_to_invoice", 1000, 0),
        ("unapplied_from_invoice", -1000, -1000)]
    assert sim.client.v1.customers.retrieve(customer.id).balance == -1000
