"""Stripe subscriptions: calls and the dataclasses they return.

Since API version 2025-03-31.basil a subscription has no top-level period:
each item carries `current_period_start/end`; the first item's period is the
subscription's (coinslot sells one price per subscription).

Every read expands `discounts.source.coupon`, so a snapshot carries the terms of its discounts
(what they take off the amount: the figures count real revenue). A subscription parsed from an
event's own payload names its discounts by id only: its `discounts` is None, "not known".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import stripe

from coinslot.stripe_gateway.client import retrieve_plain
from coinslot.stripe_gateway.errors import translate_stripe_errors
from coinslot.stripe_ids import checked_stripe_id

__all__ = [
    "ItemChange",
    "MeteredSwap",
    "ProrationBehavior",
    "StripeDiscountData",
    "StripeSubscriptionData",
    "StripeSubscriptionItemData",
    "StripeSubscriptions",
    "as_dict",
    "subscription_from_dict",
]

ProrationBehavior = Literal["always_invoice", "create_prorations", "none"]

# What every call that answers a subscription asks Stripe to expand: the coupon behind each discount
# (its terms), three levels deep on one subscription, four on a list (Stripe's limit is four).
_EXPAND = ["discounts.source.coupon"]
_EXPAND_LIST = ["data.discounts.source.coupon"]


def as_dict(obj: Any) -> dict[str, Any]:
    """A Stripe object (or an already plain mapping, e.g. an event's payload) as plain dicts."""
    if isinstance(obj, stripe.StripeObject):
        plain: dict[str, Any] = obj.to_dict()
        return plain
    return dict(obj)


def _id(value: Any) -> str | None:
    """An expandable field: an id, or the expanded object whose id we want."""
    if value is None or isinstance(value, str):
        return value
    return str(value["id"])


@dataclass(frozen=True, slots=True)
class ItemChange:
    """One change of a subscription's items: an item's price or quantity (`item_id`), a new item
    (no `item_id`: a price and a quantity), or an item taken off (`deleted`)."""

    item_id: str | None = None
    price_id: str | None = None
    quantity: int | None = None
    deleted: bool = False

    def params(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if self.item_id is not None:
            found["id"] = self.item_id
        if self.price_id is not None:
            found["price"] = self.price_id
        if self.quantity is not None:
            found["quantity"] = self.quantity
        if self.deleted:
            found["deleted"] = True
        return found


@dataclass(frozen=True, slots=True)
class StripeSubscriptionItemData:
    id: str
    price_id: str
    price_lookup_key: str | None
    interval: str | None  # month | year | week | day
    quantity: int
    current_period_start_s: int | None  # unix seconds
    current_period_end_s: int | None
    price_metadata: Mapping[str, str] = field(default_factory=dict)  # what `catalog push` wrote on it
    unit_amount_minor: int | None = None  # None for prices without one (tiered, metered)
    currency: str | None = None
    interval_count: int = 1  # bills every `interval_count` intervals (3 x month = quarterly)
    metered: bool = False  # usage billed in arrears (a plan's overage), not the plan itself


@dataclass(frozen=True, slots=True)
class MeteredSwap:
    """What a plan change does to the metered item (the plan's overage): point it at `price_id`, add one
    (no `item_id`), or remove it (no `price_id`)."""

    item_id: str | None
    price_id: str | None

    def item_changes(self) -> list[ItemChange]:
        if self.item_id and self.price_id:
            return [ItemChange(item_id=self.item_id, price_id=self.price_id)]
        if self.item_id:
            return [ItemChange(item_id=self.item_id, deleted=True)]
        return [ItemChange(price_id=self.price_id)] if self.price_id else []


@dataclass(frozen=True, slots=True)
class StripeDiscountData:
    """A discount on a subscription, with its coupon's terms: one of percent_off or amount_off_minor."""

    id: str
    coupon_id: str
    percent_off: Decimal | None  # e.g. Decimal("12.5"); read from the JSON's text form, never kept as float
    amount_off_minor: int | None
    currency: str | None  # of amount_off_minor
    end_s: int | None  # unix seconds: when a repeating coupon's discount ends; None for forever and once


@dataclass(frozen=True, slots=True)
class StripeSubscriptionData:
    """The parts of a Stripe subscription coinslot mirrors; times are unix seconds."""

    id: str
    customer_id: str
    status: str
    items: tuple[StripeSubscriptionItemData, ...]
    cancel_at_period_end: bool
    cancel_at_s: int | None
    canceled_at_s: int | None
    ended_at_s: int | None
    trial_end_s: int | None
    created_s: int
    livemode: bool
    metadata: Mapping[str, str]
    latest_invoice_id: str | None = None  # the invoice of the last change or period
    test_clock_id: str | None = None  # test mode: the test clock it runs on
    currency: str | None = None
    # The discounts in force, in the order Stripe applies them; None when the copy named them by id only
    # (an event's payload), so their terms are not known.
    discounts: tuple[StripeDiscountData, ...] | None = ()

    @property
    def first_item(self) -> StripeSubscriptionItemData | None:
        """The plan's item: the first licensed one (a metered item bills the plan's overage)."""
        return next((item for item in self.items if not item.metered), self.items[0] if self.items else None)

    @property
    def metered_item(self) -> StripeSubscriptionItemData | None:
        return next((item for item in self.items if item.metered), None)

    @property
    def price_lookup_key(self) -> str | None:
        return self.first_item.price_lookup_key if self.first_item else None


def _item_from_dict(item: Mapping[str, Any]) -> StripeSubscriptionItemData:
    price = item.get("price") or {}
    recurring = price.get("recurring") or {}
    return StripeSubscriptionItemData(
        id=str(item["id"]),
        price_id=str(price.get("id", "")),
        price_lookup_key=price.get("lookup_key"),
        interval=recurring.get("interval"),
        quantity=int(item.get("quantity") or 1),
        current_period_start_s=item.get("current_period_start"),
        current_period_end_s=item.get("current_period_end"),
        price_metadata=dict(price.get("metadata") or {}),
        unit_amount_minor=price.get("unit_amount"),
        currency=price.get("currency"),
        interval_count=int(recurring.get("interval_count") or 1),
        metered=recurring.get("usage_type") == "metered",
    )


def _percent(value: Any) -> Decimal | None:
    # Stripe sends percent_off as a JSON number (12.5); its shortest text form is the exact value typed.
    return None if value is None else Decimal(str(value))


def _discount_from_dict(value: Any) -> StripeDiscountData | None:
    """A discount whose coupon was expanded; None when only ids were sent (terms unknown)."""
    if not isinstance(value, Mapping):
        return None
    source = value.get("source") or {}
    coupon = source.get("coupon") if isinstance(source, Mapping) else None
    coupon = coupon or value.get("coupon")  # API versions before basil put the coupon on the discount
    if not isinstance(coupon, Mapping):
        return None
    amount_off = coupon.get("amount_off")
    return StripeDiscountData(
        id=str(value.get("id", "")),
        coupon_id=str(coupon.get("id", "")),
        percent_off=_percent(coupon.get("percent_off")),
        amount_off_minor=int(amount_off) if amount_off is not None else None,
        currency=coupon.get("currency"),
        end_s=value.get("end"),
    )


def _discounts_from(values: Any) -> tuple[StripeDiscountData, ...] | None:
    parsed = [_discount_from_dict(value) for value in values or []]
    if any(discount is None for discount in parsed):
        return None
    return tuple(discount for discount in parsed if discount is not None)


def subscription_from_dict(data: Mapping[str, Any]) -> StripeSubscriptionData:
    """Parse a subscription as Stripe renders it (API answer or an event's `data.object`)."""
    items = (data.get("items") or {}).get("data") or []
    return StripeSubscriptionData(
        id=str(data["id"]),
        customer_id=_id(data.get("customer")) or "",
        status=str(data["status"]),
        items=tuple(_item_from_dict(item) for item in items),
        cancel_at_period_end=bool(data.get("cancel_at_period_end")),
        cancel_at_s=data.get("cancel_at"),
        canceled_at_s=data.get("canceled_at"),
        ended_at_s=data.get("ended_at"),
        trial_end_s=data.get("trial_end"),
        created_s=int(data.get("created") or 0),
        livemode=bool(data.get("livemode")),
        metadata=dict(data.get("metadata") or {}),
        latest_invoice_id=_id(data.get("latest_invoice")),
        test_clock_id=_id(data.get("test_clock")),
        currency=data.get("currency"),
        discounts=_discounts_from(data.get("discounts")),
    )


class StripeSubscriptions:
    def __init__(self, client: stripe.StripeClient) -> None:
        self._client = client

    def retrieve(self, subscription_id: str) -> StripeSubscriptionData:
        checked_stripe_id(subscription_id, "sub", field="subscription_id")
        with translate_stripe_errors(f"read subscription {subscription_id}"):
            found = retrieve_plain(self._client, "/v1/subscriptions", subscription_id, expand=_EXPAND)
        return subscription_from_dict(found)

    def list_for_customer(self, customer_id: str) -> list[StripeSubscriptionData]:
        """Every subscription of the customer, canceled ones included (reconcile needs them)."""
        with translate_stripe_errors(f"list subscriptions of {customer_id}"):
            page = self._client.v1.subscriptions.list(
                params={"customer": customer_id, "status": "all", "limit": 100, "expand": _EXPAND_LIST}
            )
            found = [subscription_from_dict(as_dict(sub)) for sub in page.auto_paging_iter()]
        return found

    def list_all(self, *, page_size: int = 100) -> list[StripeSubscriptionData]:
        """Every subscription of the account, canceled ones included, a page of `page_size` per call:
        what adopting an existing account reads (one call per page, not one per customer)."""
        with translate_stripe_errors("list subscriptions"):
            page = self._client.v1.subscriptions.list(
                params={"status": "all", "limit": page_size, "expand": _EXPAND_LIST}
            )
            found = [subscription_from_dict(as_dict(sub)) for sub in page.auto_paging_iter()]
        return found

    def set_cancel_at_period_end(
        self, subscription_id: str, *, cancel: bool, idempotency_key: str
    ) -> StripeSubscriptionData:
        """Cancel at the end of the paid period (cancel=True), or take that back (resume)."""
        checked_stripe_id(subscription_id, "sub", field="subscription_id")
        with translate_stripe_errors(f"update subscription {subscription_id}"):
            updated = self._client.v1.subscriptions.update(
                subscription_id,
                params={"cancel_at_period_end": cancel, "expand": _EXPAND},
                options={"idempotency_key": idempotency_key},
            )
        return subscription_from_dict(as_dict(updated))

    def change_price(
        self,
        subscription_id: str,
        *,
        item_id: str,
        price_id: str,
        proration_behavior: ProrationBehavior,
        idempotency_key: str,
        proration_date_s: int | None = None,
        metered: MeteredSwap | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> StripeSubscriptionData:
        """Swap the subscription's plan item to another price (and its metered item with it, `metered`).
        `proration_date_s` (unix seconds) prorates as of that moment: the one a preview showed, so the
        customer is charged what they confirmed. `metadata` is set in the same update (an empty value
        unsets a key)."""
        items = [ItemChange(item_id=item_id, price_id=price_id), *(metered.item_changes() if metered else [])]
        return self.change_items(subscription_id, items=items, proration_behavior=proration_behavior,
                                 idempotency_key=idempotency_key, proration_date_s=proration_date_s,
                                 metadata=metadata)

    def change_items(
        self,
        subscription_id: str,
        *,
        items: list[ItemChange],
        proration_behavior: ProrationBehavior,
        idempotency_key: str,
        proration_date_s: int | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> StripeSubscriptionData:
        """Change the subscription's items: a price, a quantity (seats), an item added or removed (add-ons),
        prorated as `proration_behavior` says, as of `proration_date_s` when given (a preview's moment);
        `metadata` is set in the same update."""
        params: dict[str, Any] = {
            "items": [item.params() for item in items],
            "proration_behavior": proration_behavior,
            "expand": _EXPAND,
        }
        if proration_date_s is not None:
            params["proration_date"] = proration_date_s
        if metadata:
            params["metadata"] = dict(metadata)
        checked_stripe_id(subscription_id, "sub", field="subscription_id")
        with translate_stripe_errors(f"change the items of subscription {subscription_id}"):
            updated = self._client.v1.subscriptions.update(
                subscription_id,
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            )
        return subscription_from_dict(as_dict(updated))
