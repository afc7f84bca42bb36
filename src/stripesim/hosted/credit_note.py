"""The credit note PDF (`credit_note.pdf`): lines, amounts, and where the money went."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..money import format_minor
from ..sim import Sim
from .invoice import pdf_document
from .render import business_name, locked, message

__all__ = ["asgi_routes"]


@locked
def credit_note_pdf(request: Request) -> Response:
    sim: Sim = request.app.state.sim
    note = sim.store.get("credit_note", request.path_params["id"])
    if note is None:
        return message("Not found", "There is no credit note at this address.", 404,
                       business=business_name(sim.store))
    currency = str(note["currency"])
    text = [f"Credit note {note['number']}", f"Invoice: {note['invoice']}",
            f"Status: {note['status']}", ""]
    text += [f"{line.get('description') or ''}  {format_minor(int(line['amount']), currency)}"
             for line in note["lines"]["data"]]
    credit = int(note.get("_credit_amount") or 0)
    refunded = sum(int(r["amount_refunded"]) for r in note["refunds"])
    text += ["", f"Total: {format_minor(int(note['total']), currency)}",
             f"Lowers the amount due: {format_minor(int(note['pre_payment_amount']), currency)}",
             f"Refunded: {format_minor(refunded, currency)}",
             f"Credited to the customer balance: {format_minor(credit, currency)}"]
    return Response(pdf_document(text), media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="CreditNote-{note["number"]}.pdf"'})


asgi_routes = [Route("/cn/{id}/pdf", credit_note_pdf, methods=["GET"])]
