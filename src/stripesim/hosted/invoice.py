"""The hosted invoice page (`hosted_invoice_url`) and its PDF (`invoice_pdf`).

Both are read-only renderings of the stored invoice; the PDF is a one-page
document built by hand (Helvetica text, no dependency).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..expand import public
from ..money import format_minor
from ..sim import Sim
from .card_tiles import card_label
from .render import business_name, format_date, locked, message, page

__all__ = ["asgi_routes", "invoice_pdf", "pdf_document"]


@dataclass(frozen=True)
class LineView:
    description: str
    quantity: int
    amount: str
    period: str  # "Jan 1 – Feb 1, 2026" for subscription lines, "" otherwise


@dataclass(frozen=True)
class InvoiceView:
    headline_amount: str  # what was paid, or what is due
    status_label: str
    state_text: str  # "Paid on January 1, 2026", "Due on ...", "Voided on ..."
    date_label: str
    date_text: str
    card: str
    billed_to: list[str]
    period: str
    lines: list[LineView]
    totals: list[tuple[str, str]]


def _span(period: dict[str, Any] | None) -> str:
    if not period or period.get("start") == period.get("end"):
        return ""
    return f"{format_date(period['start'], short=True)} – {format_date(period['end'], short=True)}"


def _view(sim: Sim, invoice: dict[str, Any]) -> InvoiceView:
    currency = str(invoice["currency"])

    def money(amount: Any) -> str:
        return format_minor(int(amount or 0), currency)

    status = str(invoice["status"])
    moments = invoice.get("status_transitions") or {}
    due = invoice.get("due_date") or invoice.get("next_payment_attempt")
    if status == "paid":
        label, state = "Paid", f"on {format_date(moments.get('paid_at'))}"
        date_label, date_text = "Payment date", format_date(moments.get("paid_at"))
    elif status == "void":
        label, state = "Void", f"on {format_date(moments.get('voided_at'))}"
        date_label, date_text = "Invoice date", format_date(invoice.get("effective_at"))
    elif status == "uncollectible":
        label, state = "Uncollectible", ""
        date_label, date_text = "Invoice date", format_date(invoice.get("effective_at"))
    elif invoice.get("due_date"):
        label, state = "Due", f"on {format_date(invoice['due_date'])}"
        date_label, date_text = "Invoice date", format_date(invoice.get("effective_at"))
    else:
        label = "Due"
        state = f"next payment attempt on {format_date(due)}" if due else ""
        date_label, date_text = "Invoice date", format_date(invoice.get("effective_at"))
    totals = [("Subtotal", money(invoice["subtotal"]))]
    totals += [("Discount", money(-int(d["amount"])))
               for d in invoice.get("total_discount_amounts") or [] if int(d.get("amount") or 0)]
    totals += [("Tax", money(t["amount"])) for t in invoice.get("total_taxes") or []]
    totals += [("Total", money(invoice["total"]))]
    if int(invoice.get("starting_balance") or 0):
        totals.append(("Applied balance", money(invoice["starting_balance"])))
    totals += [("Amount paid", money(invoice["amount_paid"])),
               ("Amount due", money(invoice["amount_remaining"]))]
    address = invoice.get("customer_address") or {}
    billed_to = [str(x) for x in (invoice.get("customer_name"), invoice.get("customer_email"),
                                  address.get("line1"), address.get("city"),
                                  address.get("country")) if x]
    return InvoiceView(
        headline_amount=money(invoice["amount_paid"] if status == "paid"
                              else invoice["amount_remaining"]),
        status_label=label, state_text=state, date_label=date_label, date_text=date_text,
        card=_card(sim, invoice), billed_to=billed_to,
        period=_span({"start": invoice.get("period_start"), "end": invoice.get("period_end")}),
        lines=[LineView(str(line.get("description") or ""), int(line.get("quantity") or 1),
                        money(line["amount"]), _span(line.get("period")))
               for line in invoice["lines"]["data"]],
        totals=totals)


def _card(sim: Sim, invoice: dict[str, Any]) -> str:
    pi = sim.store.get("payment_intent", str(invoice.get("_payment_intent")))
    pm = sim.store.get("payment_method", str((pi or {}).get("payment_method"))) or {}
    card = pm.get("card")
    return card_label(str(card["brand"]), str(card["last4"])) if card else ""


def _invoice(sim: Sim, invoice_id: str) -> dict[str, Any] | None:
    invoice = sim.store.get("invoice", invoice_id)
    if invoice is None or invoice.get("deleted") or invoice["status"] == "draft":
        return None
    return invoice


def _missing(sim: Sim) -> Response:
    return message("Not found", "There is no invoice at this address.", 404,
                   business=business_name(sim.store))


@locked
def invoice_page(request: Request) -> Response:
    sim: Sim = request.app.state.sim
    invoice = _invoice(sim, request.path_params["id"])
    if invoice is None:
        return _missing(sim)
    return page("invoice.html", invoice=public(invoice), view=_view(sim, invoice),
                business=business_name(sim.store))


@locked
def invoice_pdf_file(request: Request) -> Response:
    sim: Sim = request.app.state.sim
    invoice = _invoice(sim, request.path_params["id"])
    if invoice is None:
        return _missing(sim)
    return Response(invoice_pdf(public(invoice)), media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="Invoice-{invoice["number"]}.pdf"'})


def invoice_pdf(invoice: dict[str, Any]) -> bytes:
    """A minimal valid PDF 1.4 listing the invoice's lines and totals."""
    currency = str(invoice["currency"])
    text = [f"Invoice {invoice['number']}", f"Status: {invoice['status']}", ""]
    text += [f"{line.get('description') or ''}  {format_minor(int(line['amount']), currency)}"
             for line in invoice["lines"]["data"]]
    text += ["", f"Total: {format_minor(int(invoice['total']), currency)}",
             f"Amount due: {format_minor(int(invoice['amount_due']), currency)}",
             f"Amount paid: {format_minor(int(invoice['amount_paid']), currency)}"]
    return pdf_document(text)


def pdf_document(text: list[str]) -> bytes:
    """A minimal valid PDF 1.4 of one page showing `text`, one line each (credit notes too)."""
    shown = " ".join(f"({_escape(line)}) Tj T*" for line in text)
    # WinAnsiEncoding is Windows-1252: "€" and "•" have a byte there, which latin-1 lacks.
    stream = f"BT /F1 11 Tf 14 TL 50 800 Td {shown} ET".encode("cp1252", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


asgi_routes = [
    Route("/i/{id}", invoice_page, methods=["GET"]),
    Route("/i/{id}/pdf", invoice_pdf_file, methods=["GET"]),
]
