"""The hosted billing portal at a portal session's `url` (`/p/session/{secret}`).

Pages, as Stripe's portal has them: the homepage (subscriptions, payment
methods, billing information, invoice history, "Return to <business>"), and
the steps reached from it: cancel (a confirmation), update plan (choose, then
confirm a proration preview), add a card, edit billing information. Every
step is a GET page whose form POSTs one action back to the session URL; the
answer is a redirect (POST-redirect-GET) or, on a refusal, the same step again
with the error and what the person chose.

A session created with `flow_data` opens on its step instead of the homepage
(`subscription_cancel`, `subscription_update`, `subscription_update_confirm`,
`payment_method_update`, `customer_update`); completing it follows
`after_completion` (redirect, hosted confirmation, or the homepage); leaving it
("Cancel") goes back to `return_url` with nothing changed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from ..billing.context import ensure_writable
from ..errors import StripeError
from ..sim import Sim
from .portal_actions import NOTICES, Portal, pending_flow, perform
from .portal_steps import (
    base,
    cancel_step,
    card_step,
    confirm_step,
    customer_step,
    flow_step,
    home,
    update_step,
)
from .render import business_name, message

__all__ = ["asgi_routes"]

# Which action completes which flow.
_FLOW_ACTIONS = {"subscription_update_confirm": "confirm_update", "subscription_update": "switch",
                 "subscription_cancel": "cancel", "payment_method_update": "add_card",
                 "customer_update": "customer"}


def _open(sim: Sim, secret: str) -> Portal | None:
    session = next((s for s in sim.store.all("billing_portal.session")
                    if s["_secret"] == secret), None)
    customer = sim.store.get("customer", str(session["customer"])) if session else None
    if session is None or customer is None or customer.get("deleted"):
        return None
    config = sim.store.require("billing_portal.configuration", session["configuration"])
    return Portal(sim, session, config)


def _expired() -> HTMLResponse:
    return message("This portal session has expired",
                   "Go back to the site you came from and open the billing portal again.", 404)


def _show(sim: Sim, secret: str, step: str, params: dict[str, str]) -> Response:
    with sim.store.lock:
        portal = _open(sim, secret)
        if portal is None:
            return _expired()
        flow = pending_flow(portal.session)
        try:
            if flow is not None and step == "home":
                shown = flow_step(portal, flow)
                if shown is not None:
                    return shown
            if step == "cancel":
                return cancel_step(portal, params["sub"])
            if step == "update":
                return update_step(portal, params["sub"])
            if step == "confirm":
                return confirm_step(portal, params["sub"], params.get("price", ""))
            if step == "card":
                return card_step(portal)
            if step == "customer":
                return customer_step(portal)
        except StripeError as exc:
            if flow is not None and step == "home":
                # The proposal no longer stands (price gone, subscription ended): the flow is
                # over; say why on the homepage.
                portal.session["_flow_done"] = True
                sim.store.touch()
            return home(portal, error=exc.message, status=400)
        return home(portal, notice=params.get("notice"))


def _step_for_error(portal: Portal, form: dict[str, str], error: str,
                    status: int) -> HTMLResponse:
    """After a refusal: the step the action came from, with the error and the person's choices
    (the homepage when that step cannot be shown any more)."""
    flow = pending_flow(portal.session)
    action = form.get("action", "")
    sub_id = form.get("subscription", "")
    try:
        if flow is not None and _FLOW_ACTIONS.get(flow["type"]) == _alias(action):
            shown = flow_step(portal, flow, error=error, status=status, form=form)
            if shown is not None:
                return shown
        if action == "cancel" and sub_id:
            return cancel_step(portal, sub_id, error=error, status=status, form=form)
        if action == "switch" and sub_id and form.get("price"):
            return confirm_step(portal, sub_id, form["price"], error=error, status=status)
        if _alias(action) == "add_card":
            return card_step(portal, error=error, status=status, form=form)
        if action == "customer":
            return customer_step(portal, error=error, status=status, form=form)
    except StripeError:
        pass
    return home(portal, error=error, status=status)


def _alias(action: str) -> str:
    return "add_card" if action == "card" else action


def _after_flow(portal: Portal, notice: str) -> Response:
    """A flow's step is done: `after_completion` says where the person goes."""
    after = (portal.session.get("flow") or {}).get("after_completion") or {}
    if after.get("type") == "redirect" and after.get("redirect"):
        return RedirectResponse(after["redirect"]["return_url"], status_code=303)
    if after.get("type") == "hosted_confirmation":
        custom = (after.get("hosted_confirmation") or {}).get("custom_message")
        business = business_name(portal.sim.store)
        return message("All done", custom or NOTICES[notice],
                       link=portal.session.get("return_url"), link_text=f"Return to {business}",
                       business=business)
    return RedirectResponse(f"{base(portal)}?{urlencode({'notice': notice})}", status_code=303)


def _act(sim: Sim, secret: str, form: dict[str, str]) -> Response:
    with sim.store.lock:
        portal = _open(sim, secret)
        if portal is None:
            return _expired()
        flow = pending_flow(portal.session)
        action = form.get("action", "")
        if action in ("cancel_update", "leave_flow") and flow is not None:
            portal.session["_flow_done"] = True
            sim.store.save()
            if portal.session.get("return_url"):
                return RedirectResponse(portal.session["return_url"], status_code=303)
            return RedirectResponse(f"{base(portal)}?notice=flow_left", status_code=303)
        try:
            ensure_writable(sim.store, portal.customer_id)
            notice = perform(portal, form)
        except StripeError as exc:
            status = 400 if exc.http_status == 404 else exc.http_status
            return _step_for_error(portal, form, exc.message, status)
        completes = flow is not None and _FLOW_ACTIONS.get(flow["type"]) == _alias(action)
        if completes:
            portal.session["_flow_done"] = True
            sim.store.touch()
        sim.store.save()
        if completes:
            return _after_flow(portal, notice)
        return RedirectResponse(f"{base(portal)}?{urlencode({'notice': notice})}",
                                status_code=303)


def _route(step: str) -> Any:
    async def show(request: Request) -> Response:
        params = {**request.path_params, **dict(request.query_params)}
        return await run_in_threadpool(_show, request.app.state.sim,
                                       request.path_params["secret"], step, params)
    return show


async def portal_submit(request: Request) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    return await run_in_threadpool(_act, request.app.state.sim, request.path_params["secret"], form)


_BASE = "/p/session/{secret}"
asgi_routes = [
    Route(_BASE, _route("home"), methods=["GET"]),
    Route(_BASE, portal_submit, methods=["POST"]),
    Route(_BASE + "/subscriptions/{sub}/cancel", _route("cancel"), methods=["GET"]),
    Route(_BASE + "/subscriptions/{sub}/update", _route("update"), methods=["GET"]),
    Route(_BASE + "/subscriptions/{sub}/update/confirm", _route("confirm"), methods=["GET"]),
    Route(_BASE + "/payment-methods/new", _route("card"), methods=["GET"]),
    Route(_BASE + "/customer", _route("customer"), methods=["GET"]),
]
