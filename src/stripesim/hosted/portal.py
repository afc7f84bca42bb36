"""The hosted billing portal page at a portal session's `url`.

Actions (HTML form posts) go through `update_subscription` / `lifecycle`, so
they emit the same `customer.subscription.*` events as the API.

A `subscription_update_confirm` flow opens on a confirmation step instead of
the homepage: the proposed price and the proration the change would cause
(`billing.preview`, the arithmetic of the real update). Nothing changes until
the person confirms; cancelling the step ends the flow with no change.
"""

from __future__ import annotations

from typing import Any

from jinja2 import DictLoader, Environment, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from ..billing import lifecycle
from ..billing.context import Ctx, ensure_writable
from ..billing.objects import product_name
from ..billing.preview import preview_invoice
from ..errors import InvalidRequestError, StripeError
from ..routing import Call
from ..sim import Sim
from .pages import CARDS
from .templates import TEMPLATES

__all__ = ["asgi_routes"]

_env = Environment(loader=DictLoader(TEMPLATES), autoescape=select_autoescape(default=True))


def _session(sim: Sim, secret: str) -> dict[str, Any] | None:
    return next((s for s in sim.store.all("billing_portal.session") if s["_secret"] == secret), None)


def _prices(sim: Sim, config: dict[str, Any]) -> list[dict[str, Any]]:
    update = config["features"]["subscription_update"]
    if not update.get("enabled"):
        return []
    found = []
    for product in update.get("products") or []:
        for price_id in product.get("prices") or []:
            price = sim.store.get("price", price_id)
            if price is not None:
                amount = int(price.get("unit_amount") or 0) / 100
                every = (price.get("recurring") or {}).get("interval", "")
                found.append({"id": price_id, "label": f"{product_name(sim.store, price)} — "
                                                       f"{amount:.2f} {price['currency'].upper()} / {every}"})
    return found


def _money(amount: int, currency: str) -> str:
    """Minor units as "12.34 USD", in integers (no float rounding of cents)."""
    sign = "-" if amount < 0 else ""
    whole, cents = divmod(abs(amount), 100)
    return f"{sign}{whole}.{cents:02d} {currency.upper()}"


def _pending_confirm(session: dict[str, Any]) -> dict[str, Any] | None:
    """The confirm flow's block while its step is still open (neither confirmed nor cancelled)."""
    flow = session.get("flow") or {}
    if flow.get("type") != "subscription_update_confirm" or session.get("_flow_done"):
        return None
    block: dict[str, Any] | None = flow.get("subscription_update_confirm")
    return block


def _proposed(sim: Sim, session: dict[str, Any],
              block: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], int]:
    """(subscription, its item, the proposed price, quantity) named by the flow."""
    sub = sim.store.require("subscription", block["subscription"])
    if sub["customer"] != session["customer"]:
        raise InvalidRequestError("That subscription is not yours.")
    if sub["status"] in ("canceled", "incomplete_expired"):
        raise InvalidRequestError("This subscription has ended; its plan can no longer change.")
    wanted = (block.get("items") or [{}])[0]
    items = sub["items"]["data"]
    # Stripe requires items[0][id]; without one the single-item subscription's item is meant.
    item = next((i for i in items if i["id"] == wanted.get("id")), None) if wanted.get("id") \
        else items[0]
    if item is None:
        raise InvalidRequestError(f"No such subscription item: '{wanted.get('id')}'")
    price = sim.store.require("price", wanted.get("price") or item["price"]["id"], param="price")
    return sub, item, price, int(wanted.get("quantity") or item.get("quantity") or 1)


def _confirm_view(sim: Sim, session: dict[str, Any], config: dict[str, Any],
                  block: dict[str, Any]) -> dict[str, Any]:
    """What the confirmation step shows: the proposed price and the preview of the change."""
    sub, item, price, quantity = _proposed(sim, session, block)
    customer = sim.store.require("customer", sub["customer"])
    behaviour = config["features"]["subscription_update"]["proration_behavior"]
    preview = preview_invoice(Ctx(sim), customer, sub, changes=[("change", item["id"], price, quantity)],
                              behaviour=behaviour, at=sim.store.now_for(sub["customer"]))
    proration = sum(int(line["amount"]) for line in preview["lines"]["data"] if _is_proration(line))
    every = (price.get("recurring") or {}).get("interval", "")
    return {
        "subscription": sub["id"], "price_id": price["id"],
        "current": product_name(sim.store, item["price"]),
        "price": f"{product_name(sim.store, price)} — "
                 f"{_money(int(price.get('unit_amount') or 0) * quantity, price['currency'])} / {every}",
        "proration": _money(proration, preview["currency"]),
        # billing_reason subscription_update: the change is invoiced at once (always_invoice, or
        # a new interval); otherwise the prorations ride on the next renewal invoice.
        "total_label": ("Amount due today" if preview["billing_reason"] == "subscription_update"
                        else "Next invoice"),
        "total": _money(int(preview["amount_due"]), preview["currency"]),
    }


def _is_proration(line: dict[str, Any]) -> bool:
    parent = line.get("parent") or {}
    details = parent.get("subscription_item_details") or parent.get("invoice_item_details") or {}
    return bool(details.get("proration"))


def _render(sim: Sim, session: dict[str, Any], *, message: str | None = None,
            error: str | None = None, status: int = 200) -> HTMLResponse:
    store = sim.store
    block = _pending_confirm(session)
    if block is not None:
        config = store.require("billing_portal.configuration", session["configuration"])
        try:
            confirm = _confirm_view(sim, session, config, block)
        except StripeError as exc:
            # The proposal no longer stands (price gone, subscription ended): say so on the homepage.
            session["_flow_done"] = True
            store.touch()
            return _render(sim, session, error=exc.message, status=400)
        html = _env.get_template("portal_confirm.html").render(confirm=confirm, error=error)
        return HTMLResponse(html, status_code=status)
    config = store.require("billing_portal.configuration", session["configuration"])
    subs = [s for s in store.all("subscription") if s["customer"] == session["customer"]
            and s["status"] not in ("canceled", "incomplete_expired")]
    flow = session.get("flow") or {}
    focus = next((flow[k]["subscription"] for k in ("subscription_update", "subscription_cancel",
                                                     "subscription_update_confirm")
                  if flow.get(k)), None)
    if focus:
        subs = [s for s in subs if s["id"] == focus]
    views = [{"id": s["id"], "status": s["status"], "cancel_at_period_end": s["cancel_at_period_end"],
              "price_id": s["items"]["data"][0]["price"]["id"],
              "plan_name": product_name(store, s["items"]["data"][0]["price"])} for s in subs]
    invoices = [i for i in reversed(store.all("invoice")) if i.get("customer") == session["customer"]
                and i.get("status") != "draft"]
    html = _env.get_template("portal.html").render(
        customer=store.require("customer", session["customer"]), subscriptions=views,
        invoices=invoices if config["features"]["invoice_history"]["enabled"] else [],
        prices=_prices(sim, config), cancel_enabled=config["features"]["subscription_cancel"]["enabled"],
        card_update=config["features"]["payment_method_update"]["enabled"], cards=CARDS,
        return_url=session["return_url"], message=message, error=error)
    return HTMLResponse(html, status_code=status)


async def portal_page(request: Request) -> Response:
    sim: Sim = request.app.state.sim
    with sim.store.lock:
        session = _session(sim, request.path_params["secret"])
        if session is None:
            return HTMLResponse("<h1>This portal session has expired.</h1>", status_code=404)
        return _render(sim, session)


def _act(sim: Sim, secret: str, form: dict[str, str]) -> Response:
    from ..resources.payment_methods import attach_payment_method
    from ..resources.subscriptions import update_subscription

    with sim.store.lock:
        session = _session(sim, secret)
        if session is None:
            return HTMLResponse("<h1>This portal session has expired.</h1>", status_code=404)
        call = Call(sim, "POST", "/p/session", {}, {}, None, None, {})
        config = sim.store.require("billing_portal.configuration", session["configuration"])
        action = form.get("action", "")
        if action == "cancel_update" and _pending_confirm(session) is not None:
            session["_flow_done"] = True
            sim.store.save()
            if session["return_url"]:
                return RedirectResponse(session["return_url"], status_code=303)
            return _render(sim, session, message="Plan change cancelled; nothing was changed.")
        try:
            ensure_writable(sim.store, session["customer"])
            message = _perform(sim, call, session, config, form, update_subscription,
                               attach_payment_method)
        except StripeError as exc:
            return _render(sim, session, error=exc.message, status=400)
        sim.store.save()
        after = ((session.get("flow") or {}).get("after_completion") or {})
        if after.get("type") == "redirect" and after.get("redirect"):
            return RedirectResponse(after["redirect"]["return_url"], status_code=303)
        return _render(sim, session, message=message)


def _perform(sim: Sim, call: Call, session: dict[str, Any], config: dict[str, Any],
             form: dict[str, str], update_subscription: Any, attach: Any) -> str:
    action = form.get("action", "")
    features = config["features"]
    block = _pending_confirm(session)
    if action == "confirm_update" and block is not None:
        sub, item, price, quantity = _proposed(sim, session, block)
        update_subscription(call, sub, {
            "items": [{"id": item["id"], "price": price["id"], "quantity": str(quantity)}],
            "proration_behavior": features["subscription_update"]["proration_behavior"]})
        session["_flow_done"] = True
        return "Plan updated."
    if action == "card":
        customer = sim.store.require("customer", session["customer"])
        pm = attach(call, form.get("payment_method") or "pm_card_visa", customer)
        update_subscription_default = {"invoice_settings": {"default_payment_method": pm["id"]}}
        from ..resources.customers import update as update_customer

        update_customer(Call(sim, "POST", f"/v1/customers/{customer['id']}",
                             update_subscription_default, {"id": customer["id"]}, None, None, {}))
        for sub in sim.store.all("subscription"):
            if sub["customer"] == customer["id"] and sub["status"] not in ("canceled",):
                update_subscription(call, sub, {"default_payment_method": pm["id"]})
        return "Payment method updated."
    sub = sim.store.require("subscription", form.get("subscription"))
    if sub["customer"] != session["customer"]:
        raise InvalidRequestError("That subscription is not yours.")
    if action == "cancel" and features["subscription_cancel"]["enabled"]:
        if features["subscription_cancel"]["mode"] == "immediately":
            lifecycle.cancel(Ctx(sim, call), sub, sim.store.now_for(sub["customer"]),
                             reason="cancellation_requested")
            return "Subscription canceled."
        update_subscription(call, sub, {"cancel_at_period_end": "true"})
        return "Subscription will cancel at the end of the period."
    if action == "resume":
        update_subscription(call, sub, {"cancel_at_period_end": "false"})
        return "Subscription renewed."
    if action == "unpause" and sub["status"] == "paused":
        lifecycle.resume(Ctx(sim, call), sub, sim.store.now_for(sub["customer"]))
        return "Subscription resumed."
    if action == "switch" and features["subscription_update"]["enabled"]:
        allowed = {p["id"] for p in _prices(sim, config)}
        if form.get("price") not in allowed:
            raise InvalidRequestError("That plan is not offered here.")
        item = sub["items"]["data"][0]
        update_subscription(call, sub, {
            "items": [{"id": item["id"], "price": form["price"]}],
            "proration_behavior": features["subscription_update"]["proration_behavior"]})
        return "Plan updated."
    raise InvalidRequestError(f"Unknown or disabled portal action: {action}.")


async def portal_submit(request: Request) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    return await run_in_threadpool(_act, request.app.state.sim, request.path_params["secret"], form)


asgi_routes = [
    Route("/p/session/{secret}", portal_page, methods=["GET"]),
    Route("/p/session/{secret}", portal_submit, methods=["POST"]),
]
