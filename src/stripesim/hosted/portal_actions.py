"""What the billing portal's buttons do. Each action runs the API's own handlers (subscription
update, customer update, attach / detach), so it emits the same events as the API would, and
answers a notice code the page turns into a sentence.

Features the portal configuration disables are refused, whatever the form says.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..billing import lifecycle, subscription_end
from ..billing.context import Ctx
from ..billing.payment_methods import attach_payment_method
from ..errors import InvalidRequestError, ParameterInvalid
from ..resources.customers import update as update_customer
from ..resources.payment_methods import detach
from ..resources.subscriptions import update_subscription
from ..routing import Call
from ..sim import Sim
from .portal_views import live_subscriptions, owned_subscription, plan_options

__all__ = ["CANCEL_REASONS", "NOTICES", "Portal", "perform", "proposed_change"]

NOTICES = {
    "plan_updated": "Your plan was updated.",
    "cancel_scheduled": "Your subscription will be canceled at the end of the billing period.",
    "canceled": "Your subscription was canceled.",
    "renewed": "Your subscription was renewed: it no longer cancels.",
    "resumed": "Your subscription was resumed.",
    "card_added": "Your card was added and is now your default payment method.",
    "default_changed": "Your default payment method was updated.",
    "card_removed": "The card was removed.",
    "customer_updated": "Your billing information was updated.",
    "flow_left": "Plan change cancelled; nothing was changed.",
}
# Stripe's `cancellation_details.feedback` values, as the portal asks them.
CANCEL_REASONS = (("too_expensive", "It's too expensive"),
                  ("missing_features", "Some features are missing"),
                  ("switched_service", "I'm switching to a different service"),
                  ("unused", "I don't use the service enough"),
                  ("customer_service", "Customer service was less than expected"),
                  ("too_complex", "Ease of use was less than expected"),
                  ("low_quality", "Quality was less than expected"),
                  ("other", "Other reason"))
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class Portal:
    """One request on a portal session: who, under which configuration."""

    sim: Sim
    session: dict[str, Any]
    config: dict[str, Any]

    @property
    def features(self) -> dict[str, Any]:
        features: dict[str, Any] = self.config["features"]
        return features

    @property
    def customer_id(self) -> str:
        return str(self.session["customer"])

    def call(self, path: str = "/p/session", params: dict[str, Any] | None = None,
             path_params: dict[str, str] | None = None) -> Call:
        return Call(self.sim, "POST", path, params or {}, path_params or {}, None, None, {})


def pending_flow(session: dict[str, Any]) -> dict[str, Any] | None:
    """The session's `flow` while its step is still open (neither completed nor left)."""
    flow: dict[str, Any] | None = session.get("flow")
    if not flow or session.get("_flow_done"):
        return None
    return flow


def proposed_change(portal: Portal) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], int]:
    """(subscription, its item, the proposed price, quantity) of a pending
    `subscription_update_confirm` flow."""
    flow = pending_flow(portal.session) or {}
    block = flow.get("subscription_update_confirm") or {}
    sub = owned_subscription(portal.sim.store, portal.customer_id, block.get("subscription"))
    wanted = (block.get("items") or [{}])[0]
    items = sub["items"]["data"]
    # Stripe requires items[0][id]; without one the single-item subscription's item is meant.
    item = next((i for i in items if i["id"] == wanted.get("id")), None) if wanted.get("id") \
        else items[0]
    if item is None:
        raise InvalidRequestError(f"No such subscription item: '{wanted.get('id')}'")
    price = portal.sim.store.require("price", wanted.get("price") or item["price"]["id"],
                                     param="price")
    return sub, item, price, int(wanted.get("quantity") or item.get("quantity") or 1)


def _update(portal: Portal, sub: dict[str, Any], params: dict[str, Any]) -> None:
    update_subscription(portal.call(), sub, params)


def _change_items(portal: Portal, sub: dict[str, Any], item: dict[str, Any], price_id: str,
                  quantity: int) -> None:
    _update(portal, sub, {
        "items": [{"id": item["id"], "price": price_id, "quantity": str(quantity)}],
        "proration_behavior": portal.features["subscription_update"]["proration_behavior"]})


def _confirm_update(portal: Portal, form: dict[str, str]) -> str:
    flow = pending_flow(portal.session) or {}
    if flow.get("type") != "subscription_update_confirm":
        raise InvalidRequestError("There is no plan change waiting for confirmation.")
    sub, item, price, quantity = proposed_change(portal)
    _change_items(portal, sub, item, price["id"], quantity)
    return "plan_updated"


def _switch(portal: Portal, form: dict[str, str]) -> str:
    if not portal.features["subscription_update"]["enabled"]:
        raise InvalidRequestError("This portal does not offer plan changes.")
    sub = owned_subscription(portal.sim.store, portal.customer_id, form.get("subscription"))
    offered = {p.price_id for p in plan_options(portal.sim.store, portal.config)}
    if form.get("price") not in offered:
        raise InvalidRequestError("That plan is not offered here.", param="price")
    item = sub["items"]["data"][0]
    if item["price"]["id"] == form["price"]:
        raise InvalidRequestError("You are already on this plan.", param="price")
    _change_items(portal, sub, item, form["price"], int(item.get("quantity") or 1))
    return "plan_updated"


def _cancel(portal: Portal, form: dict[str, str]) -> str:
    settings = portal.features["subscription_cancel"]
    if not settings["enabled"]:
        raise InvalidRequestError("This portal does not offer cancellation.")
    sub = owned_subscription(portal.sim.store, portal.customer_id, form.get("subscription"))
    reason = form.get("reason") or ""
    feedback = {"feedback": reason} if reason in dict(CANCEL_REASONS) else {}
    if settings["mode"] == "immediately":
        if feedback:
            _update(portal, sub, {"cancellation_details": feedback})
        subscription_end.cancel(Ctx(portal.sim, portal.call()), sub,
                         portal.sim.store.now_for(sub["customer"]), reason="cancellation_requested")
        return "canceled"
    params: dict[str, Any] = {"cancel_at_period_end": "true"}
    if feedback:
        params["cancellation_details"] = feedback
    _update(portal, sub, params)
    return "cancel_scheduled"


def _resume(portal: Portal, form: dict[str, str]) -> str:
    sub = owned_subscription(portal.sim.store, portal.customer_id, form.get("subscription"))
    _update(portal, sub, {"cancel_at_period_end": "false"})
    return "renewed"


def _unpause(portal: Portal, form: dict[str, str]) -> str:
    sub = owned_subscription(portal.sim.store, portal.customer_id, form.get("subscription"))
    if sub["status"] != "paused":
        raise InvalidRequestError("This subscription is not paused.")
    lifecycle.resume(Ctx(portal.sim, portal.call()), sub, portal.sim.store.now_for(sub["customer"]))
    return "resumed"


def _require_card_updates(portal: Portal) -> None:
    if not portal.features["payment_method_update"]["enabled"]:
        raise InvalidRequestError("This portal does not offer payment method updates.")


def _make_default(portal: Portal, pm_id: str) -> None:
    """The customer's default, and every live subscription's, as Stripe's portal sets it."""
    update_customer(portal.call(f"/v1/customers/{portal.customer_id}",
                                {"invoice_settings": {"default_payment_method": pm_id}},
                                {"id": portal.customer_id}))
    for sub in live_subscriptions(portal.sim.store, portal.customer_id):
        if sub.get("default_payment_method") != pm_id:
            _update(portal, sub, {"default_payment_method": pm_id})


def _add_card(portal: Portal, form: dict[str, str]) -> str:
    _require_card_updates(portal)
    customer = portal.sim.store.require("customer", portal.customer_id)
    pm = attach_payment_method(Ctx(portal.sim, portal.call()),
                               form.get("payment_method") or "pm_card_visa", customer)
    _make_default(portal, pm["id"])
    return "card_added"


def _owned_card(portal: Portal, form: dict[str, str]) -> dict[str, Any]:
    pm = portal.sim.store.get("payment_method", form.get("payment_method", ""))
    if pm is None or pm.get("customer") != portal.customer_id:
        raise InvalidRequestError("That payment method is not yours.", param="payment_method")
    return pm


def _default_card(portal: Portal, form: dict[str, str]) -> str:
    _require_card_updates(portal)
    _make_default(portal, _owned_card(portal, form)["id"])
    return "default_changed"


def _remove_card(portal: Portal, form: dict[str, str]) -> str:
    _require_card_updates(portal)
    pm = _owned_card(portal, form)
    customer = portal.sim.store.require("customer", portal.customer_id)
    in_use = pm["id"] == (customer.get("invoice_settings") or {}).get("default_payment_method") or \
        any(s.get("default_payment_method") == pm["id"]
            for s in live_subscriptions(portal.sim.store, portal.customer_id))
    if in_use and live_subscriptions(portal.sim.store, portal.customer_id):
        raise InvalidRequestError("This card pays your subscription: add or choose another "
                                  "default card before removing it.", param="payment_method")
    detach(portal.call(f"/v1/payment_methods/{pm['id']}/detach", {}, {"id": pm["id"]}))
    return "card_removed"


def _customer(portal: Portal, form: dict[str, str]) -> str:
    settings = portal.features["customer_update"]
    if not settings["enabled"]:
        raise InvalidRequestError("This portal does not let customers change their details.")
    allowed = set(settings.get("allowed_updates") or [])
    params: dict[str, Any] = {}
    for field in ("name", "email", "phone"):
        if field in allowed and field in form:
            params[field] = form[field].strip()
    if params.get("email") is not None and not _EMAIL.match(params["email"]):
        raise ParameterInvalid("email", "Enter a valid email address.")
    if "address" in allowed:
        params["address"] = {key: form.get(f"address_{key}", "").strip() for key in
                             ("line1", "line2", "city", "state", "postal_code", "country")}
    update_customer(portal.call(f"/v1/customers/{portal.customer_id}", params,
                                {"id": portal.customer_id}))
    return "customer_updated"


ACTIONS: dict[str, Callable[[Portal, dict[str, str]], str]] = {
    "confirm_update": _confirm_update, "switch": _switch, "cancel": _cancel, "resume": _resume,
    "unpause": _unpause, "card": _add_card, "add_card": _add_card,
    "default_card": _default_card, "remove_card": _remove_card, "customer": _customer,
}


def perform(portal: Portal, form: dict[str, str]) -> str:
    """Run the form's `action`; the notice code of what happened (StripeError when refused)."""
    action = ACTIONS.get(form.get("action", ""))
    if action is None:
        raise InvalidRequestError(f"Unknown portal action: {form.get('action', '')}.")
    return action(portal, form)
