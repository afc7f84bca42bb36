"""Billing Meters: meters, meter events (unique identifiers, the timestamp window, Stripe's
asynchronous validation), summaries, and a plan with a metered overage price whose renewal
invoices bill exactly the period's summed usage, driven by a test clock."""

from __future__ import annotations

import calendar
from typing import Any

import pytest
import stripe

from tests.stripesim.billing_helpers import DAY, T0, advance, clock_customer, event_types, price
from tests.stripesim.conftest import SimHelper
from tests.stripesim.fidelity import assert_stripe_shape

FEB_1 = calendar.timegm((2026, 2, 1, 0, 0, 0))
MAR_1 = calendar.timegm((2026, 3, 1, 0, 0, 0))


def _meter(sim: SimHelper, event_name: str = "tokens", formula: str = "sum") -> Any:
    return sim.client.v1.billing.meters.create(params={
        "display_name": "Tokens", "event_name": event_name,
        "default_aggregation": {"formula": formula}})


def _report(sim: SimHelper, customer_id: str, value: int | str, identifier: str,
            timestamp: int | None = None, event_name: str = "tokens") -> Any:
    params: dict[str, Any] = {"event_name": event_name, "identifier": identifier,
                              "payload": {"stripe_customer_id": customer_id, "value": str(value)}}
    if timestamp is not None:
        params["timestamp"] = timestamp
    return sim.client.v1.billing.meter_events.create(params=params)


def _overage_price(sim: SimHelper, meter_id: str, unit_amount: int = 5) -> Any:
    return sim.client.v1.prices.create(params={
        "currency": "usd", "unit_amount": unit_amount, "product_data": {"name": "Extra tokens"},
        "recurring": {"interval": "month", "usage_type": "metered", "meter": meter_id}})


def test_meters_lifecycle(sim: SimHelper) -> None:
    v1 = sim.client.v1.billing
    meter = _meter(sim)
    assert (meter.status, meter.customer_mapping.event_payload_key,
            meter.value_settings.event_payload_key) == ("active", "stripe_customer_id", "value")
    assert_stripe_shape(meter)
    with pytest.raises(stripe.InvalidRequestError, match="already exists"):
        _meter(sim)
    renamed = v1.meters.update(meter.id, params={"display_name": "LLM tokens"})
    assert renamed.display_name == "LLM tokens"
    off = v1.meters.deactivate(meter.id)
    assert off.status == "inactive"
    assert off.status_transitions.deactivated_at is not None
    assert [m.id for m in v1.meters.list(params={"status": "inactive"}).data] == [meter.id]
    assert v1.meters.reactivate(meter.id).status == "active"
    assert_stripe_shape(v1.meters.list())
    assert [t for t in event_types(sim) if t.startswith("billing.meter.")] == [
        "billing.meter.created", "billing.meter.updated", "billing.meter.deactivated",
        "billing.meter.reactivated"]
    with pytest.raises(stripe.InvalidRequestError, match=r"No such billing\.meter") as missing:
        sim.client.v1.prices.create(params={
            "currency": "usd", "unit_amount": 5, "product_data": {"name": "X"},
            "recurring": {"interval": "month", "usage_type": "metered", "meter": "mtr_nope"}})
    assert missing.value.param == "recurring[meter]"


def test_meter_events_identifiers_window_and_validation(sim: SimHelper) -> None:
    meter = _meter(sim)
    _clock, customer = clock_customer(sim)
    first = _report(sim, customer.id, 40, "req-1")
    assert first.timestamp == T0  # "now" is the customer's test clock
    assert_stripe_shape(first)
    with pytest.raises(stripe.InvalidRequestError, match="already exists with identifier req-1"):
        _report(sim, customer.id, 40, "req-1")
    for when in (T0 - 36 * DAY, T0 + 10 * 60):
        with pytest.raises(stripe.InvalidRequestError, match="35 days"):
            _report(sim, customer.id, 1, f"late-{when}", timestamp=when)
    _report(sim, "cus_unknown", 5, "bad-customer")
    _report(sim, customer.id, "2.5", "bad-value")
    _report(sim, customer.id, 7, "no-meter", event_name="images")
    recorded = {e["identifier"]: e for e in sim.control("GET", "/_sim/billing/meter_events")["data"]}
    assert recorded["req-1"]["counted"] is True
    assert (recorded["bad-customer"]["error"], recorded["bad-value"]["error"],
            recorded["no-meter"]["error"]) == ("meter_event_customer_not_found",
                                               "meter_event_invalid_value", "no_meter")
    _report(sim, customer.id, 2, "req-2", timestamp=T0 - 2 * 3600)
    canceled = sim.client.v1.billing.meter_event_adjustments.create(params={
        "event_name": "tokens", "type": "cancel", "cancel": {"identifier": "req-2"}})
    assert_stripe_shape(canceled)
    summaries = sim.client.v1.billing.meters.event_summaries.list(meter.id, params={
        "customer": customer.id, "start_time": T0 - DAY, "end_time": T0 + DAY})
    assert [s.aggregated_value for s in summaries.data] == [40]
    assert_stripe_shape(summaries)


def test_summaries_group_by_hour_and_day(sim: SimHelper) -> None:
    meter = _meter(sim, formula="count")
    _clock, customer = clock_customer(sim, frozen_time=T0 + 3 * DAY)
    for n, hours_ago in enumerate([1, 1, 2, 30]):
        _report(sim, customer.id, 1, f"e{n}", timestamp=T0 + 3 * DAY - hours_ago * 3600)
    daily = sim.client.v1.billing.meters.event_summaries.list(meter.id, params={
        "customer": customer.id, "start_time": T0, "end_time": T0 + 3 * DAY,
        "value_grouping_window": "day"})
    assert [(s.start_time, s.aggregated_value) for s in daily.data] == [
        (T0, 0), (T0 + DAY, 1), (T0 + 2 * DAY, 3)]
    with pytest.raises(stripe.InvalidRequestError, match="aligned"):
        sim.client.v1.billing.meters.event_summaries.list(meter.id, params={
            "customer": customer.id, "start_time": T0 + 1, "end_time": T0 + DAY,
            "value_grouping_window": "hour"})


def _lines(invoice: Any) -> list[tuple[str, int, int]]:
    return sorted((line.pricing.price_details.price, line.quantity, line.amount)
                  for line in invoice.lines.data)


def test_renewals_bill_the_periods_usage_of_a_metered_item(sim: SimHelper) -> None:
    meter = _meter(sim)
    plan, overage = price(sim, 2000, name="Pro"), _overage_price(sim, meter.id)
    clock, customer = clock_customer(sim)
    sub = sim.client.v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"price": plan.id}, {"price": overage.id}]})
    metered = next(i for i in sub["items"].data if i.price.id == overage.id)
    assert "quantity" not in metered
    assert_stripe_shape(sub)
    first = sim.client.v1.invoices.retrieve(str(sub.latest_invoice))
    assert _lines(first) == sorted([(plan.id, 1, 2000), (overage.id, 0, 0)])
    advance(sim, clock.id, T0 + 10 * DAY)
    _report(sim, customer.id, 1200, "jan-1")
    _report(sim, customer.id, 300, "jan-2", timestamp=T0 + 9 * DAY)
    _report(sim, customer.id, 999, "dec", timestamp=T0 - 3600)  # before the period: not billed
    preview = sim.client.v1.invoices.create_preview(params={"subscription": sub.id})
    assert _lines(preview) == sorted([(plan.id, 1, 2000), (overage.id, 1500, 7500)])
    advance(sim, clock.id, FEB_1 + 2 * 3600)
    january = sim.client.v1.invoices.retrieve(
        str(sim.client.v1.subscriptions.retrieve(sub.id).latest_invoice))
    assert _lines(january) == sorted([(plan.id, 1, 2000), (overage.id, 1500, 7500)])
    usage_line = next(line for line in january.lines.data
                      if line.pricing.price_details.price == overage.id)
    assert (usage_line.period.start, usage_line.period.end) == (T0, FEB_1)
    assert (january.status, january.amount_paid) == ("paid", 9500)
    _report(sim, customer.id, 100, "feb-1")
    advance(sim, clock.id, MAR_1 + 2 * 3600)
    february = sim.client.v1.invoices.retrieve(
        str(sim.client.v1.subscriptions.retrieve(sub.id).latest_invoice))
    assert _lines(february) == sorted([(plan.id, 1, 2000), (overage.id, 100, 500)])


def test_a_price_in_fractions_of_a_cent_bills_the_usage_exactly_rounded_once_half_up(sim: SimHelper) -> None:
    meter = _meter(sim)
    plan = price(sim, 2000, name="Pro")
    overage = sim.client.v1.prices.create(params={
        "currency": "usd", "unit_amount_decimal": "87.5", "product_data": {"name": "Extra tokens"},
        "recurring": {"interval": "month", "usage_type": "metered", "meter": meter.id}})
    assert (overage.unit_amount, str(overage.unit_amount_decimal)) == (None, "87.5")
    clock, customer = clock_customer(sim)
    sub = sim.client.v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"price": plan.id}, {"price": overage.id}]})
    advance(sim, clock.id, T0 + 10 * DAY)
    _report(sim, customer.id, 5, "jan-1")
    _report(sim, customer.id, 8, "jan-2")
    preview = sim.client.v1.invoices.create_preview(params={"subscription": sub.id})
    assert _lines(preview) == sorted([(plan.id, 1, 2000), (overage.id, 13, 1138)])  # 1137.5 -> 1138
    advance(sim, clock.id, FEB_1 + 2 * 3600)
    january = sim.client.v1.invoices.retrieve(
        str(sim.client.v1.subscriptions.retrieve(sub.id).latest_invoice))
    assert _lines(january) == sorted([(plan.id, 1, 2000), (overage.id, 13, 1138)])
    usage_line = next(line for line in january.lines.data
                      if line.pricing.price_details.price == overage.id)
    assert str(usage_line.pricing.unit_amount_decimal) == "87.5"
    assert_stripe_shape(january)


def test_a_subscription_ending_bills_its_last_usage(sim: SimHelper) -> None:
    meter = _meter(sim)
    overage = _overage_price(sim, meter.id, unit_amount=3)
    clock, customer = clock_customer(sim)
    sub = sim.client.v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"price": overage.id}],
        "cancel_at_period_end": True})
    assert sim.client.v1.invoices.retrieve(str(sub.latest_invoice)).total == 0
    _report(sim, customer.id, 250, "last")
    advance(sim, clock.id, FEB_1 + 2 * 3600)
    ended = sim.client.v1.subscriptions.retrieve(sub.id)
    assert ended.status == "canceled"
    final = sim.client.v1.invoices.retrieve(str(ended.latest_invoice))
    assert (final.billing_reason, final.total, final.status) == ("subscription_cycle", 750, "paid")


def test_metered_items_take_no_quantity(sim: SimHelper) -> None:
    meter = _meter(sim)
    overage = _overage_price(sim, meter.id)
    _clock, customer = clock_customer(sim)
    with pytest.raises(stripe.InvalidRequestError, match="usage_type is `metered`"):
        sim.client.v1.subscriptions.create(params={
            "customer": customer.id, "items": [{"price": overage.id, "quantity": 2}]})
    with pytest.raises(stripe.InvalidRequestError, match="usage_type is `metered`"):
        sim.client.v1.checkout.sessions.create(params={
            "mode": "subscription", "success_url": "https://app.example/ok",
            "line_items": [{"price": overage.id, "quantity": 1}]})
    assert sim.client.v1.subscriptions.list(params={"customer": customer.id}).data == []
