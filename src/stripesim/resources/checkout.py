"""/v1/checkout/sessions: create, retrieve, update, list, line items, expire;
`/_sim/checkout/sessions/{id}/complete` and `/expire` for tests."""

from __future__ import annotations

import copy
from typing import Any

from .. import shapes
from ..billing import checkout as flow
from ..billing import discounts
from ..billing.checkout_discounts import enter_code, set_session_discounts
from ..billing.context import Ctx, clock_of, ensure_writable
from ..billing.customers import live_customer
from ..billing.objects import is_metered
from ..errors import InvalidRequestError, ParameterInvalid
from ..expand import register_expander
from ..hosted_urls import remember_base_url
from ..pagination import filter_created, list_object, paginate
from ..params import get_bool, get_dict, get_int, get_list, get_str, merge_metadata, reject_unknown, require
from ..routing import Call, Router
from ..store import new_id
from .checkout_rules import check_session_params
from .prices import create_price
from .subscriptions import missing_payment_method

__all__ = ["control_router", "router"]

router = Router()
control_router = Router()
NOUN = "checkout.session"
_CREATE = {"mode", "line_items", "customer", "customer_email", "client_reference_id", "metadata",
           "subscription_data", "payment_intent_data", "allow_promotion_codes", "automatic_tax",
           "success_url", "cancel_url", "expires_at", "customer_creation", "payment_method_types",
           "ui_mode", "locale", "billing_address_collection", "discounts", "invoice_creation",
           "phone_number_collection", "submit_type", "return_url", "tax_id_collection",
           "consent_collection", "customer_update", "payment_method_collection",
           "saved_payment_method_options", "currency", "allowed_payment_method_types",
           "excluded_payment_method_types", "setup_intent_data"}
_MIN_EXPIRY_S, _MAX_EXPIRY_S = 30 * 60, 24 * 3600


def _line_items(call: Call, mode: str, raw_items: list[Any]) -> list[dict[str, Any]]:
    if not raw_items:
        raise ParameterInvalid("line_items", "You must provide at least one line item.",
                               code="parameter_missing")
    items = []
    for index, raw in enumerate(raw_items):
        param = f"line_items[{index}]"
        if not isinstance(raw, dict):
            raise ParameterInvalid(param, f"Invalid hash: {param}")
        if raw.get("price_data"):
            price = create_price(call, get_dict(raw, "price_data") or {},
                                 param_prefix=f"{param}[price_data]")
        else:
            price = call.store.require("price", require(raw, "price") if "price" in raw else
                                       require({}, f"{param}[price]"), param=f"{param}[price]")
        quantity: int | None = get_int(raw, "quantity", 1, minimum=1,
                                       param=f"{param}[quantity]") or 1
        if mode == "payment" and price.get("recurring"):
            raise InvalidRequestError(
                "You specified `payment` mode but passed a recurring price. Either switch to "
                "`subscription` mode or use only one-time prices.", param=param)
        if is_metered(price):  # billed later from its meter: nothing to pay now
            if raw.get("quantity") not in (None, ""):
                raise InvalidRequestError(
                    f"Quantity should not be specified where usage_type is `metered`. Remove "
                    f"quantity from `{param}`.", param=f"{param}[quantity]")
            quantity = None
        amount = int(price.get("unit_amount") or 0) * (quantity or 0)
        product = call.store.get("product", str(price.get("product"))) or {}
        items.append({
            "id": new_id("li"), "object": "item", "adjustable_quantity": None,
            "amount_discount": 0, "amount_subtotal": amount, "amount_tax": 0,
            "amount_total": amount, "currency": price["currency"],
            "description": product.get("name"), "metadata": {}, "price": copy.deepcopy(price),
            "quantity": quantity,
        })
    if mode == "subscription" and not any(i["price"].get("recurring") for i in items):
        raise InvalidRequestError("You must provide at least one recurring price in "
                                  "`subscription` mode when using prices.", param="line_items")
    return items


def _expires_at(params: dict[str, Any], now: int) -> int:
    value = get_int(params, "expires_at")
    if value is None:
        return now + _MAX_EXPIRY_S
    if not now + _MIN_EXPIRY_S <= value <= now + _MAX_EXPIRY_S:
        raise ParameterInvalid("expires_at", "The `expires_at` timestamp must be between 30 "
                               "minutes and 24 hours from Checkout Session creation.")
    return value


@router.post("/v1/checkout/sessions")
def create(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, _CREATE)
    mode = get_str(params, "mode", choices=("payment", "subscription", "setup"))
    if mode is None:
        require(params, "mode")
    customer_id = get_str(params, "customer") or None
    customer = None
    if customer_id:
        customer = live_customer(call.store, customer_id, param="customer")
        ensure_writable(call.store, customer_id)
        if params.get("customer_email"):
            raise InvalidRequestError("You may only specify one of these parameters: customer, "
                                      "customer_email.", param="customer_email")
    if mode == "setup":
        items = _no_line_items(params)
        currency = (get_str(params, "currency") or "").lower() or None
        total: int | None = None
    else:
        items = _line_items(call, str(mode), get_list(params, "line_items") or [])
        currency = items[0]["currency"]
        total = sum(i["amount_total"] for i in items)
    rules = check_session_params(call, str(mode), customer, items)
    now = call.store.now_for(customer_id)
    session_id = new_id("cs_test", 58)
    ctx = Ctx(call.sim, call)
    allow_codes = get_bool(params, "allow_promotion_codes")
    if allow_codes and params.get("discounts"):
        raise InvalidRequestError("You may only specify one of these parameters: "
                                  "allow_promotion_codes, discounts.", param="discounts")
    raw_discounts = get_list(params, "discounts") or []
    if len(raw_discounts) > 1 or (raw_discounts and mode == "setup"):
        raise InvalidRequestError("A Checkout Session takes at most one discount, and none in "
                                  "setup mode.", param="discounts")
    redemptions = discounts.resolve(ctx, raw_discounts, param="discounts",
                                    customer_id=customer_id, currency=currency,
                                    amount=total, at=now)
    tax = get_dict(params, "automatic_tax") or {}
    session: dict[str, Any] = {
        "id": session_id, "object": NOUN,
        "adaptive_pricing": {"enabled": False}, "after_expiration": None,
        "allow_promotion_codes": allow_codes,
        "amount_subtotal": total, "amount_total": total,
        "automatic_tax": {"enabled": bool(get_bool(tax, "enabled", False,
                                                   param="automatic_tax[enabled]")),
                          "liability": None, "provider": None, "status": None},
        "billing_address_collection": get_str(params, "billing_address_collection") or None,
        "cancel_url": get_str(params, "cancel_url") or None,
        "client_reference_id": get_str(params, "client_reference_id") or None,
        "client_secret": None, "collected_information": None,
        "consent": None, "consent_collection": None, "created": now,
        "currency": currency, "currency_conversion": None, "custom_fields": [],
        "custom_text": {"after_submit": None, "shipping_address": None, "submit": None,
                        "terms_of_service_acceptance": None},
        "customer": customer_id, "customer_account": None,
        "customer_creation": get_str(params, "customer_creation", "if_required",
                                     choices=("always", "if_required"))
        if mode in ("payment", "setup") and not customer_id else None,
        "customer_details": None, "customer_email": get_str(params, "customer_email") or None,
        "discounts": [], "expires_at": _expires_at(params, now),
        "integration_identifier": None, "invoice": None,
        "invoice_creation": rules.invoice_creation or ({"enabled": False, "invoice_data": {
            "account_tax_ids": None, "custom_fields": None, "description": None, "footer": None,
            "issuer": None, "metadata": {}, "rendering_options": None}}
            if mode == "payment" else None),
        "livemode": False, "locale": get_str(params, "locale") or None,
        "managed_payments": None, "metadata": merge_metadata({}, params.get("metadata")),
        "mode": mode, "origin_context": None, "payment_intent": None, "payment_link": None,
        "payment_method_collection": _collection(params, mode),
        "payment_method_configuration_details": None, "payment_method_options": {},
        "payment_method_types": rules.payment_method_types,
        "payment_status": "no_payment_required" if mode == "setup" else "unpaid",
        "permissions": None,
        "phone_number_collection": {"enabled": False}, "recovered_from": None,
        "saved_payment_method_options": None, "setup_intent": None,
        "shipping_address_collection": None, "shipping_cost": None, "shipping_options": [],
        "status": "open", "submit_type": get_str(params, "submit_type") or None,
        "subscription": None, "success_url": get_str(params, "success_url") or None,
        "total_details": None if mode == "setup" else {"amount_discount": 0, "amount_shipping": 0,
                                                        "amount_tax": 0},
        "ui_mode": "hosted_page",
        "url": f"{remember_base_url(call.store, call.headers)}/c/pay/{session_id}",
        "wallet_options": None,
        "_line_items": items, "_clock": clock_of(call.store, customer_id),
        "_subscription_data": _sub_data(params), "_payment_intent_data": _pi_data(params),
        "_customer_update": rules.customer_update, "_setup_intent_data": _setup_data(params),
    }
    set_session_discounts(ctx, session, redemptions)
    call.store.insert(session)
    return session


def _sub_data(params: dict[str, Any]) -> dict[str, Any]:
    data = get_dict(params, "subscription_data") or {}
    days = get_int(data, "trial_period_days", minimum=1, maximum=730,
                   param="subscription_data[trial_period_days]")
    return {"metadata": merge_metadata({}, data.get("metadata"),
                                       param="subscription_data[metadata]"),
            "trial_period_days": days, "description": data.get("description") or None,
            "missing_payment_method": missing_payment_method(data, "trial_settings",
                                                             "subscription_data")}


def _collection(params: dict[str, Any], mode: str | None) -> str | None:
    """`payment_method_collection`: `if_required` lets a subscription with nothing due now
    (a trial, a 100% discount) start without a card."""
    chosen = get_str(params, "payment_method_collection", choices=("always", "if_required"))
    if chosen and mode != "subscription":
        raise InvalidRequestError("`payment_method_collection` can only be used in "
                                  "`subscription` mode.", param="payment_method_collection")
    return (chosen or "always") if mode == "subscription" else None


def _no_line_items(params: dict[str, Any]) -> list[dict[str, Any]]:
    """Setup mode saves a card: it has nothing to sell."""
    if params.get("line_items"):
        raise InvalidRequestError("You cannot pass `line_items` in `setup` mode.",
                                  param="line_items")
    for key in ("subscription_data", "payment_intent_data"):
        if params.get(key):
            raise InvalidRequestError(f"You cannot pass `{key}` in `setup` mode.", param=key)
    return []


def _setup_data(params: dict[str, Any]) -> dict[str, Any]:
    data = get_dict(params, "setup_intent_data") or {}
    if data and params.get("mode") != "setup":
        raise InvalidRequestError("You can only pass `setup_intent_data` in `setup` mode.",
                                  param="setup_intent_data")
    return {"metadata": merge_metadata({}, data.get("metadata"),
                                       param="setup_intent_data[metadata]"),
            "description": data.get("description") or None}


def _pi_data(params: dict[str, Any]) -> dict[str, Any]:
    data = get_dict(params, "payment_intent_data") or {}
    return {"metadata": merge_metadata({}, data.get("metadata"),
                                       param="payment_intent_data[metadata]"),
            "description": data.get("description") or None}


def _session(call: Call) -> dict[str, Any]:
    return call.store.require(NOUN, call.path_params["id"], param="session")


@router.get("/v1/checkout/sessions/{id}")
def retrieve(call: Call) -> dict[str, Any]:
    return _session(call)


@router.post("/v1/checkout/sessions/{id}")
def update(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"metadata"})
    session = _session(call)
    session["metadata"] = merge_metadata(session["metadata"], call.params.get("metadata"))
    call.store.touch()
    return session


@router.get("/v1/checkout/sessions/{id}/line_items")
def line_items(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"limit", "starting_after", "ending_before"})
    session = _session(call)
    return paginate(call, list(reversed(session["_line_items"])),
                    url=f"/v1/checkout/sessions/{session['id']}/line_items", noun="line_item")


@router.post("/v1/checkout/sessions/{id}/expire")
def expire(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, set())
    session = _session(call)
    if session["status"] != "open":
        raise InvalidRequestError(
            f"Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout "
            f"Session has a status of \"{session['status']}\".")
    flow.expire(Ctx(call.sim, call), session)
    return session


@router.get("/v1/checkout/sessions")
def list_sessions(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"limit", "starting_after", "ending_before", "created", "customer",
                            "payment_intent", "subscription", "status", "payment_link",
                            "customer_details", "customer_account"})
    items = call.store.all(NOUN)
    for field in ("customer", "payment_intent", "subscription"):
        value = get_str(params, field)
        if value:
            items = [s for s in items if s.get(field) == value]
    status = get_str(params, "status", choices=("open", "complete", "expired"))
    if status:
        items = [s for s in items if s["status"] == status]
    return paginate(call, filter_created(items, params), url="/v1/checkout/sessions", noun=NOUN)


@control_router.post("/_sim/checkout/sessions/{id}/complete")
def complete(call: Call) -> dict[str, Any]:
    """Pay as the customer would on the hosted page: `payment_method` (default pm_card_visa;
    none when the session collects a card only if required and nothing is due now), optional
    `email`, `name`, `address` (billing address typed in: saved on the customer with
    `customer_update[address]=auto`). Declines answer 402 like the page shows them."""
    session = _session(call)
    if session["status"] != "open":
        raise InvalidRequestError(f"This Checkout Session is {session['status']}, not open.")
    ensure_writable(call.store, session["customer"])
    ctx = Ctx(call.sim, call)
    pm = get_str(call.params, "payment_method")
    if pm is None and not flow.card_optional(ctx, session):
        pm = "pm_card_visa"
    address = shapes.address(get_dict(call.params, "address"), "address")
    flow.complete(ctx, session, pm or None, email=get_str(call.params, "email"),
                  name=get_str(call.params, "name"), address=address)
    return session


@control_router.post("/_sim/checkout/sessions/{id}/promotion_code")
def promotion_code(call: Call) -> dict[str, Any]:
    """The customer types a promotion code on the pay page: `{"code": "SUMMER"}` (`""` takes it
    off). Needs `allow_promotion_codes`; an invalid code answers 400 and changes nothing."""
    session = _session(call)
    enter_code(Ctx(call.sim, call), session, str(call.params.get("code") or ""))
    return session


@control_router.post("/_sim/checkout/sessions/{id}/expire")
def expire_now(call: Call) -> dict[str, Any]:
    session = _session(call)
    if session["status"] == "open":
        flow.expire(Ctx(call.sim, call), session)
    return session


# stripesim computes no tax and (yet) no discounts: the breakdown is empty, as Stripe's is then.
register_expander(NOUN, "total_details.breakdown",
                  lambda store, session: {"discounts": [], "taxes": []})
# A Checkout line item's discounts and taxes show only when expanded (none here without tax).
register_expander("item", "discounts", lambda store, item: [])
register_expander("item", "taxes", lambda store, item: [])
register_expander(NOUN, "line_items", lambda store, session: list_object(
    list(session.get("_line_items") or []), f"/v1/checkout/sessions/{session['id']}/line_items"))
