"""Which event payloads are provably the newest state of their object, so that re-reading it is skipped.

A handler re-reads the objects whose state matters because events arrive late, twice and out of
order, and a payload is only a snapshot of its moment; `created` has one-second resolution, so two
changes within a second cannot be ordered from payloads alone. An object in a terminal state cannot
change any more: a later read would answer the same, so its payload stands for that read.

  - an invoice `paid` (draft → open → paid | void | uncollectible: paid is final), with every line
    in the payload (`lines.has_more` false);
  - a subscription `canceled` or `incomplete_expired` (neither can be reactivated), whose discounts
    are known (the payload names a discount's coupon by id only, and its terms count in the mirror's
    amounts: then the read, which expands them, is still made);
  - a Checkout Session `complete` (open → complete | expired: complete is final) in subscription mode,
    paid or with nothing due, whose metadata names the plan it sold: what only the read carries is
    its line items (expanded), which a plan's fulfilment does not use. A pack's session is still read:
    its quantity comes from the line items. An unpaid complete session (an asynchronous payment still
    to settle) is read too.

Only what the object says of itself is taken from the payload: an invoice line's price (its lookup
key and metadata can move) is still read (`StripeInvoices.with_prices`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from coinslot.checkout import service as checkout_service
from coinslot.stripe_gateway.subscriptions import subscription_from_dict

__all__ = ["Settled", "settled_objects"]

TERMINAL_SUBSCRIPTION_STATUSES = frozenset({"canceled", "incomplete_expired"})


@dataclass(frozen=True, slots=True)
class Settled:
    kind: Literal["invoice", "subscription", "checkout_session"]
    object_id: str
    payload: Mapping[str, Any]


def settled_objects(payload: Mapping[str, Any]) -> list[Settled]:
    """The objects an event's `data.object` gives in a final state (none, or the object itself)."""
    kind, object_id = payload.get("object"), payload.get("id")
    if not isinstance(object_id, str):
        return []
    if kind == "invoice" and _is_paid_in_full_view(payload):
        return [Settled("invoice", object_id, payload)]
    if kind == "subscription" and _is_ended_with_known_terms(payload):
        return [Settled("subscription", object_id, payload)]
    if kind == "checkout.session" and _is_a_plan_sold(payload):
        return [Settled("checkout_session", object_id, payload)]
    return []


def _is_paid_in_full_view(invoice: Mapping[str, Any]) -> bool:
    lines = invoice.get("lines")
    return (invoice.get("status") == "paid" and isinstance(lines, Mapping)
            and lines.get("has_more") is False)


def _is_a_plan_sold(checkout: Mapping[str, Any]) -> bool:
    metadata = checkout.get("metadata")
    return (checkout.get("status") == "complete" and checkout.get("mode") == "subscription"
            and checkout.get("payment_status") in ("paid", "no_payment_required")
            and isinstance(metadata, Mapping)
            and str(metadata.get(checkout_service.METADATA_ITEM, "")).startswith("plan:"))


def _is_ended_with_known_terms(subscription: Mapping[str, Any]) -> bool:
    if subscription.get("status") not in TERMINAL_SUBSCRIPTION_STATUSES:
        return False
    items = subscription.get("items")
    if not isinstance(items, Mapping) or items.get("has_more") is not False:
        return False
    return subscription_from_dict(subscription).discounts is not None
