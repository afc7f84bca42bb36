"""Payment intents and paying invoices.

An invoice gets one PaymentIntent (created at its first attempt) and one
`invoice_payment` linking them; every attempt confirms that intent with the
payment method in force (subscription default, then customer default).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from ..cards import Charge as Outcome
from ..cards import card_behaviour, mark_authenticated
from ..store import new_id
from . import dunning
from .account_balance import record_charge
from .charges import new_charge
from .context import Ctx
from .invoicing import mark_paid, subscription_of
from .payment_methods import attach_payment_method

__all__ = ["SUCCESS_HOOKS", "confirm", "new_payment_intent", "pay_invoice", "payment_method_for"]

# Called after any payment intent succeeds (checkout completes its session there).
SUCCESS_HOOKS: list[Callable[[Ctx, dict[str, Any]], None]] = []


def new_payment_intent(ctx: Ctx, *, amount: int, currency: str, customer_id: str | None,
                       created: int, description: str | None = None,
                       metadata: dict[str, str] | None = None,
                       payment_method: str | None = None) -> dict[str, Any]:
    pi_id = new_id("pi")
    pi = {
        "id": pi_id, "object": "payment_intent", "amount": amount, "amount_capturable": 0,
        "amount_details": {"tip": {}}, "amount_received": 0, "application": None,
        "application_fee_amount": None, "automatic_payment_methods": None,
        "canceled_at": None, "cancellation_reason": None, "capture_method": "automatic",
        "client_secret": f"{pi_id}_secret_{secrets.token_urlsafe(18)}",
        "confirmation_method": "automatic", "created": created, "currency": currency,
        "customer": customer_id, "customer_account": None, "description": description,
        "excluded_payment_method_types": None, "last_payment_error": None,
        "latest_charge": None, "livemode": False, "managed_payments": None,
        "metadata": metadata or {}, "next_action": None, "on_behalf_of": None,
        "payment_method": payment_method, "payment_method_configuration_details": None,
        "payment_method_options": {"card": {"installments": None, "mandate_options": None,
                                            "network": None,
                                            "request_three_d_secure": "automatic"}},
        "payment_method_types": ["card"], "processing": None, "receipt_email": None,
        "review": None, "setup_future_usage": None, "shipping": None, "source": None,
        "statement_descriptor": None, "statement_descriptor_suffix": None,
        "status": "requires_payment_method", "transfer_data": None, "transfer_group": None,
    }
    ctx.store.insert(pi)
    ctx.emit("payment_intent.created", pi)
    return pi


def _error(pi: dict[str, Any], pm: dict[str, Any], result: Outcome,
           charge_id: str | None) -> dict[str, Any]:
    return {"advice_code": None, "charge": charge_id, "code": result.code,
            "decline_code": result.decline_code,
            "doc_url": f"https://stripe.com/docs/error-codes/{(result.code or '').replace('_', '-')}",
            "message": result.message, "network_advice_code": None,
            "network_decline_code": None, "param": None, "payment_method": pm,
            "payment_method_type": "card", "type": "card_error"}


def confirm(ctx: Ctx, pi: dict[str, Any], pm: dict[str, Any], *,
            authenticated: bool = False, off_session: bool = False,
            decline_if_action: bool = False) -> Outcome:
    """Charge `pm` for `pi`. `authenticated` = the customer passed 3DS for this intent;
    `off_session` = the customer is not there (a card set up for it may skip 3DS).
    `decline_if_action`: a card still asking for authentication is declined with
    `authentication_required` (the intent back to `requires_payment_method`), as Stripe does
    for a PaymentIntent confirmed with `off_session=true` or `error_on_requires_action`;
    otherwise the intent waits in `requires_action` (invoices: `payment_action_required`)."""
    at = ctx.now(pi.get("customer"))
    result = card_behaviour(pm, off_session=off_session)
    if authenticated and result.outcome == "requires_action":
        result = Outcome("succeed")
        mark_authenticated(pm)
    if decline_if_action and result.outcome == "requires_action":
        result = Outcome("decline", code=result.code, decline_code=result.decline_code,
                         message=result.message)
    pi["payment_method"] = pm["id"]
    if result.outcome == "requires_action":
        pi.update(status="requires_action", last_payment_error=None, next_action={
            "type": "use_stripe_sdk",
            "use_stripe_sdk": {"type": "three_d_secure_redirect",
                               "stripe_js": f"/_sim/payment_intents/{pi['id']}/authenticate"}})
        ctx.store.touch()
        ctx.emit("payment_intent.requires_action", pi)
        return result
    charge = ctx.store.insert(new_charge(pi=pi, pm=pm, result=result, created=at))
    if result.succeeds:
        record_charge(ctx.store, charge)
    pi["latest_charge"] = charge["id"]
    pi["next_action"] = None
    if result.succeeds:
        pi.update(status="succeeded", amount_received=pi["amount"], last_payment_error=None)
        ctx.store.touch()
        _save_for_later(ctx, pi, pm, authenticated=authenticated)
        ctx.emit("charge.succeeded", charge)
        ctx.emit("payment_intent.succeeded", pi)
        _after_success(ctx, pi, at)
    else:
        pi.update(status="requires_payment_method",
                  last_payment_error=_error(pi, pm, result, charge["id"]))
        ctx.store.touch()
        ctx.emit("charge.failed", charge)
        ctx.emit("payment_intent.payment_failed", pi)
    return result


def _save_for_later(ctx: Ctx, pi: dict[str, Any], pm: dict[str, Any], *,
                    authenticated: bool) -> None:
    """`setup_future_usage`: a successful payment also saves the card on the intent's
    customer (and, once authenticated, sets it up for later off-session payments)."""
    if not pi.get("setup_future_usage") or not pi.get("customer"):
        return
    if pm.get("customer") is None:
        attach_payment_method(ctx, pm["id"], ctx.customer(pi["customer"]))
    if authenticated:
        mark_authenticated(pm)


def _after_success(ctx: Ctx, pi: dict[str, Any], at: int) -> None:
    invoice = ctx.store.get("invoice", str(pi.get("_invoice")))
    if invoice is not None and invoice["status"] == "open":
        payment = ctx.store.get("invoice_payment", str(invoice.get("_invoice_payment")))
        if payment is not None:
            payment.update(status="paid", amount_paid=pi["amount"])
            payment["status_transitions"]["paid_at"] = at
            ctx.emit("invoice_payment.paid", payment)
        mark_paid(ctx, invoice, at)
        dunning.invoice_paid(ctx, invoice, at)
    for hook in SUCCESS_HOOKS:
        hook(ctx, pi)


def payment_method_for(ctx: Ctx, invoice: dict[str, Any]) -> dict[str, Any] | None:
    """Stripe's order: invoice default, subscription default, customer default."""
    candidates = [invoice.get("default_payment_method")]
    sub = ctx.store.get("subscription", subscription_of(invoice) or "")
    if sub is not None:
        candidates.append(sub.get("default_payment_method"))
    customer = ctx.store.get("customer", invoice["customer"]) or {}
    candidates.append((customer.get("invoice_settings") or {}).get("default_payment_method"))
    for pm_id in candidates:
        pm = ctx.store.get("payment_method", pm_id) if isinstance(pm_id, str) else None
        if pm is not None:
            return pm
    return None


def _intent_for(ctx: Ctx, invoice: dict[str, Any], at: int) -> dict[str, Any]:
    pi = ctx.store.get("payment_intent", str(invoice.get("_payment_intent")))
    if pi is not None:
        if pi["amount"] != invoice["amount_remaining"]:
            pi["amount"] = invoice["amount_remaining"]
        return pi
    description = {"subscription_create": "Subscription creation",
                   "subscription_update": "Subscription update",
                   "subscription_cycle": "Subscription update"}.get(invoice["billing_reason"],
                                                                    "Payment for Invoice")
    pi = new_payment_intent(ctx, amount=invoice["amount_remaining"], currency=invoice["currency"],
                            customer_id=invoice["customer"], created=at, description=description)
    pi["_invoice"] = invoice["id"]
    invoice["_payment_intent"] = pi["id"]
    payment = {
        "id": new_id("inpay"), "object": "invoice_payment", "amount_paid": None,
        "amount_requested": invoice["amount_remaining"], "created": at,
        "currency": invoice["currency"], "invoice": invoice["id"], "is_default": True,
        "livemode": False, "payment": {"payment_intent": pi["id"], "type": "payment_intent"},
        "status": "open", "status_transitions": {"canceled_at": None, "paid_at": None},
    }
    ctx.store.insert(payment)
    invoice["_invoice_payment"] = payment["id"]
    return pi


def ensure_intent(ctx: Ctx, invoice: dict[str, Any]) -> dict[str, Any]:
    """The invoice's payment intent, created (unconfirmed) if it has none yet."""
    return _intent_for(ctx, invoice, ctx.now(invoice["customer"]))


def pay_invoice(ctx: Ctx, invoice: dict[str, Any], *, pm: dict[str, Any] | None = None,
                off_session: bool = True, authenticated: bool = False) -> str:
    """One payment attempt: "paid", "failed" or "requires_action"."""
    if invoice["status"] != "open":
        return "paid" if invoice["status"] == "paid" else "failed"
    at = ctx.now(invoice["customer"])
    before = ctx.snapshot(invoice)
    pm = pm or payment_method_for(ctx, invoice)
    invoice["attempted"] = True
    invoice["attempt_count"] += 1
    if invoice["amount_remaining"] == 0:
        mark_paid(ctx, invoice, at)
        dunning.invoice_paid(ctx, invoice, at)
        return "paid"
    pi = _intent_for(ctx, invoice, at)
    if pm is None:
        ctx.store.touch()
        _failed(ctx, invoice, before, at)
        return "failed"
    result = confirm(ctx, pi, pm, authenticated=authenticated, off_session=off_session)
    if result.succeeds:
        return "paid"
    if result.outcome == "requires_action":
        ctx.emit("invoice.payment_action_required", invoice)
        if not off_session:
            return "requires_action"
    _failed(ctx, invoice, before, at, hard=result.hard)
    return "requires_action" if result.outcome == "requires_action" else "failed"


def _failed(ctx: Ctx, invoice: dict[str, Any], before: dict[str, Any], at: int, *,
            hard: bool = False) -> None:
    """A failed attempt: schedule the next one (none after a hard decline), then tell
    (payment_failed + updated)."""
    dunning.schedule_retry(invoice, at, hard=hard)
    ctx.store.touch()
    ctx.emit("invoice.payment_failed", invoice)
    ctx.emit_update("invoice.updated", invoice, before)
    dunning.invoice_failed(ctx, invoice, at)
