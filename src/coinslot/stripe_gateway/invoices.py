"""Stripe invoices: calls and the dataclasses they return.

Since 2025-03-31.basil an invoice names its subscription under
`parent.subscription_details.subscription`, and each line names its price
under `pricing.price_details.price` and whether it is a proration under
`parent.subscription_item_details.proration`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import stripe

from coinslot.stripe_gateway.client import retrieve_plain
from coinslot.stripe_gateway.errors import translate_stripe_errors
from coinslot.stripe_gateway.subscriptions import ItemChange, as_dict
from coinslot.stripe_ids import checked_stripe_id

# Reads one price by id, as Stripe renders it.
PriceReader = Callable[[str], Mapping[str, Any]]

__all__ = [
    "PriceReader",
    "StripeInvoiceData",
    "StripeInvoiceLineData",
    "StripeInvoicePreview",
    "StripeInvoices",
    "invoice_from_dict",
]


@dataclass(frozen=True, slots=True)
class StripeInvoiceLineData:
    id: str
    price_id: str | None
    period_start_s: int | None  # unix seconds
    period_end_s: int | None
    proration: bool
    amount_minor: int
    # Filled by `StripeInvoices.retrieve` (a line names only the price id): what links it to the catalog.
    price_lookup_key: str | None = None
    price_interval: str | None = None
    price_metadata: Mapping[str, str] = field(default_factory=dict)
    quantity: int = 1  # seats, for a per-seat plan's line
    subscription_item_id: str | None = None  # the subscription item it bills (a plan, an add-on)


@dataclass(frozen=True, slots=True)
class StripeInvoiceData:
    """The parts of an invoice coinslot acts on; amounts in minor units, times unix seconds."""

    id: str
    customer_id: str
    subscription_id: str | None
    status: str | None  # draft | open | paid | uncollectible | void
    billing_reason: str | None
    currency: str
    amount_due_minor: int
    amount_paid_minor: int
    attempt_count: int
    next_payment_attempt_s: int | None
    created_s: int
    livemode: bool
    lines: tuple[StripeInvoiceLineData, ...]
    number: str | None = None  # set when finalized, e.g. "A1B2C3D4-0002": what a customer reads
    hosted_invoice_url: str | None = None  # Stripe's page for the invoice (and its receipt)
    invoice_pdf: str | None = None

    @property
    def is_paid(self) -> bool:
        return self.status == "paid"

    @property
    def service_line(self) -> StripeInvoiceLineData | None:
        """The line that pays for service: a whole period if there is one, else the positive proration
        of a plan change (an upgrade invoiced at once); the latest period when several."""
        paying = [line for line in self.lines if line.amount_minor >= 0 and line.period_end_s is not None]
        full = [line for line in paying if not line.proration] or paying
        return max(full, key=lambda line: line.period_end_s or 0) if full else None


@dataclass(frozen=True, slots=True)
class StripeInvoicePreview:
    """What Stripe would invoice for a change now: the amount due and its lines (prorations included)."""

    currency: str
    amount_due_minor: int
    total_minor: int
    lines: tuple[tuple[str, int], ...]  # (description, amount in minor units)
    proration_date_s: int | None  # the moment it prorates as of: pass it to the change to charge the same


def _id(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return str(value["id"])


def _line_from_dict(line: Mapping[str, Any]) -> StripeInvoiceLineData:
    period = line.get("period") or {}
    price_details = (line.get("pricing") or {}).get("price_details") or {}
    item_parent = (line.get("parent") or {}).get("subscription_item_details") or {}
    return StripeInvoiceLineData(
        id=str(line.get("id", "")),
        price_id=_id(price_details.get("price")),
        period_start_s=period.get("start"),
        period_end_s=period.get("end"),
        proration=bool(item_parent.get("proration")),
        amount_minor=int(line.get("amount") or 0),
        quantity=int(line.get("quantity") or 1),
        subscription_item_id=_id(item_parent.get("subscription_item")),
    )


def _with_price(line: StripeInvoiceLineData, price: Mapping[str, Any] | None) -> StripeInvoiceLineData:
    if price is None:
        return line
    return replace(
        line,
        price_lookup_key=price.get("lookup_key"),
        price_interval=(price.get("recurring") or {}).get("interval"),
        price_metadata=dict(price.get("metadata") or {}),
    )


def invoice_from_dict(data: Mapping[str, Any]) -> StripeInvoiceData:
    """Parse an invoice as Stripe renders it (API answer or an event's `data.object`)."""
    details = (data.get("parent") or {}).get("subscription_details") or {}
    lines = (data.get("lines") or {}).get("data") or []
    return StripeInvoiceData(
        id=str(data["id"]),
        customer_id=_id(data.get("customer")) or "",
        subscription_id=_id(details.get("subscription")),
        status=data.get("status"),
        billing_reason=data.get("billing_reason"),
        currency=str(data.get("currency") or ""),
        amount_due_minor=int(data.get("amount_due") or 0),
        amount_paid_minor=int(data.get("amount_paid") or 0),
        attempt_count=int(data.get("attempt_count") or 0),
        next_payment_attempt_s=data.get("next_payment_attempt"),
        created_s=int(data.get("created") or 0),
        livemode=bool(data.get("livemode")),
        lines=tuple(_line_from_dict(line) for line in lines),
        number=data.get("number"),
        hosted_invoice_url=data.get("hosted_invoice_url"),
        invoice_pdf=data.get("invoice_pdf"),
    )


class StripeInvoices:
    def __init__(self, client: stripe.StripeClient) -> None:
        self._client = client

    def retrieve(self, invoice_id: str, *, read_price: PriceReader | None = None) -> StripeInvoiceData:
        """The invoice with its lines' prices (`with_prices`)."""
        checked_stripe_id(invoice_id, "in", field="invoice_id")
        with translate_stripe_errors(f"read invoice {invoice_id}"):
            found = invoice_from_dict(retrieve_plain(self._client, "/v1/invoices", invoice_id))
        return self.with_prices(found, read_price=read_price)

    def price(self, price_id: str) -> Mapping[str, Any]:
        """A price as Stripe holds it now: its lookup key and metadata link an invoice line to the catalog."""
        checked_stripe_id(price_id, "price", field="price_id")
        with translate_stripe_errors(f"read price {price_id}"):
            return retrieve_plain(self._client, "/v1/prices", price_id)

    def with_prices(self, found: StripeInvoiceData, *,
                    read_price: PriceReader | None = None) -> StripeInvoiceData:
        """The invoice with each line's price read (for one read from Stripe or an event's payload).

        A line names its price by id only, and expanding it is one level deeper than Stripe allows: each
        price is read once, by `read_price` when given (the webhook worker reads a price once per batch,
        however many invoices of the batch bill it), else here."""
        read = read_price or self.price
        price_ids = {line.price_id for line in found.lines if line.price_id}
        prices = {price_id: read(price_id) for price_id in price_ids}
        lines = tuple(_with_price(line, prices.get(line.price_id or "")) for line in found.lines)
        return replace(found, lines=lines)

    def list_for_customer(self, customer_id: str, *, limit: int = 24) -> list[StripeInvoiceData]:
        """The customer's latest invoices, newest first (the billing page shows them)."""
        with translate_stripe_errors(f"list invoices of {customer_id}"):
            page = self._client.v1.invoices.list(params={"customer": customer_id, "limit": limit})
        return [invoice_from_dict(as_dict(invoice)) for invoice in page.data]

    def preview_price_change(
        self, *, customer_id: str, subscription_id: str, item_id: str, price_id: str,
        proration_behavior: str, proration_date_s: int,
    ) -> StripeInvoicePreview:
        """The invoice a swap of the subscription's item to `price_id` would make now (nothing changes)."""
        return self.preview_items_change(
            customer_id=customer_id, subscription_id=subscription_id,
            items=[ItemChange(item_id=item_id, price_id=price_id)],
            proration_behavior=proration_behavior, proration_date_s=proration_date_s,
        )

    def preview_items_change(
        self, *, customer_id: str, subscription_id: str, items: Sequence[ItemChange],
        proration_behavior: str, proration_date_s: int,
    ) -> StripeInvoicePreview:
        """The invoice a change of the subscription's items (a price, seats, an add-on added or removed)
        would make now; nothing changes."""
        with translate_stripe_errors(f"preview a change of subscription {subscription_id}"):
            preview = as_dict(self._client.v1.invoices.create_preview(params={  # type: ignore[arg-type]
                "customer": customer_id,
                "subscription": subscription_id,
                "subscription_details": {
                    "items": [item.params() for item in items],
                    "proration_behavior": proration_behavior,
                    "proration_date": proration_date_s,
                },
            }))
        details = (preview.get("parent") or {}).get("subscription_details") or {}
        lines = (preview.get("lines") or {}).get("data") or []
        return StripeInvoicePreview(
            currency=str(preview.get("currency") or ""),
            amount_due_minor=int(preview.get("amount_due") or 0),
            total_minor=int(preview.get("total") or 0),
            lines=tuple((str(line.get("description") or ""), int(line.get("amount") or 0)) for line in lines),
            proration_date_s=details.get("subscription_proration_date"),
        )
