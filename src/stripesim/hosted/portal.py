"""The hosted billing portal page at a portal session's `url`.

Actions (HTML form posts) go through `update_subscription` / `lifecycle`, so
they emit the same `customer.subscription.*` events as the API.
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


def _render(sim: Sim, session: dict[str, Any], *, message: str | None = None,
            error: str | None = None, status: int = 200) -> HTMLResponse:
    store = sim.store
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
