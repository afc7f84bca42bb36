"""Credit notes: refunding a paid invoice's charge, crediting the balance, lowering an open
invoice, the preview telling the same, voiding, and the refusals Stripe makes."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from tests.stripesim.billing_helpers import clock_customer, event_types, price
from tests.stripesim.conftest import SimHelper
from tests.stripesim.fidelity import assert_stripe_shape


def _paid_invoice(sim: SimHelper, amount: int = 3000, quantity: int = 3) -> tuple[Any, Any]:
    """A subscription's first invoice, paid: `quantity` × amount/quantity."""
    seat = price(sim, amount // quantity, name="Seat")
    _clock, customer = clock_customer(sim)
    sub = sim.client.v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"price": seat.id, "quantity": quantity}]})
    invoice = sim.client.v1.invoices.retrieve(str(sub.latest_invoice))
    assert invoice.status == "paid"
    return customer, invoice


def test_refunding_part_of_a_paid_invoice(sim: SimHelper) -> None:
    customer, invoice = _paid_invoice(sim)
    line = invoice.lines.data[0]
    params = {"invoice": invoice.id, "lines": [
        {"type": "invoice_line_item", "invoice_line_item": line.id, "quantity": 1}],
        "refund_amount": 1000, "reason": "order_change", "memo": "One seat unused"}
    preview = sim.client.v1.credit_notes.preview(params=params)
    assert (preview.amount, preview.post_payment_amount, preview.type) == (
        1000, 1000, "post_payment")
    assert sim.client.v1.credit_notes.list().data == []
    note = sim.client.v1.credit_notes.create(params=params)
    assert_stripe_shape(note)
    assert (note.amount, note.total, note.status, note.type) == (1000, 1000, "issued",
                                                                  "post_payment")
    assert note.number == f"{invoice.number}-CN-01"
    assert note.lines.data[0].invoice_line_item == line.id
    refund = sim.client.v1.refunds.retrieve(note.refunds[0].refund)
    assert refund.amount == 1000
    pi = sim.client.v1.payment_intents.retrieve(refund.payment_intent)
    charge = sim.client.v1.charges.retrieve(str(pi.latest_charge))
    assert (charge.amount_refunded, charge.refunded) == (1000, False)
    invoice = sim.client.v1.invoices.retrieve(invoice.id)
    assert invoice.post_payment_credit_notes_amount == 1000
    lines = sim.client.v1.credit_notes.line_items.list(note.id)
    assert [li.amount for li in lines.data] == [1000]
    assert_stripe_shape(lines)
    assert {"credit_note.created", "refund.created", "charge.refunded"} <= set(event_types(sim))
    pdf = sim.http.get(note.pdf.removeprefix(sim.url))
    assert (pdf.status_code, pdf.content[:5]) == (200, b"%PDF-")
    with pytest.raises(stripe.InvalidRequestError, match="refunded a charge"):
        sim.client.v1.credit_notes.void_credit_note(note.id)
    assert sim.client.v1.credit_notes.list(params={"customer": customer.id}).data[0].id == note.id


def test_crediting_the_balance_then_voiding_takes_it_back(sim: SimHelper) -> None:
    customer, invoice = _paid_invoice(sim)
    note = sim.client.v1.credit_notes.create(params={
        "invoice": invoice.id, "amount": 500, "credit_amount": 500})
    assert note.customer_balance_transaction
    txn = sim.client.v1.customers.balance_transactions.retrieve(
        customer.id, str(note.customer_balance_transaction))
    assert (txn.type, txn.amount, txn.credit_note) == ("credit_note", -500, note.id)
    assert sim.client.v1.customers.retrieve(customer.id).balance == -500
    updated = sim.client.v1.credit_notes.update(note.id, params={"memo": "Sorry"})
    assert updated.memo == "Sorry"
    voided = sim.client.v1.credit_notes.void_credit_note(note.id)
    assert (voided.status, voided.voided_at is not None) == ("void", True)
    assert sim.client.v1.customers.retrieve(customer.id).balance == 0
    assert sim.client.v1.invoices.retrieve(invoice.id).post_payment_credit_notes_amount == 0
    assert "credit_note.voided" in event_types(sim)


def test_a_credit_note_on_an_open_invoice_lowers_what_is_due(sim: SimHelper) -> None:
    customer = sim.client.v1.customers.create()
    sim.client.v1.invoice_items.create(params={"customer": customer.id, "amount": 4000,
                                               "currency": "usd", "description": "Consulting"})
    draft = sim.client.v1.invoices.create(params={
        "customer": customer.id, "pending_invoice_items_behavior": "include"})
    with pytest.raises(stripe.InvalidRequestError, match="open or paid"):
        sim.client.v1.credit_notes.create(params={"invoice": draft.id, "amount": 100})
    invoice = sim.client.v1.invoices.finalize_invoice(draft.id)
    partial = sim.client.v1.credit_notes.create(params={
        "invoice": invoice.id, "lines": [{"type": "custom_line_item", "unit_amount": 1500,
                                          "quantity": 1, "description": "Discount agreed"}]})
    assert (partial.pre_payment_amount, partial.type) == (1500, "pre_payment")
    invoice = sim.client.v1.invoices.retrieve(invoice.id)
    assert (invoice.status, invoice.amount_due, invoice.amount_remaining) == ("open", 2500, 2500)
    assert invoice.pre_payment_credit_notes_amount == 1500
    rest = sim.client.v1.credit_notes.create(params={"invoice": invoice.id, "amount": 2500})
    assert rest.pre_payment_amount == 2500
    invoice = sim.client.v1.invoices.retrieve(invoice.id)
    assert (invoice.status, invoice.amount_paid, invoice.amount_remaining) == ("paid", 0, 0)
    with pytest.raises(stripe.InvalidRequestError, match="brought its invoice to paid"):
        sim.client.v1.credit_notes.void_credit_note(rest.id)


def test_refused_credit_notes_change_nothing(sim: SimHelper) -> None:
    customer, invoice = _paid_invoice(sim)
    line = invoice.lines.data[0]
    refusals = [
        ({"amount": 500}, "must equal the post-payment amount"),
        ({"amount": 500, "refund_amount": 300, "credit_amount": 100}, "must equal"),
        ({"amount": 5000, "credit_amount": 5000}, "exceeds"),
        ({"lines": [{"type": "invoice_line_item", "invoice_line_item": line.id, "quantity": 4}],
          "credit_amount": 4000}, "less than or equal to 3"),
        ({"lines": [{"type": "invoice_line_item", "invoice_line_item": "il_nope", "amount": 1}],
          "credit_amount": 1}, "no line item"),
        ({}, "One of `amount`, `lines`"),
    ]
    for extra, message in refusals:
        with pytest.raises(stripe.InvalidRequestError, match=message):
            sim.client.v1.credit_notes.create(params={"invoice": invoice.id, **extra})
    assert sim.client.v1.credit_notes.list().data == []
    assert sim.client.v1.customers.retrieve(customer.id).balance == 0
    assert sim.client.v1.refunds.list().data == []
