"""The hosted invoice page (`hosted_invoice_url`) and its PDF (`invoice_pdf`).

Both are read-only renderings of the stored invoice; the PDF is a one-page
document built by hand (Helvetica text, no dependency).
"""

from __future__ import annotations

from typing import Any

from jinja2 import DictLoader, Environment, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from ..expand import public
from ..sim import Sim
from .templates import TEMPLATES

__all__ = ["asgi_routes", "invoice_pdf", "pdf_document"]

_env = Environment(loader=DictLoader(TEMPLATES), autoescape=select_autoescape(default=True))


def _invoice(request: Request) -> dict[str, Any] | None:
    sim: Sim = request.app.state.sim
    with sim.store.lock:
        invoice = sim.store.get("invoice", request.path_params["id"])
        if invoice is None or invoice.get("deleted") or invoice["status"] == "draft":
            return None
        found: dict[str, Any] = public(invoice)
        return found


def _missing() -> HTMLResponse:
    page = _env.get_template("message.html").render(title="Not found", message="No such invoice.")
    return HTMLResponse(page, status_code=404)


async def invoice_page(request: Request) -> Response:
    invoice = _invoice(request)
    if invoice is None:
        return _missing()
    return HTMLResponse(_env.get_template("invoice.html").render(invoice=invoice))


async def invoice_pdf_file(request: Request) -> Response:
    invoice = _invoice(request)
    if invoice is None:
        return _missing()
    return Response(invoice_pdf(invoice), media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="Invoice-{invoice["number"]}.pdf"'})


def _money(amount: int, currency: str) -> str:
    return f"{amount / 100:.2f} {currency.upper()}"


def invoice_pdf(invoice: dict[str, Any]) -> bytes:
    """A minimal valid PDF 1.4 listing the invoice's lines and totals."""
    currency = str(invoice["currency"])
    text = [f"Invoice {invoice['number']}", f"Status: {invoice['status']}", ""]
    text += [f"{line.get('description') or ''}  {_money(int(line['amount']), currency)}"
             for line in invoice["lines"]["data"]]
    text += ["", f"Total: {_money(int(invoice['total']), currency)}",
             f"Amount due: {_money(int(invoice['amount_due']), currency)}",
             f"Amount paid: {_money(int(invoice['amount_paid']), currency)}"]
    return pdf_document(text)


def pdf_document(text: list[str]) -> bytes:
    """A minimal valid PDF 1.4 of one page showing `text`, one line each."""
    shown = " ".join(f"({_escape(line)}) Tj T*" for line in text)
    stream = f"BT /F1 11 Tf 14 TL 50 800 Td {shown} ET".encode("latin-1", "replace")
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
