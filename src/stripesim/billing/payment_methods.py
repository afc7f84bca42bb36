"""Payment methods, the stored objects: a test card made real, found, attached.

A `pm_card_*` alias is not stored: each use (attach, retrieve, customer
create with `payment_method=`) materialises a new `pm_...` remembering the
alias in `_test_card`, which `cards.card_behaviour` reads. Used by the API
(`resources/payment_methods.py`, `resources/customers.py`) and by the engine wherever
a card gets saved (Checkout, `setup_future_usage`, SetupIntents, the portal).
"""

from __future__ import annotations

import hashlib
from typing import Any

from ..cards import TEST_CARDS, CardSpec, card_behaviour, decline_error, lookup_card
from ..errors import InvalidRequestError, ResourceMissing
from ..shapes import blank_address
from ..store import Store, new_id
from .context import Ctx, ensure_writable

__all__ = ["NOUN", "attach_payment_method", "materialise", "resolve_payment_method"]

NOUN = "payment_method"


def materialise(store: Store, alias: str, *, created: int | None = None,
                exp_month: int = 12, exp_year: int = 2034) -> dict[str, Any]:
    """Store a new card payment method for a test-card alias."""
    spec = lookup_card(alias)
    if spec is None:
        raise ResourceMissing("PaymentMethod", alias)
    pm = {
        "id": new_id("pm"),
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": {"address": blank_address(), "email": None, "name": None,
                            "phone": None, "tax_id": None},
        "card": _card(spec, alias, exp_month, exp_year),
        "created": created if created is not None else store.now(),
        "customer": None,
        "customer_account": None,
        "livemode": False,
        "metadata": {},
        "type": "card",
        "_test_card": alias,
    }
    return store.insert(pm)


def _card(spec: CardSpec, alias: str, exp_month: int, exp_year: int) -> dict[str, Any]:
    return {
        "brand": spec.brand,
        "checks": {"address_line1_check": None, "address_postal_code_check": None,
                   "cvc_check": "unchecked"},
        "country": spec.country,
        "display_brand": spec.brand,
        "exp_month": exp_month,
        "exp_year": exp_year,
        # Same card, same fingerprint: lets integrations spot duplicates, as on Stripe.
        "fingerprint": hashlib.sha256(alias.encode()).hexdigest()[:16],
        "funding": spec.funding,
        "generated_from": None,
        "last4": spec.last4,
        "networks": {"available": [spec.brand], "preferred": None},
        "regulated_status": "unregulated",
        "three_d_secure_usage": {"supported": True},
        "wallet": None,
    }


def resolve_payment_method(store: Store, pm_id: Any, *, param: str = "payment_method",
                           created: int | None = None) -> dict[str, Any]:
    """A stored payment method, or a fresh one for a `pm_card_*` alias; 404 otherwise."""
    if isinstance(pm_id, str) and pm_id in TEST_CARDS:
        return materialise(store, pm_id, created=created)
    pm = store.get(NOUN, pm_id) if isinstance(pm_id, str) else None
    if pm is None:
        raise ResourceMissing("PaymentMethod", str(pm_id), param=param)
    return pm


def attach_payment_method(ctx: Ctx, pm_id: Any, customer: dict[str, Any], *,
                          param: str = "payment_method", announce: bool = True) -> dict[str, Any]:
    """Attach (materialising aliases); 402 for cards Stripe refuses to attach.

    `announce=False` leaves emitting `payment_method.attached` to the caller
    (customer create announces the customer first, as cause precedes effect).
    """
    ensure_writable(ctx.store, customer["id"])
    spec = lookup_card(pm_id) if isinstance(pm_id, str) else None
    if spec is not None and not spec.attachable:
        charge = card_behaviour({"_test_card": pm_id})
        raise decline_error(charge, param=param)
    pm = resolve_payment_method(ctx.store, pm_id, param=param,
                                created=ctx.store.now_for(customer["id"]))
    if pm.get("customer") == customer["id"]:
        return pm
    if pm.get("customer") is not None:
        raise InvalidRequestError(
            "The payment method you provided has already been attached to a customer.",
            code="payment_method_unexpected_state", param=param)
    pm["customer"] = customer["id"]
    ctx.store.touch()
    if announce:
        ctx.emit("payment_method.attached", pm)
    return pm
