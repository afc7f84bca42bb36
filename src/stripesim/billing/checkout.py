"""Completing and expiring Checkout Sessions (used by the pay page and `/_sim/`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..cards import card_behaviour, decline_error
from ..routing import Call
from . import lifecycle, payment
from .context import Ctx
from .scheduler import EXTRA_SOURCES, Due
from .subscription_shape import ItemSpec, new_subscription

__all__ = ["complete", "expire"]

NOUN = "checkout.session"


def _request(ctx: Ctx, path: str, params: dict[str, Any]) -> Call:
    """A Call for reusing other resources' handlers; events keep the original request id."""
    call = ctx.call
    return Call(ctx.sim, "POST", path, params, {}, call.request_id if call else None,
                call.idempotency_key if call else None, call.headers if call else {})


def _customer(ctx: Ctx, session: dict[str, Any], email: str | None,
              name: str | None) -> dict[str, Any] | None:
    from ..resources import customers

    if session["customer"]:
        return ctx.customer(session["customer"])
    if session["mode"] == "payment" and session["customer_creation"] != "always":
        return None
    params: dict[str, Any] = {"email": email or session["customer_email"] or "customer@example.com"}
    if name:
        params["name"] = name
    clock = session.get("_clock")
    if clock:
        params["test_clock"] = clock
    created = customers.create(_request(ctx, "/v1/customers", params))
    return created if isinstance(created, dict) else created[1]


def complete(ctx: Ctx, session: dict[str, Any], pm_id: str, *, email: str | None = None,
             name: str | None = None) -> str:
    """Pay the session with `pm_id`: "complete", or "requires_action" (3DS pending).
    A declined card raises the 402 CardError and changes nothing."""
    from ..resources.payment_methods import attach_payment_method, resolve_payment_method

    probe = card_behaviour({"_test_card": pm_id}) if pm_id.startswith("pm_card_") else None
    if probe is not None and probe.outcome == "decline":
        raise decline_error(probe, param="payment_method")
    customer = _customer(ctx, session, email, name)
    if customer is not None:
        pm = attach_payment_method(_request(ctx, "/v1/payment_methods/attach", {}), pm_id, customer)
    else:
        pm = resolve_payment_method(ctx.store, pm_id)
    result = card_behaviour(pm)
    if not result.succeeds and result.outcome != "requires_action":
        raise decline_error(result, param="payment_method")
    session["customer"] = customer["id"] if customer else None
    session["customer_details"] = {
        "address": (customer or {}).get("address"), "business_name": None,
        "email": (customer or {}).get("email") or email or session["customer_email"],
        "individual_name": None, "name": (customer or {}).get("name") or name,
        "phone": None, "tax_exempt": (customer or {}).get("tax_exempt", "none"), "tax_ids": [],
    }
    if session["mode"] == "subscription":
        assert customer is not None
        outcome = _subscribe(ctx, session, customer, pm)
    else:
        outcome = _pay(ctx, session, customer, pm)
    if outcome == "paid":
        _mark_complete(ctx, session)
        return "complete"
    return "requires_action"


def _waiting_subscription(ctx: Ctx, session: dict[str, Any]) -> dict[str, Any] | None:
    """The subscription an earlier attempt on this session left incomplete (3D Secure failed
    or abandoned): a new card pays its open invoice instead of starting a second one."""
    sub = ctx.store.get("subscription", str(session.get("subscription")))
    return sub if sub is not None and sub["status"] == "incomplete" else None


def _subscribe(ctx: Ctx, session: dict[str, Any], customer: dict[str, Any],
               pm: dict[str, Any]) -> str:
    waiting = _waiting_subscription(ctx, session)
    if waiting is not None:
        waiting["default_payment_method"] = pm["id"]
        invoice = ctx.store.require("invoice", waiting["latest_invoice"])
        return payment.pay_invoice(ctx, invoice, pm=pm, off_session=False)
    data = session["_subscription_data"]
    now = ctx.now(customer["id"])
    days = data.get("trial_period_days")
    items: list[ItemSpec] = [(ctx.store.require("price", li["price"]["id"]), int(li["quantity"]), {})
             for li in session["_line_items"]]
    sub = new_subscription(customer, created=now, items=items,
                           trial_end=now + int(days) * 86_400 if days else None,
                           metadata=dict(data.get("metadata") or {}),
                           default_payment_method=pm["id"], description=data.get("description"))
    outcome = lifecycle.start(ctx, sub, pm=pm)
    session["subscription"] = sub["id"]
    session["invoice"] = sub["latest_invoice"]
    if outcome != "paid":
        invoice = ctx.store.require("invoice", sub["latest_invoice"])
        pi = ctx.store.get("payment_intent", str(invoice.get("_payment_intent")))
        if pi is not None:
            pi["_checkout_session"] = session["id"]
    return outcome


def _pay(ctx: Ctx, session: dict[str, Any], customer: dict[str, Any] | None,
         pm: dict[str, Any]) -> str:
    earlier = ctx.store.get("payment_intent", str(session.get("payment_intent")))
    if earlier is not None and earlier["status"] in ("requires_payment_method", "requires_action"):
        # As on Stripe, the session keeps one PaymentIntent: a retry confirms it again.
        return "paid" if payment.confirm(ctx, earlier, pm).succeeds else "requires_action"
    data = session["_payment_intent_data"]
    pi = payment.new_payment_intent(
        ctx, amount=int(session["amount_total"]), currency=session["currency"],
        customer_id=customer["id"] if customer else None,
        created=ctx.now(customer["id"] if customer else None),
        description=data.get("description"), metadata=dict(data.get("metadata") or {}))
    pi["_checkout_session"] = session["id"]
    session["payment_intent"] = pi["id"]
    result = payment.confirm(ctx, pi, pm)
    return "paid" if result.succeeds else "requires_action"


def _mark_complete(ctx: Ctx, session: dict[str, Any]) -> None:
    if session["status"] != "open":
        return
    session.update(status="complete", payment_status="paid")
    ctx.store.touch()
    ctx.emit("checkout.session.completed", session)


def _after_payment(ctx: Ctx, pi: dict[str, Any]) -> None:
    """A 3DS payment finished later: the waiting session completes."""
    session = ctx.store.get(NOUN, str(pi.get("_checkout_session")))
    if session is not None:
        _mark_complete(ctx, session)


def expire(ctx: Ctx, session: dict[str, Any]) -> None:
    session.update(status="expired", url=None)
    ctx.store.touch()
    ctx.emit("checkout.session.expired", session)


def _expirer(session: dict[str, Any]) -> Callable[[Ctx, int], None]:
    return lambda ctx, at: expire(ctx, session)


def _expiry_due(ctx: Ctx, clock_id: str | None) -> list[Due]:
    due: list[Due] = []
    for session in ctx.store.all(NOUN):
        if session["status"] == "open" and session.get("_clock") == clock_id:
            due.append((int(session["expires_at"]), 7, _expirer(session)))
    return due


payment.SUCCESS_HOOKS.append(_after_payment)
EXTRA_SOURCES.append(_expiry_due)
