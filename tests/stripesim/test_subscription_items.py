"""Subscription items: seats (quantities), add-ons as items of their own, removal; each change
prorated per item, renewals billing every item, and create_preview telling the same amounts."""

from __future__ import annotations

import calendar
from typing import Any

import pytest
import stripe

from tests.stripesim.billing_helpers import DAY, T0, advance, clock_customer, price
from tests.stripesim.conftest import SimHelper
from tests.stripesim.fidelity import assert_stripe_shape

FEB_1 = calendar.timegm((2026, 2, 1, 0, 0, 0))
HALF_JANUARY = T0 + 15 * DAY + 12 * 3600  # 15.5 of January's 31 days: half the period left


def _renewal(sim: SimHelper, sub_id: str) -> Any:
    sub = sim.client.v1.subscriptions.retrieve(sub_id)
    return sim.client.v1.invoices.retrieve(str(sub.latest_invoice))


def _lines_by_kind(invoice: Any) -> tuple[list[int], list[int]]:
    """(amounts of the items' own lines, amounts of proration lines)."""
    own, prorations = [], []
    for line in invoice.lines.data:
        details = line.parent.subscription_item_details
        (prorations if details and details.proration else own).append(line.amount)
    return sorted(own), sorted(prorations)


def test_a_team_buys_five_seats_adds_two_and_is_prorated(sim: SimHelper) -> None:
    seat = price(sim, 1000, name="Team seat")
    clock, customer = clock_customer(sim)
    sub = sim.client.v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"price": seat.id, "quantity": 5}]})
    first = sim.client.v1.invoices.retrieve(str(sub.latest_invoice))
    assert first.amount_paid == 5000
    assert first.lines.data[0].quantity == 5
    advance(sim, clock.id, HALF_JANUARY)
    item = sim.client.v1.subscription_items.update(sub["items"].data[0].id,
                                                   params={"quantity": 7})
    assert item.quantity == 7
    assert_stripe_shape(item)
    pending = sim.client.v1.invoice_items.list(params={"customer": customer.id, "pending": True})
    assert sorted(ii.amount for ii in pending.data) == [-2500, 3500]
    assert all(ii.parent.subscription_details.subscription_item == item.id for ii in pending.data)
    updated = sim.client.v1.events.list(params={"type": "customer.subscription.updated"}).data[0]
    assert updated.data.previous_attributes["items"]["data"][0]["quantity"] == 5
    advance(sim, clock.id, FEB_1 + 2 * 3600)
    renewal = _renewal(sim, sub.id)
    assert renewal.status == "paid"
    assert _lines_by_kind(renewal) == ([7000], [-2500, 3500])
    assert renewal.total == 8000


def test_an_add_on_item_is_prorated_and_renews_with_the_plan(sim: SimHelper) -> None:
    plan, tokens = price(sim, 2000, name="Pro"), price(sim, 500, name="Extra tokens")
    clock, customer = clock_customer(sim)
    sub = sim.client.v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"price": plan.id}]})
    advance(sim, clock.id, HALF_JANUARY)
    preview = sim.client.v1.invoices.create_preview(params={
        "subscription": sub.id,
        "subscription_details": {"items": [{"price": tokens.id, "quantity": 2}]}})
    assert _lines_by_kind(preview) == ([1000, 2000], [500])
    added = sim.client.v1.subscription_items.create(params={
        "subscription": sub.id, "price": tokens.id, "quantity": 2,
        "metadata": {"addon": "tokens"}})
    assert_stripe_shape(added)
    assert added.subscription == sub.id
    assert added.metadata["addon"] == "tokens"
    first_item = sub["items"].data[0]
    assert (added.current_period_start, added.current_period_end) == (
        first_item.current_period_start, first_item.current_period_end)
    listed = sim.client.v1.subscription_items.list(params={"subscription": sub.id})
    assert {i.id for i in listed.data} == {first_item.id, added.id}
    advance(sim, clock.id, FEB_1 + 2 * 3600)
    renewal = _renewal(sim, sub.id)
    assert _lines_by_kind(renewal) == ([1000, 2000], [500])
    assert renewal.total == preview.total
    assert renewal.amount_paid == 3500
    assert all(line.period.start == FEB_1 for line in renewal.lines.data
               if not line.parent.subscription_item_details.proration)


def test_removing_an_item_credits_its_unused_time(sim: SimHelper) -> None:
    plan, tokens = price(sim, 2000, name="Pro"), price(sim, 500, name="Extra tokens")
    clock, customer = clock_customer(sim)
    sub = sim.client.v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"price": plan.id}, {"price": tokens.id}]})
    assert sim.client.v1.invoices.retrieve(str(sub.latest_invoice)).total == 2500
    tokens_item = next(i for i in sub["items"].data if i.price.id == tokens.id)
    advance(sim, clock.id, HALF_JANUARY)
    preview = sim.client.v1.invoices.create_preview(params={
        "subscription": sub.id, "subscription_details": {
            "items": [{"id": tokens_item.id, "deleted": True}],
            "proration_behavior": "always_invoice"}})
    assert preview.total == -250
    deleted = sim.client.v1.subscription_items.delete(tokens_item.id, params={
        "proration_behavior": "always_invoice"})
    assert deleted.to_dict() == {"id": tokens_item.id, "object": "subscription_item",
                                 "deleted": True}
    assert_stripe_shape(deleted)
    credit = _renewal(sim, sub.id)
    assert credit.billing_reason == "subscription_update"
    assert credit.total == preview.total
    assert sim.client.v1.customers.retrieve(customer.id).balance == -250
    with pytest.raises(stripe.InvalidRequestError, match="No such subscription_item"):
        sim.client.v1.subscription_items.retrieve(tokens_item.id)
    advance(sim, clock.id, FEB_1 + 2 * 3600)
    renewal = _renewal(sim, sub.id)
    assert _lines_by_kind(renewal) == ([2000], [])
    assert renewal.amount_paid == 1750


def test_several_items_through_the_subscription_update(sim: SimHelper) -> None:
    plan, seat, extra = price(sim, 2000), price(sim, 1000, name="Seat"), price(sim, 300)
    clock, customer = clock_customer(sim)
    sub = sim.client.v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"price": plan.id}, {"price": seat.id, "quantity": 3}]})
    seat_item = next(i for i in sub["items"].data if i.price.id == seat.id)
    updated = sim.client.v1.subscriptions.update(sub.id, params={
        "items": [{"id": seat_item.id, "deleted": True}, {"price": extra.id, "quantity": 4}],
        "proration_behavior": "none"})
    assert sorted((i.price.id, i.quantity) for i in updated["items"].data) == sorted(
        [(plan.id, 1), (extra.id, 4)])
    assert_stripe_shape(updated)
    advance(sim, clock.id, FEB_1 + 2 * 3600)
    assert _lines_by_kind(_renewal(sim, sub.id)) == ([1200, 2000], [])


def _refused(sim: SimHelper, call: Any, match: str) -> None:
    before = sim.engine.store.all("subscription")[0]["items"]["data"]
    snapshot = [dict(i) for i in before]
    with pytest.raises(stripe.InvalidRequestError, match=match):
        call()
    after = sim.engine.store.all("subscription")[0]["items"]["data"]
    assert [dict(i) for i in after] == snapshot
    assert sim.client.v1.invoice_items.list(params={"pending": True}).data == []


def test_bad_item_changes_are_refused_and_change_nothing(sim: SimHelper) -> None:
    plan, other = price(sim, 2000), price(sim, 500)
    yearly = price(sim, 20000, interval="year")
    _clock, customer = clock_customer(sim)
    sub = sim.client.v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"price": plan.id}]})
    item_id = sub["items"].data[0].id
    v1 = sim.client.v1
    _refused(sim, lambda: v1.subscription_items.delete(item_id), "at least one item")
    _refused(sim, lambda: v1.subscription_items.create(params={
        "subscription": sub.id, "price": plan.id}), "same price")
    _refused(sim, lambda: v1.subscription_items.create(params={
        "subscription": sub.id, "price": yearly.id}), "interval")
    _refused(sim, lambda: v1.subscriptions.update(sub.id, params={"items": [
        {"price": other.id}, {"id": "si_nope", "deleted": True}]}), "does not belong")
    _refused(sim, lambda: v1.subscription_items.create(params={"subscription": sub.id}),
             "price")
    with pytest.raises(stripe.InvalidRequestError, match="interval"):
        v1.subscriptions.create(params={"customer": customer.id, "items": [
            {"price": plan.id}, {"price": yearly.id}]})
    assert len(v1.subscriptions.list(params={"customer": customer.id}).data) == 1
