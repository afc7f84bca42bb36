"""How each resource looked in older API versions: one step per version, per resource.

Each function rewrites one object (a public copy) from the shape of the
version before it in `versions.SUPPORTED` into the shape of the version it
is registered for, in place. Objects nested inside (an invoice's lines, an
expanded customer) get their own steps afterwards, so a step only touches its
own object's fields (nested hashes included).

Sources: the field lists of stripe-node 23.2 / stripe-python 16.1 / 15.6
(2026-11-18.endive / 2026-10-28.endive / 2026-08-26.dahlia) and Stripe's
published spec3 of 2024-04-10 (`tests/stripesim/test_versions.py` checks
every object of the fidelity walk against it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .expand import public

if TYPE_CHECKING:
    from .store import Store

__all__ = ["STEPS"]

Step = Callable[["Store", dict[str, Any]], None]
# (version produced, object type) -> steps, in registration order.
STEPS: dict[tuple[str, str], list[Step]] = {}


def _step(into: str, *object_types: str) -> Callable[[Step], Step]:
    def register(step: Step) -> Step:
        for object_type in object_types:
            STEPS.setdefault((into, object_type), []).append(step)
        return step

    return register


def _drop(obj: dict[str, Any], *paths: str) -> None:
    """Remove dotted `paths` ("automatic_tax.provider") wherever they exist."""
    for path in paths:
        *parents, last = path.split(".")
        node: Any = obj
        for name in parents:
            node = node.get(name) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(last, None)


def _drop_if_null(obj: dict[str, Any], *paths: str) -> None:
    """Remove dotted `paths` whose value is null (fields the older spec omits rather than nulls)."""
    for path in paths:
        *parents, last = path.split(".")
        node: Any = obj
        for name in parents:
            node = node.get(name) if isinstance(node, dict) else None
        if isinstance(node, dict) and last in node and node[last] is None:
            del node[last]


def _stored(store: Store, obj: dict[str, Any]) -> dict[str, Any]:
    """The stored object behind a rendered copy (private links such as `_invoice` live there)."""
    found = store.get(str(obj.get("object")), str(obj.get("id")))
    return found if found is not None else {}


# ----------------------------------------------------------------- 2026-11-18.endive -> 2026-10-28.endive
ENDIVE_OCT = "2026-10-28.endive"


@_step(ENDIVE_OCT, "refund")
def _refund_without_application(store: Store, refund: dict[str, Any]) -> None:
    _drop(refund, "application")  # added 2026-11-18


@_step(ENDIVE_OCT, "checkout.session")
def _session_before_address_precision(store: Store, session: dict[str, Any]) -> None:
    _drop(session, "automatic_tax.address_collection_precision")


@_step(ENDIVE_OCT, "product")
def _features_without_loss_message(store: Store, product: dict[str, Any]) -> None:
    for feature in product.get("marketing_features") or []:
        feature.pop("loss_message", None)


# ----------------------------------------------------------------- 2026-10-28.endive -> 2026-08-26.dahlia
DAHLIA = "2026-08-26.dahlia"
# Fields endive added, by the classes of stripe-python 16.1 vs 15.6.
_ADDED_IN_ENDIVE = {
    "invoice": ("status_details",),
    "subscription": ("status_details", "pending_update.cancel_at_period_end"),
    "subscription_item": ("current_trial",),
    "invoiceitem": ("invoicing_rules",),
    "payment_intent": ("payment_record", "payment_method_options.card.setup_credential_usage",
                       "payment_method_options.card.stored_credential_usage"),
    "product": ("tax_details",),
    "checkout.session": ("allowed_payment_method_types",),
    "setup_intent": ("payment_method_options.card.setup_credential_usage",),
    "billing_portal.session": ("after_expiration", "flow.subscription_pause"),
    "billing_portal.configuration": ("features.subscription_pause",),
    "charge": ("payment_method_details.card.electronic_commerce_indicator",
               "payment_method_details.card.setup_credential_usage",
               "payment_method_details.card.stored_credential_usage"),
}


def _dropper(paths: tuple[str, ...]) -> Step:
    return lambda store, obj: _drop(obj, *paths)


for _type, _paths in _ADDED_IN_ENDIVE.items():
    _step(DAHLIA, _type)(_dropper(_paths))


# ----------------------------------------------------------------- 2026-08-26.dahlia -> 2024-04-10
V2024 = "2024-04-10"
_NEWER_THAN_2024 = {
    "account": ("business_profile.minority_owned_business_designation",
                "settings.invoices.hosted_payment_method_save"),
    "balance_transaction": ("balance_type",),
    "billing_portal.configuration": ("name", "features.payment_method_update.payment_method_configuration",
                                     "features.subscription_update.billing_cycle_anchor",
                                     "features.subscription_update.schedule_at_period_end",
                                     "features.subscription_update.trial_update_behavior"),
    "billing_portal.session": ("customer_account",),
    "customer": ("business_name", "individual_name", "customer_account"),
    "event": ("context",),
    "item": ("adjustable_quantity", "metadata"),
    "payment_method": ("billing_details.tax_id", "card.regulated_status", "customer_account"),
    "product": ("type",),
    "refund": ("customer", "customer_account", "payment_method", "pending_reason",
               "presentment_details"),
    "setup_attempt": ("customer_account",),
    "customer_balance_transaction": ("checkout_session", "customer_account"),
    "subscription_item": ("current_period_start", "current_period_end", "billed_until"),
    "test_helpers.test_clock": ("status_details",),
}
for _type, _paths in _NEWER_THAN_2024.items():
    _step(V2024, _type)(_dropper(_paths))


@_step(V2024, "billing_portal.configuration")
def _portal_products_2024(store: Store, config: dict[str, Any]) -> None:
    update = (config.get("features") or {}).get("subscription_update") or {}
    for product in update.get("products") or []:
        product.pop("adjustable_quantity", None)


@_step(V2024, "refund")
def _refund_2024(store: Store, refund: dict[str, Any]) -> None:
    _drop_if_null(refund, "description", "destination_details.card.reference")


@_step(V2024, "charge")
def _charge_2024(store: Store, charge: dict[str, Any]) -> None:
    _drop(charge, "billing_details.tax_id", "outcome.advice_code", "outcome.network_advice_code",
          "outcome.network_decline_code", "payment_method_details.card.authorization_code",
          "payment_method_details.card.network_transaction_id",
          "payment_method_details.card.regulated_status",
          "payment_method_details.card.transaction_link_id", "source", "presentment_details",
          "level3", "authorization_code")
    _drop_if_null(charge, "outcome.rule", "payment_method_details.card.capture_before")
    # Charges named their invoice until basil (2025-03-31).
    pi = store.get("payment_intent", str(charge.get("payment_intent")))
    charge["invoice"] = (pi or {}).get("_invoice")


@_step(V2024, "payment_intent")
def _payment_intent_2024(store: Store, pi: dict[str, Any]) -> None:
    _drop(pi, "customer_account", "excluded_payment_method_types", "allowed_payment_method_types",
          "managed_payments", "source", "hooks", "payment_details", "presentment_details",
          "last_payment_error.advice_code", "last_payment_error.network_advice_code",
          "last_payment_error.network_decline_code")
    _drop_if_null(pi, "last_payment_error.param")
    pi["invoice"] = _stored(store, pi).get("_invoice")


def _coupon(store: Store, coupon_id: Any) -> dict[str, Any] | None:
    """The whole coupon: 2024 embedded it where discounts now name it (`source[coupon]`)."""
    coupon = coupon_id if isinstance(coupon_id, dict) else store.get("coupon", str(coupon_id))
    if coupon is None:
        return None
    shown: dict[str, Any] = public(coupon)
    shown.pop("deleted", None)  # a deleted coupon still gives its discounts their terms
    return shown


@_step(V2024, "discount")
def _discount_2024(store: Store, discount: dict[str, Any]) -> None:
    if discount.get("deleted"):
        return
    discount["coupon"] = _coupon(store, (discount.get("source") or {}).get("coupon"))
    _drop(discount, "source", "customer_account")


@_step(V2024, "promotion_code")
def _promotion_code_2024(store: Store, code: dict[str, Any]) -> None:
    code["coupon"] = _coupon(store, (code.get("promotion") or {}).get("coupon"))
    _drop(code, "promotion", "customer_account")


@_step(V2024, "credit_note")
def _credit_note_2024(store: Store, note: dict[str, Any]) -> None:
    # One refund per credit note, named directly, before basil's `refunds` list.
    refunds = note.get("refunds") or []
    note["refund"] = refunds[0].get("refund") if refunds else None
    note["tax_amounts"] = []
    _drop(note, "customer_account", "post_payment_amount", "pre_payment_amount",
          "pretax_credit_amounts", "refunds", "total_taxes")


@_step(V2024, "credit_note_line_item")
def _credit_note_line_2024(store: Store, line: dict[str, Any]) -> None:
    line["tax_amounts"] = []
    _drop(line, "metadata", "pretax_credit_amounts", "taxes")


@_step(V2024, "setup_intent")
def _setup_intent_2024(store: Store, si: dict[str, Any]) -> None:
    _drop(si, "customer_account", "excluded_payment_method_types", "allowed_payment_method_types",
          "last_setup_error.advice_code", "last_setup_error.network_advice_code",
          "last_setup_error.network_decline_code")
    _drop_if_null(si, "last_setup_error.param")


@_step(V2024, "checkout.session")
def _session_2024(store: Store, session: dict[str, Any]) -> None:
    collected = session.get("collected_information") or {}
    _drop(session, "adaptive_pricing", "automatic_tax.provider", "collected_information",
          "customer_account", "discounts", "integration_identifier", "managed_payments",
          "origin_context", "permissions", "wallet_options", "excluded_payment_method_types",
          "branding_settings", "name_collection", "optional_items", "presentment_details",
          "customer_details.business_name", "customer_details.individual_name")
    session["shipping_details"] = collected.get("shipping_details")
    # Dahlia renamed the UI modes (hosted -> hosted_page, embedded -> embedded_page).
    ui_mode = session.get("ui_mode")
    if isinstance(ui_mode, str) and ui_mode.endswith("_page"):
        session["ui_mode"] = ui_mode.removesuffix("_page")


@_step(V2024, "subscription")
def _subscription_2024(store: Store, sub: dict[str, Any]) -> None:
    # Before basil (2025-03-31) the period lived on the subscription, not on its items.
    items = (sub.get("items") or {}).get("data") or []
    if items:
        first = min(items, key=lambda item: int(item.get("current_period_end") or 0))
        sub["current_period_start"] = first.get("current_period_start")
        sub["current_period_end"] = first.get("current_period_end")
    else:
        sub["current_period_start"] = sub["current_period_end"] = sub.get("created")
    sub["discount"] = None
    _drop(sub, "billing_mode", "billing_schedules", "customer_account", "invoice_settings",
          "managed_payments", "presentment_details", "automatic_tax.disabled_reason")


@_step(V2024, "invoice")
def _invoice_2024(store: Store, invoice: dict[str, Any]) -> None:
    if invoice.get("deleted"):
        return
    stored = _stored(store, invoice)
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    pi = store.get("payment_intent", str(stored.get("_payment_intent")))
    paid_charge = pi.get("latest_charge") if pi and pi.get("status") == "succeeded" else None
    invoice.update({
        "paid": invoice.get("status") == "paid", "paid_out_of_band": False,
        "payment_intent": pi["id"] if pi else None, "charge": paid_charge,
        "subscription": details.get("subscription"),
        "subscription_details": {"metadata": details.get("metadata")} if details else None,
        "subscription_proration_date": details.get("subscription_proration_date"),
        "discount": None, "tax": None, "total_tax_amounts": [], "application_fee_amount": None,
        "quote": None, "transfer_data": None,
    })
    _drop(invoice, "amount_overpaid", "amount_paid_off_stripe", "automatically_finalizes_at",
          "confirmation_secret", "customer_account", "parent", "payments",
          "total_pretax_credit_amounts", "total_taxes", "automatic_tax.disabled_reason",
          "automatic_tax.provider", "rendering.template", "rendering.template_version")
    _drop_if_null(invoice, "subscription_proration_date")


def _price_object(store: Store, pricing: dict[str, Any] | None) -> dict[str, Any] | None:
    """The whole price a line or invoice item bills (2024 embedded it; now `pricing` names it)."""
    details = (pricing or {}).get("price_details") or {}
    price = store.get("price", str(details.get("price")))
    return public(price) if price is not None else None


def _unit_amount(pricing: dict[str, Any] | None) -> int | None:
    decimal = (pricing or {}).get("unit_amount_decimal")
    return int(decimal) if isinstance(decimal, str) and decimal.isdigit() else None


@_step(V2024, "line_item")
def _line_2024(store: Store, line: dict[str, Any]) -> None:
    parent = line.get("parent") or {}
    details = (parent.get("subscription_item_details") or parent.get("invoice_item_details")
               or {})
    invoice_item = details.get("invoice_item")
    proration_details = details.get("proration_details")
    line.update({
        "type": "invoiceitem" if invoice_item else "subscription",
        "invoice_item": invoice_item, "proration": bool(details.get("proration")),
        "proration_details": ({"credited_items": proration_details.get("credited_items")}
                              if proration_details else None),
        "subscription": details.get("subscription") or line.get("subscription"),
        "subscription_item": details.get("subscription_item"),
        "price": _price_object(store, line.get("pricing")),
        "amount_excluding_tax": line.get("amount"),
        "unit_amount_excluding_tax": (line.get("pricing") or {}).get("unit_amount_decimal"),
        "tax_amounts": [], "tax_rates": [],
    })
    _drop(line, "parent", "pretax_credit_amounts", "pricing", "quantity_decimal", "subtotal",
          "taxes")
    _drop_if_null(line, "invoice_item", "subscription_item")


@_step(V2024, "invoiceitem")
def _invoice_item_2024(store: Store, item: dict[str, Any]) -> None:
    if item.get("deleted"):
        return
    details = (item.get("parent") or {}).get("subscription_details") or {}
    pricing = item.get("pricing")
    unit_amount = _unit_amount(pricing)
    item.update({
        "price": _price_object(store, pricing),
        "subscription": details.get("subscription"),
        "subscription_item": details.get("subscription_item"),
        "unit_amount": unit_amount,
        "unit_amount_decimal": None if unit_amount is None else str(unit_amount),
    })
    _drop(item, "customer_account", "net_amount", "parent", "pricing", "quantity_decimal",
          "invoicing_rules", "proration_details", "frozen_fields")
    _drop_if_null(item, "subscription_item")
