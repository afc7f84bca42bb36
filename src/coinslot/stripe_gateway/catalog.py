"""Stripe products and prices: the calls `catalog push` and checkout need, and what they return."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import stripe

from coinslot.stripe_gateway.errors import translate_stripe_errors
from coinslot.stripe_ids import checked_stripe_id

__all__ = ["StripeCatalog", "StripePriceData", "StripeProductData", "price_from_stripe"]

# Stripe accepts at most 10 lookup keys per price list request.
_LOOKUP_KEYS_PER_CALL = 10


@dataclass(frozen=True, slots=True)
class StripeProductData:
    id: str
    name: str
    description: str
    active: bool
    metadata: dict[str, str]


@dataclass(frozen=True, slots=True)
class StripePriceData:
    id: str
    product: str
    unit_amount: int | None
    currency: str
    interval: str | None  # month | year | ...; None for one-time prices
    lookup_key: str | None
    active: bool
    # Metered prices (overage): the exact amount per unit in minor units, as Stripe's text, and the meter.
    unit_amount_decimal: str | None = None
    meter: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)  # `catalog push` writes the item and version


def _plain(obj: Any) -> dict[str, Any]:
    # stripe 16's objects are not dicts: read them as plain data, once.
    plain: dict[str, Any] = obj.to_dict() if isinstance(obj, stripe.StripeObject) else dict(obj)
    return plain


def _product(obj: Any) -> StripeProductData:
    data = _plain(obj)
    return StripeProductData(
        id=data["id"],
        name=data.get("name") or "",
        description=data.get("description") or "",
        active=bool(data.get("active")),
        metadata=dict(data.get("metadata") or {}),
    )


def price_from_stripe(obj: Any) -> StripePriceData:
    data = _plain(obj)
    recurring = data.get("recurring") or {}
    product = data["product"] if isinstance(data["product"], str) else data["product"]["id"]
    decimal = data.get("unit_amount_decimal")
    return StripePriceData(
        id=data["id"],
        product=product,
        unit_amount=data.get("unit_amount"),
        currency=data["currency"],
        interval=recurring.get("interval"),
        lookup_key=data.get("lookup_key"),
        active=bool(data.get("active")),
        # The SDK may hand a Decimal: kept as Stripe's text, exact.
        unit_amount_decimal=None if decimal is None else str(decimal),
        meter=recurring.get("meter"),
        metadata=dict(data.get("metadata") or {}),
    )


class StripeCatalog:
    def __init__(self, client: stripe.StripeClient) -> None:
        self._client = client

    def list_products(self) -> list[StripeProductData]:
        """Every product of the account, active or archived."""
        with translate_stripe_errors("list products"):
            page = self._client.v1.products.list(params={"limit": 100})
            return [_product(obj) for obj in page.auto_paging_iter()]

    def create_product(
        self, *, name: str, description: str, metadata: dict[str, str], idempotency_key: str
    ) -> StripeProductData:
        params: dict[str, Any] = {"name": name, "metadata": metadata}
        if description:
            params["description"] = description
        with translate_stripe_errors(f"create product {name!r}"):
            obj = self._client.v1.products.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            )
        return _product(obj)

    def update_product(self, product_id: str, *, name: str, description: str) -> StripeProductData:
        """Set the display fields and make sure the product is active."""
        params: dict[str, Any] = {"name": name, "description": description, "active": True}
        checked_stripe_id(product_id, "prod", field="product_id")
        with translate_stripe_errors(f"update product {product_id}"):
            obj = self._client.v1.products.update(product_id, params=params)  # type: ignore[arg-type]
        return _product(obj)

    def prices_by_lookup_key(self, lookup_keys: list[str]) -> dict[str, StripePriceData]:
        """The active price holding each lookup key (keys without one are absent)."""
        found: dict[str, StripePriceData] = {}
        for start in range(0, len(lookup_keys), _LOOKUP_KEYS_PER_CALL):
            batch = lookup_keys[start : start + _LOOKUP_KEYS_PER_CALL]
            with translate_stripe_errors("look up prices"):
                page = self._client.v1.prices.list(
                    params={"lookup_keys": batch, "active": True, "limit": 100}
                )
                for obj in page.auto_paging_iter():
                    price = price_from_stripe(obj)
                    if price.lookup_key:
                        found[price.lookup_key] = price
        return found

    def retrieve_price(self, price_id: str) -> StripePriceData:
        checked_stripe_id(price_id, "price", field="price_id")
        with translate_stripe_errors(f"retrieve price {price_id}"):
            return price_from_stripe(self._client.v1.prices.retrieve(price_id))

    def create_price(
        self,
        *,
        product_id: str,
        amount_minor: int,
        currency: str,
        interval: str | None,
        lookup_key: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> StripePriceData:
        """A new price that takes `lookup_key` over from whichever price held it (atomically, at Stripe)."""
        params: dict[str, Any] = {
            "product": product_id,
            "unit_amount": amount_minor,
            "currency": currency,
            "lookup_key": lookup_key,
            "transfer_lookup_key": True,
            "metadata": metadata,
        }
        if interval is not None:
            params["recurring"] = {"interval": interval}
        with translate_stripe_errors(f"create price {lookup_key}"):
            obj = self._client.v1.prices.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            )
        return price_from_stripe(obj)

    def deactivate_price(self, price_id: str) -> StripePriceData:
        checked_stripe_id(price_id, "price", field="price_id")
        with translate_stripe_errors(f"deactivate price {price_id}"):
            return price_from_stripe(self._client.v1.prices.update(price_id, params={"active": False}))
