"""Invoice items feed the next invoice; create_preview shows it (prorations included);
finalized invoices link a hosted page and a PDF."""

from __future__ import annotations

import httpx
import pytest
import stripe

from tests.stripesim.billing_helpers import DAY, T0, advance, clock_customer, price, subscribe
from tests.stripesim.conftest import SimHelper
from tests.stripesim.fidelity import assert_stripe_shape

FEB_1 = T0 + 31 * DAY


def test_invoice_item_crud_and_list(sim: SimHelper) -> None:
    customer = sim.client.v1.customers.create(params={"email": "ii@example.com"})
    setup_fee = price(sim, 500, interval=None, name="Setup")
    by_price = sim.client.v1.invoice_items.create(params={
        "customer": customer.id, "pricing": {"price": setup_fee.id}, "quantity": 2})
    assert (by_price.amount, by_price.currency, by_price.invoice) == (1000, "usd", None)
    assert by_price.pricing.price_details.price == setup_fee.id
    assert_stripe_shape(by_price)
    ad_hoc = sim.client.v1.invoice_items.create(params={
        "customer": customer.id, "amount": -300, "currency": "usd", "description": "Goodwill",
        "metadata": {"reason": "outage"}})
    assert ad_hoc.pricing.price_details is None
    assert_stripe_shape(ad_hoc)
    updated = sim.client.v1.invoice_items.update(ad_hoc.id, params={
        "amount": -400, "metadata": {"ticket": "42"}})
    assert (updated.amount, updated.metadata.to_dict()) == (-400, {"reason": "outage", "ticket": "42"})
    assert sim.client.v1.invoice_items.retrieve(ad_hoc.id).amount == -400
    listed = sim.client.v1.invoice_items.list(params={"customer": customer.id, "pending": True})
    assert [i.id for i in listed.data] == [ad_hoc.id, by_price.id]
    assert_stripe_shape(listed)
    deleted = sim.client.v1.invoice_items.delete(by_price.id)
    assert deleted.deleted is True
    assert_stripe_shape(deleted)
    assert [i.id for i in sim.client.v1.invoice_items.list().data] == [ad_hoc.id]
    types = [e.type for e in sim.client.v1.events.list().data]
    assert types.count("invoiceitem.created") == 2
    assert "invoiceitem.deleted" in types
    with pytest.raises(stripe.InvalidRequestError, match="recurring"):
        sim.client.v1.invoice_items.create(params={
            "customer": customer.id, "pricing": {"price": price(sim).id}})
    with pytest.raises(stripe.InvalidRequestError) as missing:
        sim.client.v1.invoice_items.create(params={"customer": customer.id, "amount": 5})
    assert missing.value.param == "currency"


def test_pending_items_land_on_the_next_renewal_and_are_then_locked(sim: SimHelper) -> None:
    pro = price(sim, 2000)
    clock, customer = clock_customer(sim)
    sub = subscribe(sim, customer.id, pro.id)
    extra = sim.client.v1.invoice_items.create(params={
        "customer": customer.id, "amount": 700, "currency": "usd", "description": "Extra seats"})
    advance(sim, clock.id, FEB_1 + 2 * 3600)
    renewal = sim.client.v1.invoices.retrieve(
        str(sim.client.v1.subscriptions.retrieve(sub.id).latest_invoice))
    assert renewal.total == 2700
    assert renewal.status == "paid"
    assert "Extra seats" in [line.description for line in renewal.lines.data]
    assert sim.client.v1.invoice_items.retrieve(extra.id).invoice == renewal.id
    with pytest.raises(stripe.InvalidRequestError, match="paid invoice"):
        sim.client.v1.invoice_items.update(extra.id, params={"amount": 1})


def test_items_on_a_draft_invoice_update_its_lines(sim: SimHelper) -> None:
    customer = sim.client.v1.customers.create(params={
        "payment_method": "pm_card_visa",
        "invoice_settings": {"default_payment_method": "pm_card_visa"}})
    draft = sim.client.v1.invoices.create(params={"customer": customer.id})
    first = sim.client.v1.invoice_items.create(params={
        "customer": customer.id, "invoice": draft.id, "amount": 1200, "currency": "usd"})
    second = sim.client.v1.invoice_items.create(params={
        "customer": customer.id, "invoice": draft.id, "amount": 300, "currency": "usd"})
    assert sim.client.v1.invoices.retrieve(draft.id).total == 1500
    sim.client.v1.invoice_items.update(first.id, params={"amount": 1000})
    sim.client.v1.invoice_items.delete(second.id)
    draft = sim.client.v1.invoices.retrieve(draft.id)
    assert (draft.total, len(draft.lines.data)) == (1000, 1)
    paid = sim.client.v1.invoices.pay(
        sim.client.v1.invoices.finalize_invoice(draft.id).id)
    assert (paid.status, paid.amount_paid) == ("paid", 1000)


def test_create_preview_matches_the_real_update(sim: SimHelper) -> None:
    basic, plus = price(sim, 1000, name="Basic"), price(sim, 3000, name="Plus")
    clock, customer = clock_customer(sim)
    sub = subscribe(sim, customer.id, basic.id)
    item_id = sub["items"].data[0].id
    renewal = sim.client.v1.invoices.create_preview(params={"subscription": sub.id})
    assert (renewal.total, renewal.billing_reason, renewal.created) == (1000, "upcoming",
                                                                        FEB_1)
    assert renewal.lines.data[0].period.start == FEB_1
    assert_stripe_shape(renewal)
    halfway = T0 + 15 * DAY + 12 * 3600
    advance(sim, clock.id, halfway)
    change = {"subscription": sub.id, "subscription_details": {
        "items": [{"id": item_id, "price": plus.id}], "proration_date": halfway}}
    upcoming = sim.client.v1.invoices.create_preview(params=change)
    assert upcoming.total == 3000 - 500 + 1500
    assert upcoming.parent.subscription_details.subscription_proration_date == halfway
    prorations = [line.amount for line in upcoming.lines.data
                  if line.parent.subscription_item_details.proration]
    assert sorted(prorations) == [-500, 1500]
    assert_stripe_shape(upcoming)
    now = sim.client.v1.invoices.create_preview(params={
        **change, "subscription_details": {**change["subscription_details"],
                                           "proration_behavior": "always_invoice"}})
    assert (now.total, now.billing_reason) == (1000, "subscription_update")
    assert sim.client.v1.invoice_items.list(params={"customer": customer.id}).data == []
    updated = sim.client.v1.subscriptions.update(sub.id, params={
        "items": [{"id": item_id, "price": plus.id}], "proration_behavior": "always_invoice",
        "proration_date": halfway})
    real = sim.client.v1.invoices.retrieve(str(updated.latest_invoice))
    assert real.total == now.total
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        sim.client.v1.invoices.create_preview(params={"customer": customer.id})
    assert unknown.value.code == "invoice_upcoming_none"


def test_finalized_invoices_link_a_hosted_page_and_a_pdf(sim: SimHelper) -> None:
    pro = price(sim, 2500, name="Pro")
    _, customer = clock_customer(sim)
    invoice = sim.client.v1.invoices.retrieve(
        str(subscribe(sim, customer.id, pro.id).latest_invoice))
    assert invoice.hosted_invoice_url == f"{sim.url}/i/{invoice.id}"
    assert invoice.invoice_pdf == f"{invoice.hosted_invoice_url}/pdf"
    page = httpx.get(invoice.hosted_invoice_url)
    assert page.status_code == 200
    assert invoice.number in page.text
    assert "$25.00" in page.text
    pdf = httpx.get(invoice.invoice_pdf)
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-1.4")
    assert pdf.content.rstrip().endswith(b"%%EOF")
    assert invoice.number.encode() in pdf.content
    draft = sim.client.v1.invoices.create(params={"customer": customer.id})
    assert draft.hosted_invoice_url is None
    assert httpx.get(f"{sim.url}/i/{draft.id}").status_code == 404
