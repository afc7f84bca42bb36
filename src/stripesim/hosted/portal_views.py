"""What the billing portal shows, read from the store: subscriptions, the plans a customer may
switch to and the preview of a switch, saved cards, billing details, invoices.

Each builder is read-only; `portal_actions` changes things.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..billing.context import Ctx
from ..billing.objects import product_name
from ..billing.preview import preview_invoice
from ..errors import InvalidRequestError
from ..money import format_minor
from ..sim import Sim
from ..store import Store
from .card_tiles import card_label
from .render import format_date, recurring_text

__all__ = ["CardView", "ChangePreview", "InvoiceRow", "PlanOption", "SubscriptionView",
           "cards", "customer_view", "invoices", "live_subscriptions", "owned_subscription",
           "plan_options", "preview_change", "subscription_view"]

_ENDED = ("canceled", "incomplete_expired")
_STATUS_LABELS = {"active": "Active", "trialing": "Trial", "past_due": "Past due",
                  "unpaid": "Unpaid", "paused": "Paused", "incomplete": "Incomplete"}


@dataclass(frozen=True)
class SubscriptionView:
    id: str
    status: str
    status_label: str
    plan_name: str
    price_id: str
    item_id: str
    price_text: str  # "$14.99 per month"
    period_text: str  # "Renews on February 1, 2026", "Cancels on ...", "Trial ends on ..."
    cancel_at_period_end: bool
    card: str  # "Visa •••• 4242", "" when none
    card_brand: str
    cancel_date: str  # the period end, as the cancel step announces it


@dataclass(frozen=True)
class PlanOption:
    price_id: str
    name: str
    amount: str  # "$30.00"
    per: str  # "per month"
    current: bool


@dataclass(frozen=True)
class ChangePreview:
    subscription: str
    price_id: str
    quantity: int
    current: str  # "Basic · $10.00 per month"
    new_name: str
    new_price: str  # "$30.00 per month"
    lines: list[tuple[str, str]]  # the prorations: ("Remaining time on 1 × Plus after …", "$15.48")
    proration: str  # their sum, "$10.32"
    total_label: str  # "Amount due today" (invoiced now) or "Next invoice"
    total: str
    next_date: str  # when the next invoice comes, for "Next invoice"


@dataclass(frozen=True)
class CardView:
    id: str
    brand: str
    label: str
    expires: str
    is_default: bool


@dataclass(frozen=True)
class InvoiceRow:
    id: str
    number: str
    date: str
    amount: str
    status: str
    status_label: str
    description: str
    url: str
    pdf: str


def live_subscriptions(store: Store, customer_id: str) -> list[dict[str, Any]]:
    return [s for s in store.all("subscription")
            if s["customer"] == customer_id and s["status"] not in _ENDED]


def owned_subscription(store: Store, customer_id: str, sub_id: Any) -> dict[str, Any]:
    """The customer's live subscription `sub_id`; a clear refusal otherwise."""
    sub = store.require("subscription", sub_id, param="subscription")
    if sub["customer"] != customer_id:
        raise InvalidRequestError("That subscription is not yours.")
    if sub["status"] in _ENDED:
        raise InvalidRequestError("This subscription has ended; it can no longer change.")
    return sub


def _period_end(sub: dict[str, Any]) -> int:
    return min(int(i["current_period_end"]) for i in sub["items"]["data"])


def _default_card_id(store: Store, sub: dict[str, Any]) -> str | None:
    customer = store.get("customer", sub["customer"]) or {}
    found = sub.get("default_payment_method") or (
        customer.get("invoice_settings") or {}).get("default_payment_method")
    return str(found) if found else None


def _price_text(price: dict[str, Any], quantity: int = 1) -> str:
    amount = format_minor(int(price.get("unit_amount") or 0) * quantity, str(price["currency"]))
    per = recurring_text(price.get("recurring"))
    return f"{amount} {per}".strip()


def subscription_view(store: Store, sub: dict[str, Any]) -> SubscriptionView:
    item = sub["items"]["data"][0]
    end = _period_end(sub)
    if sub["cancel_at_period_end"] or sub.get("cancel_at"):
        period = f"Cancels on {format_date(sub.get('cancel_at') or end)}"
    elif sub["status"] == "trialing":
        period = f"Trial ends on {format_date(sub.get('trial_end') or end)}"
    elif sub["status"] == "paused":
        period = "Paused: no invoices until it resumes"
    else:
        period = f"Renews on {format_date(end)}"
    pm = store.get("payment_method", _default_card_id(store, sub) or "")
    card = (pm or {}).get("card") or {}
    label = _STATUS_LABELS.get(sub["status"], sub["status"].replace("_", " ").capitalize())
    if sub["cancel_at_period_end"]:
        label = "Canceling"
    return SubscriptionView(
        id=sub["id"], status=sub["status"], status_label=label,
        plan_name=product_name(store, item["price"]), price_id=item["price"]["id"],
        item_id=item["id"], price_text=_price_text(item["price"], int(item.get("quantity") or 1)),
        period_text=period, cancel_at_period_end=bool(sub["cancel_at_period_end"]),
        card=card_label(str(card["brand"]), str(card["last4"])) if card else "",
        card_brand=str(card.get("brand") or ""), cancel_date=format_date(end))


def plan_options(store: Store, config: dict[str, Any],
                 current_price_id: str | None = None) -> list[PlanOption]:
    """The prices the configuration offers (`features.subscription_update.products`)."""
    update = config["features"]["subscription_update"]
    if not update.get("enabled"):
        return []
    found = []
    for product in update.get("products") or []:
        for price_id in product.get("prices") or []:
            price = store.get("price", price_id)
            if price is not None and price.get("active", True):
                found.append(PlanOption(
                    price_id=price_id, name=product_name(store, price),
                    amount=format_minor(int(price.get("unit_amount") or 0), str(price["currency"])),
                    per=recurring_text(price.get("recurring")),
                    current=price_id == current_price_id))
    return found


def _is_proration(line: dict[str, Any]) -> bool:
    parent = line.get("parent") or {}
    details = parent.get("subscription_item_details") or parent.get("invoice_item_details") or {}
    return bool(details.get("proration"))


def preview_change(sim: Sim, config: dict[str, Any], sub: dict[str, Any], item: dict[str, Any],
                   price: dict[str, Any], quantity: int) -> ChangePreview:
    """What a switch would cost: the proration lines and the invoice they land on, from the
    same arithmetic as the real update (`billing.preview`)."""
    store = sim.store
    customer = store.require("customer", sub["customer"])
    behaviour = config["features"]["subscription_update"]["proration_behavior"]
    preview = preview_invoice(Ctx(sim), customer, sub, changes=[("change", item["id"], price, quantity)],
                              behaviour=behaviour, at=store.now_for(sub["customer"]))
    currency = str(preview["currency"])
    prorations = [line for line in preview["lines"]["data"] if _is_proration(line)]
    # billing_reason subscription_update: the change is invoiced at once (always_invoice, or
    # a new interval); otherwise the prorations ride on the next renewal invoice.
    now = preview["billing_reason"] == "subscription_update"
    return ChangePreview(
        subscription=sub["id"], price_id=price["id"], quantity=quantity,
        current=f"{product_name(store, item['price'])} · "
                f"{_price_text(item['price'], int(item['quantity']))}",
        new_name=product_name(store, price), new_price=_price_text(price, quantity),
        lines=[(str(line.get("description") or ""), format_minor(int(line["amount"]), currency))
               for line in prorations],
        proration=format_minor(sum(int(line["amount"]) for line in prorations), currency),
        total_label="Amount due today" if now else "Next invoice",
        total=format_minor(int(preview["amount_due"]), currency),
        next_date=format_date(_period_end(sub)))


def cards(store: Store, customer: dict[str, Any]) -> list[CardView]:
    """The customer's saved cards, the default first."""
    default = (customer.get("invoice_settings") or {}).get("default_payment_method")
    found = [CardView(id=pm["id"], brand=str(pm["card"]["brand"]), label=card_label(str(pm["card"]["brand"]),
                                                    str(pm["card"]["last4"])),
                      expires=f"Expires {int(pm['card']['exp_month']):02d}/{pm['card']['exp_year']}",
                      is_default=pm["id"] == default)
             for pm in store.all("payment_method")
             if pm.get("customer") == customer["id"] and pm.get("type") == "card"]
    return sorted(found, key=lambda c: not c.is_default)


def customer_view(customer: dict[str, Any]) -> dict[str, Any]:
    """Name, email, phone and the address as lines, plus the raw address for the edit form."""
    address = customer.get("address") or {}
    region = " ".join(str(address[k]) for k in ("state", "postal_code") if address.get(k))
    city_line = ", ".join(part for part in (str(address.get("city") or ""), region) if part)
    lines = [str(address[k]) for k in ("line1", "line2") if address.get(k)]
    lines += [line for line in (city_line, str(address.get("country") or "")) if line]
    return {"name": customer.get("name") or "", "email": customer.get("email") or "",
            "phone": customer.get("phone") or "", "address_lines": lines,
            "address": {k: address.get(k) or "" for k in
                        ("line1", "line2", "city", "state", "postal_code", "country")}}


def invoices(store: Store, customer_id: str) -> list[InvoiceRow]:
    """Finalized invoices, newest first, each with its hosted page and PDF."""
    rows = []
    for invoice in reversed(store.all("invoice")):
        if invoice.get("customer") != customer_id or invoice.get("status") in ("draft", None) \
                or invoice.get("deleted"):
            continue
        names = []
        for line in invoice["lines"]["data"]:
            price_id = ((line.get("pricing") or {}).get("price_details") or {}).get("price")
            price = store.get("price", str(price_id)) if price_id else None
            name = product_name(store, price) if price else str(line.get("description") or "")
            if name and name not in names:
                names.append(name)
        status = str(invoice["status"])
        rows.append(InvoiceRow(
            id=invoice["id"], number=str(invoice.get("number") or invoice["id"]),
            date=format_date(invoice.get("effective_at") or invoice["created"], short=True),
            amount=format_minor(int(invoice["total"]), str(invoice["currency"])), status=status,
            status_label={"open": "Due", "uncollectible": "Uncollectible"}.get(
                status, status.capitalize()),
            description=", ".join(names), url=str(invoice.get("hosted_invoice_url") or ""),
            pdf=str(invoice.get("invoice_pdf") or "")))
    return rows
