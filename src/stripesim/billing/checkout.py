"""Completing and expiring Checkout Sessions (used by the pay page and `/_sim/`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..cards import card_behaviour, decline_error, setup_behaviour
from ..errors import InvalidRequestError
from . import discounts, lifecycle, payment
from .checkout_discounts import redeem_for_session, redemptions_of
from .context import Ctx
from .customers import create_customer
from .payment_methods import attach_payment_method, resolve_payment_method
from .post_payment import invoice_paid_session
from .scheduler import EXTRA_SOURCES, Due
from .setup import SETUP_HOOKS, confirm_setup, new_setup_intent
from .subscription_shape import ItemSpec, new_subscription

__all__ = ["card_optional", "complete", "expire"]

NOUN = "checkout.session"


def _customer(ctx: Ctx, session: dict[str, Any], email: str | None,
              name: str | None) -> dict[str, Any] | None:
    if session["customer"]:
        return ctx.customer(session["customer"])
    # A post-payment invoice needs a customer, so invoice_creation makes one like "always".
    invoicing = bool((session.get("invoice_creation") or {}).get("enabled"))
    if (session["mode"] in ("payment", "setup") and session["customer_creation"] != "always"
            and not invoicing):
        return None
    params: dict[str, Any] = {"email": email or session["customer_email"] or "customer@example.com"}
    if name:
        params["name"] = name
    clock = session.get("_clock")
    if clock:
        params["test_clock"] = clock
    return create_customer(ctx, params)


def card_optional(ctx: Ctx, session: dict[str, Any]) -> bool:
    """A subscription session that collects a card only if required, with nothing due now
    (a trial, or a discount taking the whole first invoice)."""
    if session["mode"] != "subscription" or session["payment_method_collection"] != "if_required":
        return False
    return bool(session["_subscription_data"].get("trial_period_days")) or int(
        session["amount_total"] or 0) == 0


def _card(ctx: Ctx, session: dict[str, Any], pm_id: str | None,
          customer: dict[str, Any] | None) -> dict[str, Any] | None:
    """The card to pay (or save) with: attached to the customer for payments; None when the
    session goes on without one."""
    if pm_id is None:
        return None
    if customer is not None and session["mode"] != "setup":
        return attach_payment_method(ctx, pm_id, customer)
    return resolve_payment_method(ctx.store, pm_id)


def complete(ctx: Ctx, session: dict[str, Any], pm_id: str | None, *, email: str | None = None,
             name: str | None = None, address: dict[str, Any] | None = None) -> str:
    """Pay the session with `pm_id` (setup mode: save it): "complete", or "requires_action"
    (3DS pending). A declined card raises the 402 CardError and changes nothing. `pm_id` None
    only where `card_optional` allows it."""
    setup = session["mode"] == "setup"
    if pm_id is None and not card_optional(ctx, session):
        raise InvalidRequestError("A payment method is required to complete this Checkout "
                                  "Session.", code="parameter_missing", param="payment_method")
    redemptions_of(ctx, session)  # a code entered earlier may have expired or been used up
    behaviour = setup_behaviour if setup else card_behaviour
    probe = behaviour({"_test_card": pm_id}) if pm_id and pm_id.startswith("pm_card_") else None
    if probe is not None and probe.outcome == "decline":
        raise decline_error(probe, param="payment_method")
    customer = _customer(ctx, session, email, name)
    pm = _card(ctx, session, pm_id, customer)
    result = behaviour(pm) if pm is not None else None
    if result is not None and not result.succeeds and result.outcome != "requires_action":
        raise decline_error(result, param="payment_method")
    created_here = session["customer"] is None
    session["customer"] = customer["id"] if customer else None
    if customer is not None and address:
        _save_address(ctx, session, customer, address, created_here=created_here)
    session["customer_details"] = {
        "address": (customer or {}).get("address") or address, "business_name": None,
        "email": (customer or {}).get("email") or email or session["customer_email"],
        "individual_name": None, "name": (customer or {}).get("name") or name,
        "phone": None, "tax_exempt": (customer or {}).get("tax_exempt", "none"), "tax_ids": [],
    }
    if session["mode"] == "subscription":
        assert customer is not None
        outcome = _subscribe(ctx, session, customer, pm)
    elif setup:
        assert pm is not None
        outcome = _setup(ctx, session, customer, pm)
    else:
        assert pm is not None
        outcome = _pay(ctx, session, customer, pm)
    if outcome == "paid":
        _mark_complete(ctx, session)
        return "complete"
    return "requires_action"


def _save_address(ctx: Ctx, session: dict[str, Any], customer: dict[str, Any],
                  address: dict[str, Any], *, created_here: bool) -> None:
    """The billing address typed in Checkout goes onto the customer when the session said
    `customer_update[address]=auto`, or when Checkout made the customer."""
    if (session.get("_customer_update") or {}).get("address") != "auto" and not created_here:
        return
    before = ctx.snapshot(customer)
    customer["address"] = {key: address.get(key) for key in
                           ("city", "country", "line1", "line2", "postal_code", "state")}
    ctx.store.touch()
    ctx.emit_update("customer.updated", customer, before)


def _setup(ctx: Ctx, session: dict[str, Any], customer: dict[str, Any] | None,
           pm: dict[str, Any]) -> str:
    """Setup mode: a SetupIntent for the card, confirmed at once (3DS cards wait). As with
    payments, the session keeps one SetupIntent: a retry after a failure confirms it again."""
    earlier = ctx.store.get("setup_intent", str(session.get("setup_intent")))
    if earlier is not None and earlier["status"] in ("requires_payment_method",
                                                     "requires_action"):
        return "paid" if confirm_setup(ctx, earlier, pm).succeeds else "requires_action"
    data = session["_setup_intent_data"]
    customer_id = customer["id"] if customer else None
    si = new_setup_intent(ctx, customer_id=customer_id, created=ctx.now(customer_id),
                          description=data.get("description"),
                          metadata=dict(data.get("metadata") or {}))
    si["_checkout_session"] = session["id"]
    session["setup_intent"] = si["id"]
    result = confirm_setup(ctx, si, pm)
    return "paid" if result.succeeds else "requires_action"


def _waiting_subscription(ctx: Ctx, session: dict[str, Any]) -> dict[str, Any] | None:
    """The subscription an earlier attempt on this session left incomplete (3D Secure failed
    or abandoned): a new card pays its open invoice instead of starting a second one."""
    sub = ctx.store.get("subscription", str(session.get("subscription")))
    return sub if sub is not None and sub["status"] == "incomplete" else None


def _subscribe(ctx: Ctx, session: dict[str, Any], customer: dict[str, Any],
               pm: dict[str, Any] | None) -> str:
    waiting = _waiting_subscription(ctx, session)
    if waiting is not None:
        assert pm is not None  # an incomplete subscription had something to pay
        waiting["default_payment_method"] = pm["id"]
        invoice = ctx.store.require("invoice", waiting["latest_invoice"])
        return payment.pay_invoice(ctx, invoice, pm=pm, off_session=False)
    data = session["_subscription_data"]
    now = ctx.now(customer["id"])
    days = data.get("trial_period_days")
    items: list[ItemSpec] = [(ctx.store.require("price", li["price"]["id"]),
                              int(li["quantity"] or 0), {})
                             for li in session["_line_items"]]
    sub = new_subscription(customer, created=now, items=items,
                           trial_end=now + int(days) * 86_400 if days else None,
                           metadata=dict(data.get("metadata") or {}),
                           default_payment_method=pm["id"] if pm else None,
                           description=data.get("description"),
                           missing_payment_method=data.get("missing_payment_method")
                           or "create_invoice")
    made = redeem_for_session(ctx, session, customer_id=customer["id"], subscription_id=sub["id"])
    sub["discounts"] = [discount["id"] for discount in made]
    outcome = lifecycle.start(ctx, sub, pm=pm)
    discounts.announce(ctx, made, [])
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
    if int(session["amount_total"]) == 0:
        return "paid"  # a discount took it all: nothing to charge
    pi = payment.new_payment_intent(
        ctx, amount=int(session["amount_total"]), currency=session["currency"],
        customer_id=customer["id"] if customer else None,
        created=ctx.now(customer["id"] if customer else None),
        description=data.get("description"), metadata=dict(data.get("metadata") or {}))
    pi["_checkout_session"] = session["id"]
    session["payment_intent"] = pi["id"]
    result = payment.confirm(ctx, pi, pm)
    return "paid" if result.succeeds else "requires_action"


def _charged_nothing(ctx: Ctx, session: dict[str, Any]) -> bool:
    """Setup mode, a trial, or a total brought to zero: Stripe says `no_payment_required`."""
    if session["mode"] == "setup":
        return True
    if session["mode"] == "subscription":
        invoice = ctx.store.get("invoice", str(session.get("invoice")))
        return invoice is not None and int(invoice["amount_paid"]) == 0
    return int(session["amount_total"] or 0) == 0


def _mark_complete(ctx: Ctx, session: dict[str, Any]) -> None:
    if session["status"] != "open":
        return
    if session["mode"] == "payment":
        redeem_for_session(ctx, session, customer_id=session["customer"])
        if (session.get("invoice_creation") or {}).get("enabled"):
            invoice_paid_session(ctx, session)
    session.update(status="complete",
                   payment_status="no_payment_required" if _charged_nothing(ctx, session)
                   else "paid")
    ctx.store.touch()
    ctx.emit("checkout.session.completed", session)


def _after_payment(ctx: Ctx, intent: dict[str, Any]) -> None:
    """A 3DS payment (or card set-up) finished later: the waiting session completes."""
    session = ctx.store.get(NOUN, str(intent.get("_checkout_session")))
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
SETUP_HOOKS.append(_after_payment)
EXTRA_SOURCES.append(_expiry_due)
