"""The billing portal's pages, one function per page: the homepage and each step reached from
it (cancel, update plan, confirm a switch, add a card, billing information), and the step a
pending flow opens on. Each renders what `portal_views` reads; `portal` routes to them."""

from __future__ import annotations

from typing import Any

from starlette.responses import HTMLResponse

from . import portal_views as views
from .card_tiles import SAVE_CARDS
from .portal_actions import CANCEL_REASONS, NOTICES, Portal, pending_flow, proposed_change
from .render import business_name, page

__all__ = ["base", "cancel_step", "card_step", "confirm_step", "customer_step", "flow_step",
           "home", "update_step"]


def base(portal: Portal) -> str:
    return f"/p/session/{portal.session['_secret']}"


def _render(portal: Portal, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    store = portal.sim.store
    customer = store.require("customer", portal.customer_id)
    features = portal.features
    flow = pending_flow(portal.session)
    return page(
        template, status, base=base(portal), business=business_name(store), customer=customer,
        headline=(portal.config.get("business_profile") or {}).get("headline") or "",
        return_url=portal.session.get("return_url") or "", in_flow=flow is not None,
        features=features, **context)


def home(portal: Portal, *, notice: str | None = None, error: str | None = None,
         status: int = 200) -> HTMLResponse:
    store = portal.sim.store
    customer = store.require("customer", portal.customer_id)
    features = portal.features
    subs = [views.subscription_view(store, s)
            for s in views.live_subscriptions(store, portal.customer_id)]
    return _render(
        portal, "portal/home.html", status=status, subscriptions=subs,
        can_switch=bool(views.plan_options(store, portal.config)),
        cards=views.cards(store, customer) if features["payment_method_update"]["enabled"] else [],
        details=views.customer_view(customer),
        invoices=(views.invoices(store, portal.customer_id)
                  if features["invoice_history"]["enabled"] else []),
        notice=NOTICES.get(notice or ""), error=error)


def cancel_step(portal: Portal, sub_id: str, *, error: str | None = None, status: int = 200,
                form: dict[str, str] | None = None) -> HTMLResponse:
    sub = views.owned_subscription(portal.sim.store, portal.customer_id, sub_id)
    reasons = portal.features["subscription_cancel"].get("cancellation_reason") or {}
    return _render(portal, "portal/cancel.html", status=status,
                   sub=views.subscription_view(portal.sim.store, sub),
                   immediately=portal.features["subscription_cancel"]["mode"] == "immediately",
                   reasons=CANCEL_REASONS if reasons.get("enabled") else (),
                   chosen=(form or {}).get("reason", ""), error=error)


def update_step(portal: Portal, sub_id: str, *, error: str | None = None,
                status: int = 200) -> HTMLResponse:
    sub = views.owned_subscription(portal.sim.store, portal.customer_id, sub_id)
    current = sub["items"]["data"][0]["price"]["id"]
    return _render(portal, "portal/update.html", status=status,
                   sub=views.subscription_view(portal.sim.store, sub),
                   plans=views.plan_options(portal.sim.store, portal.config, current),
                   error=error)


def confirm_step(portal: Portal, sub_id: str, price_id: str, *, error: str | None = None,
                 status: int = 200) -> HTMLResponse:
    """The proration preview of a switch chosen on the update step."""
    store = portal.sim.store
    sub = views.owned_subscription(store, portal.customer_id, sub_id)
    if price_id not in {p.price_id for p in views.plan_options(store, portal.config)}:
        return update_step(portal, sub_id, error="Choose one of the plans below.", status=400)
    item = sub["items"]["data"][0]
    if item["price"]["id"] == price_id:
        return update_step(portal, sub_id, error="That is already your plan.", status=400)
    price = store.require("price", price_id)
    preview = views.preview_change(portal.sim, portal.config, sub, item, price,
                                   int(item.get("quantity") or 1))
    return _render(portal, "portal/confirm.html", status=status, confirm=preview,
                   action="switch", back=f"{base(portal)}/subscriptions/{sub_id}/update",
                   error=error)


def _flow_confirm_step(portal: Portal, *, error: str | None = None,
                       status: int = 200) -> HTMLResponse:
    """The `subscription_update_confirm` flow: the proposal the integration sent."""
    sub, item, price, quantity = proposed_change(portal)
    preview = views.preview_change(portal.sim, portal.config, sub, item, price, quantity)
    return _render(portal, "portal/confirm.html", status=status, confirm=preview,
                   action="confirm_update", back=None, error=error)


def card_step(portal: Portal, *, error: str | None = None, status: int = 200,
              form: dict[str, str] | None = None) -> HTMLResponse:
    chosen = (form or {}).get("payment_method") or SAVE_CARDS[0].alias
    return _render(portal, "portal/card.html", status=status, cards=SAVE_CARDS, chosen=chosen,
                   error=error)


def customer_step(portal: Portal, *, error: str | None = None, status: int = 200,
                  form: dict[str, str] | None = None) -> HTMLResponse:
    customer = portal.sim.store.require("customer", portal.customer_id)
    details = views.customer_view(customer)
    if form:  # what the person typed, kept after a refusal
        details.update({k: form.get(k, details[k]) for k in ("name", "email", "phone")})
        details["address"] = {k: form.get(f"address_{k}", v) for k, v in details["address"].items()}
    allowed = set(portal.features["customer_update"].get("allowed_updates") or [])
    return _render(portal, "portal/customer.html", status=status, details=details,
                   allowed=allowed, error=error)


def flow_step(portal: Portal, flow: dict[str, Any], *, error: str | None = None,
              status: int = 200, form: dict[str, str] | None = None) -> HTMLResponse | None:
    """The page a pending flow opens on (None: the flow has no step of its own)."""
    kind = flow["type"]
    sub_id = (flow.get(kind) or {}).get("subscription") if isinstance(flow.get(kind), dict) \
        else None
    if kind == "subscription_update_confirm":
        return _flow_confirm_step(portal, error=error, status=status)
    if kind == "subscription_cancel" and sub_id:
        return cancel_step(portal, sub_id, error=error, status=status, form=form)
    if kind == "subscription_update" and sub_id:
        if form and form.get("price"):
            return confirm_step(portal, sub_id, form["price"], error=error, status=status)
        return update_step(portal, sub_id, error=error, status=status)
    if kind == "payment_method_update":
        return card_step(portal, error=error, status=status, form=form)
    if kind == "customer_update":
        return customer_step(portal, error=error, status=status, form=form)
    return None
