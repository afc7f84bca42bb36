"""SetupIntents: saving a card for later payments, with the test cards' behaviours.

Confirming runs one setup attempt (a `setup_attempt` object): cards Stripe
will not attach decline (`setup_intent.setup_failed`, status back to
`requires_payment_method`), 3D Secure cards wait for the customer
(`requires_action`, answered by `authenticate`), the others succeed: the
card is attached to the intent's customer and `setup_intent.succeeded` is
sent. A card authenticated here is set up (`cards.mark_authenticated`):
`pm_card_authenticationRequiredOnSetup` then pays off-session without a
challenge, as on Stripe.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Callable
from typing import Any

from ..cards import Charge as Outcome
from ..cards import mark_authenticated, setup_behaviour
from ..store import new_id
from .context import Ctx
from .payment_methods import attach_payment_method

__all__ = ["SETUP_HOOKS", "authenticate_setup", "confirm_setup", "new_setup_intent",
           "setup_error"]

# Called after a SetupIntent succeeds (setup-mode Checkout completes its session there).
SETUP_HOOKS: list[Callable[[Ctx, dict[str, Any]], None]] = []
_CARD_OPTIONS = {"card": {"mandate_options": None, "network": None,
                          "request_three_d_secure": "automatic"}}


def new_setup_intent(ctx: Ctx, *, customer_id: str | None, created: int,
                     usage: str = "off_session", description: str | None = None,
                     metadata: dict[str, str] | None = None,
                     automatic: bool = False) -> dict[str, Any]:
    """Store a SetupIntent (status requires_payment_method) and send setup_intent.created."""
    si_id = new_id("seti")
    si = {
        "id": si_id, "object": "setup_intent", "application": None,
        "automatic_payment_methods": {"allow_redirects": "always", "enabled": True}
        if automatic else None,
        "cancellation_reason": None,
        "client_secret": f"{si_id}_secret_{secrets.token_urlsafe(24)}", "created": created,
        "customer": customer_id, "customer_account": None, "description": description,
        "excluded_payment_method_types": None, "flow_directions": None,
        "last_setup_error": None, "latest_attempt": None, "livemode": False, "mandate": None,
        "metadata": metadata or {}, "next_action": None, "on_behalf_of": None,
        "payment_method": None, "payment_method_configuration_details": None,
        "payment_method_options": copy.deepcopy(_CARD_OPTIONS), "payment_method_types": ["card"],
        "single_use_mandate": None, "status": "requires_payment_method", "usage": usage,
    }
    ctx.store.insert(si)
    ctx.emit("setup_intent.created", si)
    return si


def setup_error(result: Outcome, pm: dict[str, Any]) -> dict[str, Any]:
    """`last_setup_error` / an attempt's `setup_error` for a declined card."""
    return {"advice_code": None, "code": result.code, "decline_code": result.decline_code,
            "doc_url": f"https://stripe.com/docs/error-codes/{(result.code or '').replace('_', '-')}",
            "message": result.message, "network_advice_code": None,
            "network_decline_code": None, "param": None, "payment_method": copy.deepcopy(pm),
            "payment_method_type": "card", "type": "card_error"}


def _attempt(ctx: Ctx, si: dict[str, Any], pm: dict[str, Any], at: int) -> dict[str, Any]:
    card = pm.get("card") or {}
    attempt = {
        "id": new_id("setatt"), "object": "setup_attempt", "application": None,
        "attach_to_self": False, "created": at, "customer": si["customer"],
        "customer_account": None, "flow_directions": None, "livemode": False,
        "on_behalf_of": None, "payment_method": pm["id"],
        "payment_method_details": {"card": {
            "brand": card.get("brand"), "checks": copy.deepcopy(card.get("checks")),
            "country": card.get("country"), "exp_month": card.get("exp_month"),
            "exp_year": card.get("exp_year"), "fingerprint": card.get("fingerprint"),
            "funding": card.get("funding"), "last4": card.get("last4"),
            "network": card.get("brand"), "three_d_secure": None, "wallet": None},
            "type": "card"},
        "setup_error": None, "setup_intent": si["id"], "status": "processing",
        "usage": si["usage"],
    }
    ctx.store.insert(attempt)
    si["latest_attempt"] = attempt["id"]
    return attempt


def _three_d_secure(succeeded: bool) -> dict[str, Any]:
    return {"authentication_flow": "challenge", "electronic_commerce_indicator": "05",
            "result": "authenticated" if succeeded else "failed",
            "result_reason": None if succeeded else "rejected",
            "transaction_id": secrets.token_hex(16), "version": "2.2.0"}


def confirm_setup(ctx: Ctx, si: dict[str, Any], pm: dict[str, Any]) -> Outcome:
    """One setup attempt of `pm` for `si`: "succeed", "decline" or "requires_action"."""
    at = ctx.now(si.get("customer"))
    si["payment_method"] = pm["id"]
    attempt = _attempt(ctx, si, pm, at)
    result = setup_behaviour(pm)
    if result.outcome == "requires_action":
        attempt["status"] = "requires_action"
        si.update(status="requires_action", last_setup_error=None, next_action={
            "type": "use_stripe_sdk",
            "use_stripe_sdk": {"type": "three_d_secure_redirect",
                               "stripe_js": f"/_sim/setup_intents/{si['id']}/authenticate"}})
        ctx.store.touch()
        ctx.emit("setup_intent.requires_action", si)
        return result
    if result.outcome == "decline":
        error = setup_error(result, pm)
        attempt.update(status="failed", setup_error=error)
        si.update(status="requires_payment_method", next_action=None, last_setup_error=error)
        ctx.store.touch()
        ctx.emit("setup_intent.setup_failed", si)
        return result
    attempt["status"] = "succeeded"
    _succeeded(ctx, si, pm)
    return result


def _succeeded(ctx: Ctx, si: dict[str, Any], pm: dict[str, Any]) -> None:
    si.update(status="succeeded", next_action=None, last_setup_error=None)
    if si["customer"] and pm.get("customer") != si["customer"]:
        attach_payment_method(ctx, pm["id"], ctx.customer(si["customer"]))
    ctx.store.touch()
    ctx.emit("setup_intent.succeeded", si)
    for hook in SETUP_HOOKS:
        hook(ctx, si)


def authenticate_setup(ctx: Ctx, si: dict[str, Any], succeed: bool) -> None:
    """The customer finished (or failed) the 3D Secure challenge of `si`."""
    pm = ctx.store.require("payment_method", si["payment_method"], param="payment_method")
    attempt = ctx.store.get("setup_attempt", str(si.get("latest_attempt")))
    if attempt is not None:
        attempt["payment_method_details"]["card"]["three_d_secure"] = _three_d_secure(succeed)
    if succeed:
        if attempt is not None:
            attempt["status"] = "succeeded"
        _succeeded(ctx, si, pm)
        mark_authenticated(pm)  # after `_succeeded` attached it to the customer
        return
    error = {
        "advice_code": None, "code": "setup_intent_authentication_failure",
        "decline_code": None,
        "doc_url": "https://stripe.com/docs/error-codes/setup-intent-authentication-failure",
        "message": "The latest attempt to set up the payment method has failed because "
                   "authentication failed.",
        "network_advice_code": None, "network_decline_code": None, "param": None,
        "payment_method": copy.deepcopy(pm), "payment_method_type": "card",
        "type": "invalid_request_error"}
    if attempt is not None:
        attempt.update(status="failed", setup_error=error)
    si.update(status="requires_payment_method", next_action=None, last_setup_error=error)
    ctx.store.touch()
    ctx.emit("setup_intent.setup_failed", si)
