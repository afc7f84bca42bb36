"""The account, balance transactions, currency options and proration details: what clients
such as dj-stripe read besides the billing objects."""

from __future__ import annotations

import pytest
import stripe

from tests.stripesim.billing_helpers import DAY, T0, advance, clock_customer, price, subscribe
from tests.stripesim.conftest import SimHelper
from tests.stripesim.fidelity import assert_stripe_shape


def test_the_account_is_fixed_and_connected_accounts_are_none(sim: SimHelper) -> None:
    account = sim.client.v1.accounts.retrieve_current()
    assert_stripe_shape(account)
    assert (account.id, account.charges_enabled, account.country) == (
        "acct_1StripesimTestAcct0", True, "US")
    sim.reset()
    assert sim.client.v1.accounts.retrieve_current().id == account.id
    assert sim.client.v1.accounts.retrieve(account.id).id == account.id
    assert sim.client.v1.accounts.list().data == []
    with pytest.raises(stripe.InvalidRequestError):
        sim.client.v1.accounts.retrieve("acct_someone_else")


def test_a_charge_and_its_refund_move_the_balance_with_stripes_card_fee(sim: SimHelper) -> None:
    clock, customer = clock_customer(sim)
    pi = sim.client.v1.payment_intents.create(params={
        "amount": 2000, "currency": "usd", "customer": customer.id, "confirm": True,
        "payment_method": customer.invoice_settings.default_payment_method})
    charge = sim.client.v1.charges.retrieve(pi.latest_charge, params={"expand": ["balance_transaction"]})
    txn = charge.balance_transaction
    assert (txn.amount, txn.fee, txn.net, txn.type, txn.source) == (2000, 88, 1912, "charge", charge.id)
    assert (txn.status, txn.available_on) == ("pending", T0 + 2 * DAY)
    assert txn.fee_details[0].to_dict() == {"amount": 88, "application": None, "currency": "usd",
                                            "description": "Stripe processing fees",
                                            "type": "stripe_fee"}
    refund = sim.client.v1.refunds.create(params={"charge": charge.id, "amount": 500})
    back = sim.client.v1.balance_transactions.retrieve(refund.balance_transaction)
    assert (back.amount, back.fee, back.net, back.type, back.source) == (-500, 0, -500, "refund",
                                                                         refund.id)
    advance(sim, clock.id, T0 + 3 * DAY)
    assert sim.client.v1.balance_transactions.retrieve(txn.id).status == "available"
    listed = sim.client.v1.balance_transactions.list(params={"type": "refund"})
    assert [t.id for t in listed.data] == [back.id]
    assert_stripe_shape(back)


def test_currency_options_are_validated_merged_and_shown_only_when_expanded(sim: SimHelper) -> None:
    created = sim.client.v1.prices.create(params={
        "currency": "usd", "unit_amount": 1000, "product_data": {"name": "World"},
        "currency_options": {"eur": {"unit_amount": 900, "tax_behavior": "inclusive"}}})
    assert "currency_options" not in created
    sim.client.v1.prices.update(created.id, params={"currency_options": {"gbp": {"unit_amount": 800}}})
    shown = sim.client.v1.prices.retrieve(created.id, params={"expand": ["currency_options"]})
    options = shown.currency_options.to_dict()
    assert {c: o["unit_amount"] for c, o in options.items()} == {"usd": 1000, "eur": 900, "gbp": 800}
    assert options["eur"]["tax_behavior"] == "inclusive"
    assert_stripe_shape(shown)
    with pytest.raises(stripe.InvalidRequestError) as own:
        sim.client.v1.prices.update(created.id, params={"currency_options": {"usd": {"unit_amount": 1}}})
    assert own.value.param == "currency_options[usd]"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        sim.client.v1.prices.create(params={"currency": "usd", "unit_amount": 1000,
                                            "product_data": {"name": "X"},
                                            "currency_options": {"eur": {"tax_behavior": "inclusive"}}})
    assert missing.value.code == "parameter_missing"


def test_a_proration_credit_names_the_line_that_billed_the_credited_time(sim: SimHelper) -> None:
    basic, plus = price(sim, 1000, name="Basic"), price(sim, 3000, name="Plus")
    clock, customer = clock_customer(sim)
    sub = subscribe(sim, customer.id, basic.id)
    first = sim.client.v1.invoices.retrieve(sub.latest_invoice)
    advance(sim, clock.id, T0 + 10 * DAY)
    item = sub["items"].data[0]
    changed = sim.client.v1.subscriptions.update(sub.id, params={
        "items": [{"id": item.id, "price": plus.id}], "proration_behavior": "always_invoice",
        "expand": ["latest_invoice"]})
    lines = changed.latest_invoice.lines.data
    credit = next(line for line in lines if line.amount < 0)
    details = credit.parent.subscription_item_details
    assert details.proration is True
    assert details.proration_details.credited_items.to_dict() == {
        "invoice": first.id, "invoice_line_items": [first.lines.data[0].id]}
    debit = next(line for line in lines if line.amount > 0)
    assert debit.parent.subscription_item_details.proration_details.credited_items is None
