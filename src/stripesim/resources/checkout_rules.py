"""Checkout Session parameters Stripe refuses, with Stripe's codes and messages.

Each rule here is one a wrong call would trip over in production: the tax
location that automatic tax needs, `customer_update` without a customer,
payment method types a mode cannot use, parameters that belong to one mode,
the number of line items. `checkout.create` calls `check_session_params`
before it builds anything, so a refused call changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import InvalidRequestError, ParameterInvalid
from ..params import get_bool, get_dict, get_list, get_str
from ..payment_method_types import ALL, RECURRING, at_least_endive

if TYPE_CHECKING:
    from ..routing import Call

__all__ = ["MAX_LINE_ITEMS", "SessionRules", "check_session_params"]

# Stripe's documented limits: 100 line items in payment mode; in subscription mode 20 with
# recurring prices and 20 with one-time prices.
MAX_LINE_ITEMS = {"payment": 100, "subscription": 20}
_AUTO_OR_NEVER = ("auto", "never")


class SessionRules:
    """What the checks derived for the session being created."""

    def __init__(self, payment_method_types: list[str], customer_update: dict[str, str],
                 invoice_creation: dict[str, Any] | None) -> None:
        self.payment_method_types = payment_method_types
        self.customer_update = customer_update
        self.invoice_creation = invoice_creation


def check_session_params(call: Call, mode: str, customer: dict[str, Any] | None,
                         items: list[dict[str, Any]]) -> SessionRules:
    """Refuse what Stripe refuses; `items` are the priced line items (price dicts inside)."""
    params = call.params
    _check_line_item_counts(mode, items)
    customer_update = _customer_update(params, customer, call.api_version)
    _check_tax_location(params, customer, customer_update)
    # Stripe's message names payment mode only, but setup mode takes it too.
    if params.get("customer_creation") not in (None, "") and mode == "subscription":
        raise InvalidRequestError("`customer_creation` can only be used in `payment` mode.",
                                  param="customer_creation")
    return SessionRules(_payment_method_types(params, mode, call.api_version), customer_update,
                        _invoice_creation(params, mode))


def _check_line_item_counts(mode: str, items: list[dict[str, Any]]) -> None:
    # Stripe's limits; the wording of these two messages is stripesim's (Stripe's exact
    # text could not be found).
    limit = MAX_LINE_ITEMS.get(mode)
    if limit is None:
        return
    if mode == "payment" and len(items) > limit:
        raise ParameterInvalid("line_items", f"You can pass at most {limit} line items in "
                               f"`payment` mode; this request has {len(items)}.")
    recurring = sum(1 for item in items if item["price"].get("recurring"))
    for kind, count in (("recurring", recurring), ("one-time", len(items) - recurring)):
        if mode == "subscription" and count > limit:
            raise ParameterInvalid("line_items", f"You can pass at most {limit} line items with "
                                   f"{kind} prices in `subscription` mode; this request has "
                                   f"{count}.")


def _customer_update(params: dict[str, Any], customer: dict[str, Any] | None,
                     api_version: str) -> dict[str, str]:
    spec = get_dict(params, "customer_update")
    if spec is None:
        return {}
    if customer is None:
        # Stripe named `customer_account` too once accounts v2 arrived (basil).
        also = " or `customer_account`" if api_version[:10] >= "2025-03-31" else ""
        raise InvalidRequestError(f"`customer_update` can only be used with `customer`{also}.",
                                  param="customer_update")
    found: dict[str, str] = {}
    for key in spec:
        if key not in ("address", "name", "shipping"):
            raise ParameterInvalid(f"customer_update[{key}]",
                                   f"Received unknown parameter: customer_update[{key}]",
                                   code="parameter_unknown")
        choice = get_str(spec, key, choices=_AUTO_OR_NEVER, param=f"customer_update[{key}]")
        found[key] = str(choice)
    return found


def _check_tax_location(params: dict[str, Any], customer: dict[str, Any] | None,
                        customer_update: dict[str, str]) -> None:
    """Automatic tax needs a location: the customer's address, or the one typed in Checkout
    when `customer_update[address]` (or `[shipping]`) is `auto`."""
    tax = get_dict(params, "automatic_tax") or {}
    if not get_bool(tax, "enabled", False, param="automatic_tax[enabled]") or customer is None:
        return
    if "auto" in (customer_update.get("address"), customer_update.get("shipping")):
        return
    address = customer.get("address") or {}
    shipping = (customer.get("shipping") or {}).get("address") or {}
    if address.get("country") or shipping.get("country"):
        return
    raise InvalidRequestError(
        "Automatic tax calculation in Checkout requires a valid address on the Customer. Add a "
        "valid address to the Customer or set either `customer_update[address]` to 'auto' or "
        "`customer_update[shipping]` to 'auto' to save the address entered in Checkout to the "
        "Customer.", code="customer_tax_location_invalid")


def _payment_method_types(params: dict[str, Any], mode: str, api_version: str) -> list[str]:
    """Endive (2026-09-30) filters with `allowed_payment_method_types`; earlier versions take
    `payment_method_types` and refuse a type the mode cannot use."""
    if at_least_endive(api_version):
        if "payment_method_types" in params:
            raise ParameterInvalid("payment_method_types",
                                   "Received unknown parameter: payment_method_types",
                                   code="parameter_unknown")
        allowed = _known_types(params, "allowed_payment_method_types")
        if allowed is None:
            return ["card"]
        usable = [t for t in allowed if mode == "payment" or t in RECURRING]
        if not usable:
            raise ParameterInvalid("allowed_payment_method_types",
                                   f"None of the allowed_payment_method_types can be used in "
                                   f"`{mode}` mode.")
        return usable
    if "allowed_payment_method_types" in params:
        raise ParameterInvalid("allowed_payment_method_types",
                               "Received unknown parameter: allowed_payment_method_types",
                               code="parameter_unknown")
    types = _known_types(params, "payment_method_types")
    if types is None:
        return ["card"]
    for index, kind in enumerate(types):
        if mode != "payment" and kind not in RECURRING:
            raise ParameterInvalid(f"payment_method_types[{index}]",
                                   f"The payment method {kind} cannot be used in {mode} mode.")
    return types


def _known_types(params: dict[str, Any], name: str) -> list[str] | None:
    types = get_list(params, name)
    if types is None:
        return None
    if not types:
        raise ParameterInvalid(name, f"Invalid array: {name} must not be empty.")
    for index, kind in enumerate(types):
        if kind not in ALL:
            raise ParameterInvalid(f"{name}[{index}]",
                                   f"Invalid {name}[{index}]: must be one of {', '.join(ALL)}")
    return [str(kind) for kind in types]


def _invoice_creation(params: dict[str, Any], mode: str) -> dict[str, Any] | None:
    spec = get_dict(params, "invoice_creation")
    if spec is None:
        return None
    enabled = get_bool(spec, "enabled", param="invoice_creation[enabled]")
    if enabled is None:
        raise InvalidRequestError("Missing required param: invoice_creation[enabled].",
                                  code="parameter_missing", param="invoice_creation[enabled]")
    if enabled and mode != "payment":
        raise InvalidRequestError(
            "You can only enable invoice creation when mode is set to payment. Invoices are "
            "created automatically when mode is set to subscription, and are unsupported when "
            "set to setup. To learn more visit "
            "https://stripe.com/docs/payments/checkout/post-payment-invoices.",
            param="invoice_creation[enabled]")
    data = get_dict(spec, "invoice_data") or {}
    return {"enabled": enabled,
            "invoice_data": {"account_tax_ids": None, "custom_fields": None,
                             "description": get_str(data, "description") or None,
                             "footer": get_str(data, "footer") or None, "issuer": None,
                             "metadata": dict(get_dict(data, "metadata") or {}),
                             "rendering_options": None}}
