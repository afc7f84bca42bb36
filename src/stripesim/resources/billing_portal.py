"""/v1/billing_portal/configurations and /v1/billing_portal/sessions.

A session's `url` opens the hosted portal page (`stripesim.hosted.portal`).
"""

from __future__ import annotations

import copy
import secrets
from typing import Any

from ..billing.customers import live_customer
from ..errors import InvalidRequestError, ParameterInvalid
from ..hosted_urls import remember_base_url
from ..pagination import paginate
from ..params import get_bool, get_dict, get_str, merge_metadata, reject_unknown, require
from ..routing import Call, Router
from ..store import new_id

__all__ = ["default_configuration", "router"]

router = Router()
CONFIG = "billing_portal.configuration"
SESSION = "billing_portal.session"
_FLOWS = ("customer_update", "payment_method_update", "subscription_cancel", "subscription_pause",
          "subscription_update", "subscription_update_confirm")


def _features(raw: dict[str, Any], current: dict[str, Any] | None = None) -> dict[str, Any]:
    features: dict[str, Any] = copy.deepcopy(current) if current else {
        "customer_update": {"allowed_updates": [], "enabled": False},
        "invoice_history": {"enabled": False},
        "payment_method_update": {"enabled": False, "payment_method_configuration": None},
        "subscription_cancel": {"cancellation_reason": {"enabled": False, "options": []},
                                "enabled": False, "mode": "at_period_end",
                                "proration_behavior": "none"},
        "subscription_update": {"billing_cycle_anchor": None, "default_allowed_updates": [],
                                "enabled": False, "products": [],
                                "proration_behavior": "none", "schedule_at_period_end":
                                    {"conditions": []}, "trial_update_behavior": "end_trial"},
    }
    for name, value in raw.items():
        if name not in features or not isinstance(value, dict):
            raise ParameterInvalid(f"features[{name}]", f"Received unknown parameter: features[{name}]")
        target: dict[str, Any] = features[name]
        for key, item in value.items():
            param = f"features[{name}][{key}]"
            if key == "enabled":
                target[key] = get_bool(value, key, param=param)
            elif key == "mode":
                target[key] = get_str(value, key, choices=("at_period_end", "immediately"), param=param)
            elif key == "proration_behavior":
                target[key] = get_str(value, key, choices=("always_invoice", "create_prorations",
                                                           "none"), param=param)
            elif key == "products":
                target[key] = [{"adjustable_quantity": {"enabled": False, "maximum": None, "minimum": 1},
                                "prices": list(p.get("prices") or []), "product": p.get("product")}
                               for p in (item or []) if isinstance(p, dict)]
            else:
                target[key] = item
    return features


def _apply(config: dict[str, Any], params: dict[str, Any]) -> None:
    if "features" in params:
        config["features"] = _features(get_dict(params, "features") or {}, config.get("features"))
    profile = get_dict(params, "business_profile")
    if profile is not None:
        config["business_profile"].update({k: profile.get(k) or None for k in profile})
    for key in ("default_return_url", "name"):
        if key in params:
            config[key] = get_str(params, key) or None
    if "active" in params:
        config["active"] = bool(get_bool(params, "active"))
    config["metadata"] = merge_metadata(config["metadata"] or {}, params.get("metadata"))


def new_configuration(call: Call, params: dict[str, Any], *, is_default: bool) -> dict[str, Any]:
    now = call.store.now()
    config: dict[str, Any] = {
        "id": new_id("bpc"), "object": CONFIG, "active": True, "application": None,
        "business_profile": {"headline": None, "privacy_policy_url": None,
                             "terms_of_service_url": None},
        "created": now, "default_return_url": None, "features": _features({}),
        "is_default": is_default, "livemode": False,
        "login_page": {"enabled": False, "url": None}, "metadata": {}, "name": None,
        "updated": now,
    }
    _apply(config, params)
    call.store.insert(config)
    call.emit("billing_portal.configuration.created", config)
    return config


def default_configuration(call: Call) -> dict[str, Any]:
    """The account default; made on first use (cancel at period end, invoice history on)."""
    for config in call.store.all(CONFIG):
        if config["is_default"]:
            return config
    return new_configuration(call, {"features": {
        "invoice_history": {"enabled": "true"}, "payment_method_update": {"enabled": "true"},
        "subscription_cancel": {"enabled": "true", "mode": "at_period_end"}}}, is_default=True)


_CONFIG_PARAMS = {"features", "business_profile", "default_return_url", "login_page", "metadata",
                  "name", "active"}


@router.post("/v1/billing_portal/configurations")
def create_configuration(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, _CONFIG_PARAMS)
    require(call.params, "features")
    return new_configuration(call, call.params, is_default=False)


@router.get("/v1/billing_portal/configurations/{id}")
def retrieve_configuration(call: Call) -> dict[str, Any]:
    return call.store.require(CONFIG, call.path_params["id"], param="configuration")


@router.post("/v1/billing_portal/configurations/{id}")
def update_configuration(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, _CONFIG_PARAMS)
    config = call.store.require(CONFIG, call.path_params["id"], param="configuration")
    before = copy.deepcopy(config)
    _apply(config, call.params)
    config["updated"] = call.store.now()
    call.store.touch()
    call.emit_update("billing_portal.configuration.updated", config, before)
    return config


@router.get("/v1/billing_portal/configurations")
def list_configurations(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"active", "is_default", "limit", "starting_after", "ending_before"})
    items = call.store.all(CONFIG)
    for key in ("active", "is_default"):
        value = get_bool(call.params, key)
        if value is not None:
            items = [c for c in items if c[key] == value]
    return paginate(call, items, url="/v1/billing_portal/configurations", noun=CONFIG)


def _flow(call: Call, customer_id: str, raw: dict[str, Any] | None) -> dict[str, Any] | None:
    if not raw:
        return None
    kind = get_str(raw, "type", choices=_FLOWS, param="flow_data[type]")
    if kind is None:
        require({}, "flow_data[type]")
    after = get_dict(raw, "after_completion", param="flow_data[after_completion]") or {}
    after_type = get_str(after, "type", "portal_homepage",
                         choices=("hosted_confirmation", "portal_homepage", "redirect"),
                         param="flow_data[after_completion][type]")
    flow: dict[str, Any] = {
        "after_completion": {
            "hosted_confirmation": ({"custom_message": (after.get("hosted_confirmation") or {})
                                     .get("custom_message")} if after_type == "hosted_confirmation"
                                    else None),
            "redirect": ({"return_url": require(after.get("redirect") or {}, "return_url")}
                         if after_type == "redirect" else None),
            "type": after_type},
        "subscription_cancel": None, "subscription_update": None,
        "subscription_update_confirm": None, "type": kind,
    }
    if kind in ("subscription_cancel", "subscription_update", "subscription_update_confirm"):
        spec = get_dict(raw, kind, param=f"flow_data[{kind}]") or {}
        sub = call.store.require("subscription", require(spec, "subscription"),
                                 param=f"flow_data[{kind}][subscription]")
        if sub["customer"] != customer_id:
            raise InvalidRequestError("The subscription does not belong to this customer.",
                                      param=f"flow_data[{kind}][subscription]")
        block: dict[str, Any] = {"subscription": sub["id"]}
        if kind == "subscription_cancel":
            block["retention"] = None
        if kind == "subscription_update_confirm":
            block["discounts"] = None
            block["items"] = [{"id": i.get("id"), "price": i.get("price"),
                               "quantity": int(i.get("quantity") or 1)}
                              for i in spec.get("items") or [] if isinstance(i, dict)]
        flow[kind] = block
    return flow


@router.post("/v1/billing_portal/sessions")
def create_session(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"customer", "return_url", "configuration", "flow_data", "locale",
                            "on_behalf_of", "customer_account"})
    customer = live_customer(call.store, require(params, "customer"), param="customer")
    config_id = get_str(params, "configuration")
    config = (call.store.require(CONFIG, config_id, param="configuration") if config_id
              else default_configuration(call))
    return_url = get_str(params, "return_url") or config["default_return_url"]
    secret = "test_" + secrets.token_urlsafe(24)
    session = call.store.insert({
        "id": new_id("bps"), "object": SESSION, "configuration": config["id"],
        "created": call.store.now_for(customer["id"]), "customer": customer["id"],
        "customer_account": None,
        "flow": _flow(call, customer["id"], get_dict(params, "flow_data")),
        "livemode": False, "locale": get_str(params, "locale") or None, "on_behalf_of": None,
        "return_url": return_url,
        "url": f"{remember_base_url(call.store, call.headers)}/p/session/{secret}",
        "_secret": secret,
    })
    call.emit("billing_portal.session.created", session)
    return session
