"""/v1/subscriptions: create, retrieve, update (prorations), cancel, resume, list, search."""

from __future__ import annotations

from typing import Any

from ..billing import discounts, lifecycle, proration, subscription_end
from ..billing.context import Ctx, ensure_writable
from ..billing.customers import live_customer
from ..billing.objects import quantity_of
from ..billing.subscription_shape import ItemSpec, new_subscription, period_end_of
from ..cards import card_behaviour, decline_error
from ..errors import InvalidRequestError, ParameterInvalid, StripeError
from ..pagination import filter_created, paginate
from ..params import get_bool, get_dict, get_int, get_list, get_str, merge_metadata, reject_unknown, require
from ..routing import Call, Router
from ..search import search
from .subscription_item_changes import item_specs, update_items

__all__ = ["live_subscription", "missing_payment_method", "router", "update_subscription"]

router = Router()
NOUN = "subscription"
_BEHAVIOURS = ("allow_incomplete", "default_incomplete", "error_if_incomplete",
               "pending_if_incomplete")
_CREATE = {"customer", "items", "trial_period_days", "trial_end", "payment_behavior",
           "default_payment_method", "metadata", "cancel_at_period_end", "cancel_at",
           "description", "collection_method", "proration_behavior", "off_session",
           "trial_settings", "billing_mode", "payment_settings", "trial_from_plan", "discounts"}
_UPDATE = {"items", "proration_behavior", "proration_date", "cancel_at_period_end", "cancel_at",
           "metadata", "default_payment_method", "payment_behavior", "description",
           "cancellation_details", "trial_end", "off_session", "payment_settings", "discounts",
           "trial_settings"}
_ENDED = ("canceled", "incomplete_expired")


def live_subscription(call: Call, sub_id: Any, *, param: str = "id") -> dict[str, Any]:
    return call.store.require(NOUN, sub_id, param=param)


_MISSING_PM = ("cancel", "create_invoice", "pause")


def missing_payment_method(params: dict[str, Any], name: str,
                           prefix: str = "") -> str | None:
    """`trial_settings[end_behavior][missing_payment_method]`: what the trial's end does to a
    subscription without a payment method (cancel, create_invoice, pause); None if not given."""
    label = f"{prefix}[{name}]" if prefix else name
    settings = get_dict(params, name, param=label) or {}
    behavior = get_dict(settings, "end_behavior", param=f"{label}[end_behavior]") or {}
    return get_str(behavior, "missing_payment_method", choices=_MISSING_PM,
                   param=f"{label}[end_behavior][missing_payment_method]")


def _owned_pm(call: Call, customer: dict[str, Any], pm_id: Any, param: str) -> str | None:
    if not pm_id:
        return None
    pm = call.store.get("payment_method", pm_id) if isinstance(pm_id, str) else None
    if pm is None or pm.get("customer") != customer["id"]:
        raise InvalidRequestError(
            f"The customer does not have a payment method with the ID {pm_id}. The payment method "
            "must be attached to the customer.", code="resource_missing", param=param)
    return str(pm_id)


def _trial_end(params: dict[str, Any], now: int, specs: list[ItemSpec]) -> int | None:
    days = get_int(params, "trial_period_days", minimum=0, maximum=730)
    if params.get("trial_end") not in (None, ""):
        if params["trial_end"] == "now":
            return None
        end = get_int(params, "trial_end", param="trial_end")
        if end is None or end <= now:
            raise ParameterInvalid("trial_end", "Invalid timestamp: must be in the future.")
        return end
    if days is None and get_bool(params, "trial_from_plan"):
        days = specs[0][0]["recurring"].get("trial_period_days")
    return now + days * 86_400 if days else None


@router.post("/v1/subscriptions")
def create(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, _CREATE)
    customer = live_customer(call.store, require(params, "customer"), param="customer")
    ensure_writable(call.store, customer["id"])
    specs = item_specs(call, get_list(params, "items") or [])
    now = call.store.now_for(customer["id"])
    behaviour = get_str(params, "payment_behavior", "allow_incomplete", choices=_BEHAVIOURS)
    default_pm = _owned_pm(call, customer, get_str(params, "default_payment_method"),
                           "default_payment_method")
    trial_end = _trial_end(params, now, specs)
    missing = missing_payment_method(params, "trial_settings") or "create_invoice"
    sub = new_subscription(customer, created=now, items=specs, trial_end=trial_end,
                           metadata=merge_metadata({}, params.get("metadata")),
                           default_payment_method=default_pm,
                           description=get_str(params, "description") or None,
                           missing_payment_method=str(missing))
    sub["cancel_at_period_end"] = bool(get_bool(params, "cancel_at_period_end", False))
    sub["cancel_at"] = get_int(params, "cancel_at", param="cancel_at")
    ctx = Ctx(call.sim, call)
    amounts = [(int(p.get("unit_amount") or 0) * q, p.get("product")) for p, q, _ in specs]
    redemptions = discounts.resolve(ctx, get_list(params, "discounts") or [], param="discounts",
                                    customer_id=customer["id"], currency=sub["currency"],
                                    amount=sum(a for a, _ in amounts), at=now)
    due = 0 if trial_end else discounts.discounted(amounts, redemptions, sub["currency"])
    due += int(customer.get("balance") or 0)
    if due > 0 and behaviour != "default_incomplete":
        _check_payable(call, customer, default_pm, behaviour)
    created, _ = discounts.set_on_subscription(ctx, sub, redemptions, now)
    lifecycle.start(ctx, sub, payment_behavior=str(behaviour))
    discounts.announce(ctx, created, [])
    return sub


def _check_payable(call: Call, customer: dict[str, Any], default_pm: str | None,
                   behaviour: str | None) -> None:
    pm_id = default_pm or (customer.get("invoice_settings") or {}).get("default_payment_method")
    pm = call.store.get("payment_method", pm_id) if pm_id else None
    if pm is None:
        raise InvalidRequestError(
            "This customer has no attached payment source or default payment method. Please "
            "consider adding a default payment method. For more information, visit "
            "https://stripe.com/docs/billing/subscriptions/payment-methods-setting"
            "#payment-method-priority.", code="resource_missing")
    outcome = card_behaviour(pm)
    if behaviour == "error_if_incomplete" and not outcome.succeeds:
        raise decline_error(outcome)


@router.get("/v1/subscriptions/search")
def search_subscriptions(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"query", "limit", "page"})
    return search(call, call.store.all(NOUN), fields={"created", "metadata", "status"},
                  url="/v1/subscriptions/search")


@router.get("/v1/subscriptions/{id}")
def retrieve(call: Call) -> dict[str, Any]:
    return live_subscription(call, call.path_params["id"])


def update_subscription(call: Call, sub: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """Apply an update (API or portal) and emit customer.subscription.updated."""
    ensure_writable(call.store, sub["customer"])
    if sub["status"] in _ENDED:
        raise InvalidRequestError(
            "A canceled subscription can only update its cancellation_details and metadata.")
    customer = live_customer(call.store, sub["customer"], param="customer")
    ctx = Ctx(call.sim, call)
    at = call.store.now_for(sub["customer"])
    before = ctx.snapshot(sub)
    try:
        return _apply_update(call, ctx, sub, customer, params, at, before)
    except StripeError:
        # A refused update changes nothing (every check runs before the first side effect).
        sub.clear()
        sub.update(before)
        raise


def _new_discounts(ctx: Ctx, sub: dict[str, Any], params: dict[str, Any],
                   at: int) -> list[discounts.Redemption] | None:
    """`discounts` of an update, checked: None when not given, [] to remove them all."""
    if "discounts" not in params:
        return None
    amount = sum(int(i["price"].get("unit_amount") or 0) * quantity_of(i)
                 for i in sub["items"]["data"])
    return discounts.resolve(ctx, get_list(params, "discounts") or [], param="discounts",
                             customer_id=sub["customer"], currency=sub["currency"],
                             amount=amount, at=at, kept=list(sub["discounts"]))


def _apply_update(call: Call, ctx: Ctx, sub: dict[str, Any], customer: dict[str, Any],
                  params: dict[str, Any], at: int, before: dict[str, Any]) -> dict[str, Any]:
    redemptions = _new_discounts(ctx, sub, params, at)
    sub["metadata"] = merge_metadata(sub["metadata"], params.get("metadata"))
    if "default_payment_method" in params:
        sub["default_payment_method"] = _owned_pm(call, customer, params["default_payment_method"],
                                                  "default_payment_method")
    if "description" in params:
        sub["description"] = get_str(params, "description") or None
    missing = missing_payment_method(params, "trial_settings")
    if missing:
        sub["trial_settings"]["end_behavior"]["missing_payment_method"] = missing
    _update_cancellation(sub, params, at)
    if sub["status"] == "trialing" and params.get("trial_end") == "now":
        for item in sub["items"]["data"]:
            item["current_period_end"] = at
        sub["trial_end"] = at
    behaviour = get_str(params, "proration_behavior", "create_prorations",
                        choices=proration.BEHAVIOURS) or "create_prorations"
    prorate_at = get_int(params, "proration_date", at, param="proration_date")
    what = update_items(call, ctx, sub, get_list(params, "items") or [],
                         int(prorate_at if prorate_at is not None else at), behaviour)
    created, removed = (discounts.set_on_subscription(ctx, sub, redemptions, at)
                        if redemptions is not None else ([], []))
    call.store.touch()
    ctx.emit_update("customer.subscription.updated", sub, before)
    discounts.announce(ctx, created, removed)
    proration.invoice_change(ctx, sub, at, what)
    if sub["status"] == "trialing" and params.get("trial_end") == "now":
        lifecycle.renew(ctx, sub, at)
    return sub


def _update_cancellation(sub: dict[str, Any], params: dict[str, Any], at: int) -> None:
    details = get_dict(params, "cancellation_details")
    if details:
        for key in ("comment", "feedback"):
            if key in details:
                sub["cancellation_details"][key] = details[key] or None
    at_period_end = get_bool(params, "cancel_at_period_end")
    if at_period_end is not None:
        sub["cancel_at_period_end"] = at_period_end
        sub["cancel_at"] = period_end_of(sub) if at_period_end else None
        sub["canceled_at"] = at if at_period_end else None
        if at_period_end:
            sub["cancellation_details"]["reason"] = "cancellation_requested"
        else:
            sub["cancellation_details"].update(comment=None, feedback=None, reason=None)
    if params.get("cancel_at") not in (None,):
        value = get_int(params, "cancel_at", param="cancel_at") if params["cancel_at"] != "" else None
        sub["cancel_at"] = value
        sub["canceled_at"] = at if value else None


@router.post("/v1/subscriptions/{id}")
def update(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, _UPDATE)
    return update_subscription(call, live_subscription(call, call.path_params["id"]), call.params)


@router.delete("/v1/subscriptions/{id}")
def cancel(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"invoice_now", "prorate", "cancellation_details"})
    sub = live_subscription(call, call.path_params["id"])
    ensure_writable(call.store, sub["customer"])
    if sub["status"] in _ENDED:
        raise InvalidRequestError(
            f"No such subscription: '{sub['id']}' is already canceled.", code="resource_missing",
            http_status=404, param="id")
    details = get_dict(call.params, "cancellation_details") or {}
    subscription_end.cancel(Ctx(call.sim, call), sub, call.store.now_for(sub["customer"]),
                     reason="cancellation_requested", comment=details.get("comment") or None,
                     feedback=details.get("feedback") or None)
    return sub


@router.post("/v1/subscriptions/{id}/resume")
def resume(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"billing_cycle_anchor", "proration_behavior", "proration_date"})
    sub = live_subscription(call, call.path_params["id"])
    ensure_writable(call.store, sub["customer"])
    if sub["status"] != "paused":
        raise InvalidRequestError("Only a paused subscription can be resumed.",
                                  )
    lifecycle.resume(Ctx(call.sim, call), sub, call.store.now_for(sub["customer"]))
    return sub


@router.get("/v1/subscriptions")
def list_subscriptions(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"limit", "starting_after", "ending_before", "created", "customer",
                            "status", "price", "test_clock", "collection_method",
                            "current_period_end", "current_period_start", "automatic_tax"})
    items = call.store.all(NOUN)
    status = get_str(params, "status")
    if status is None:
        items = [s for s in items if s["status"] not in _ENDED]
    elif status == "ended":
        items = [s for s in items if s["status"] in _ENDED]
    elif status != "all":
        items = [s for s in items if s["status"] == status]
    for field in ("customer", "test_clock"):
        value = get_str(params, field)
        if value:
            items = [s for s in items if s.get(field) == value]
    price = get_str(params, "price")
    if price:
        items = [s for s in items if any(i["price"]["id"] == price for i in s["items"]["data"])]
    return paginate(call, filter_created(items, params), url="/v1/subscriptions", noun=NOUN)
