"""Stripe Billing Meters: the overage meter (`catalog push`), its metered prices, and meter events.

A meter event's `identifier` is Stripe's idempotency for usage: a second event with one Stripe has
seen is refused, and that refusal means the usage is already recorded (`MeterEventResult.duplicate`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import stripe

from coinslot.stripe_gateway.catalog import StripePriceData, price_from_stripe
from coinslot.stripe_gateway.errors import translate_stripe_errors

__all__ = ["MeterEventResult", "StripeMeterData", "StripeMeters", "unit_amount_text"]


@dataclass(frozen=True, slots=True)
class StripeMeterData:
    id: str
    event_name: str
    display_name: str
    status: str  # active | inactive


@dataclass(frozen=True, slots=True)
class MeterEventResult:
    identifier: str
    duplicate: bool  # Stripe already had an event with this identifier: recorded before, not again


def unit_amount_text(unit_amount_minor: Decimal) -> str:
    """An exact minor-unit amount as Stripe's `unit_amount_decimal` writes it: "0.4", "88", "87.5"."""
    return format(unit_amount_minor.normalize(), "f")


def _plain(obj: Any) -> dict[str, Any]:
    plain: dict[str, Any] = obj.to_dict() if isinstance(obj, stripe.StripeObject) else dict(obj)
    return plain


def _meter(obj: Any) -> StripeMeterData:
    data = _plain(obj)
    return StripeMeterData(id=data["id"], event_name=data["event_name"],
                           display_name=data.get("display_name") or "", status=data.get("status") or "")


def _is_duplicate(exc: stripe.InvalidRequestError) -> bool:
    text = str(exc.user_message or exc).lower()
    return exc.param == "identifier" and "already exists" in text


class StripeMeters:
    def __init__(self, client: stripe.StripeClient) -> None:
        self._client = client

    def active_by_event_name(self, event_name: str) -> StripeMeterData | None:
        """The active meter counting `event_name` (Stripe allows one), or None."""
        with translate_stripe_errors("list meters"):
            page = self._client.v1.billing.meters.list(params={"status": "active", "limit": 100})
            found = [_meter(obj) for obj in page.auto_paging_iter()]
        return next((meter for meter in found if meter.event_name == event_name), None)

    def create(self, *, event_name: str, display_name: str, idempotency_key: str) -> StripeMeterData:
        """A meter summing each customer's `value` (credits) of `event_name` events."""
        params: dict[str, Any] = {
            "display_name": display_name, "event_name": event_name,
            "default_aggregation": {"formula": "sum"},
            "customer_mapping": {"type": "by_id", "event_payload_key": "stripe_customer_id"},
            "value_settings": {"event_payload_key": "value"},
        }
        with translate_stripe_errors(f"create meter {event_name}"):
            obj = self._client.v1.billing.meters.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            )
        return _meter(obj)

    def create_metered_price(
        self, *, product_id: str, unit_amount_minor: Decimal, currency: str, interval: str, meter_id: str,
        lookup_key: str, metadata: dict[str, str], idempotency_key: str,
    ) -> StripePriceData:
        """A metered price billing the meter's usage in arrears, per unit; it takes `lookup_key` over."""
        params: dict[str, Any] = {
            "product": product_id, "currency": currency,
            "unit_amount_decimal": unit_amount_text(unit_amount_minor),
            "recurring": {"interval": interval, "usage_type": "metered", "meter": meter_id},
            "lookup_key": lookup_key, "transfer_lookup_key": True, "metadata": metadata,
        }
        with translate_stripe_errors(f"create metered price {lookup_key}"):
            obj = self._client.v1.prices.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            )
        return price_from_stripe(obj)

    def send_event(
        self, *, event_name: str, stripe_customer_id: str, value: int, identifier: str,
        timestamp: dt.datetime,
    ) -> MeterEventResult:
        """Record `value` units of usage for the customer at `timestamp`. Sent again with the same
        identifier, Stripe refuses it as a duplicate: answered as `duplicate`, never counted twice."""
        params: dict[str, Any] = {
            "event_name": event_name, "identifier": identifier,
            "payload": {"stripe_customer_id": stripe_customer_id, "value": str(value)},
            "timestamp": int(timestamp.timestamp()),
        }
        with translate_stripe_errors(f"send meter event {identifier}"):
            try:
                self._client.v1.billing.meter_events.create(
                    params=params,  # type: ignore[arg-type]
                    # The identifier is the idempotency at Stripe; the key makes the SDK's own network
                    # retry of this very request answer the first result rather than a duplicate.
                    options={"idempotency_key": identifier},
                )
            except stripe.InvalidRequestError as exc:
                if _is_duplicate(exc):
                    return MeterEventResult(identifier, duplicate=True)
                raise
        return MeterEventResult(identifier, duplicate=False)
