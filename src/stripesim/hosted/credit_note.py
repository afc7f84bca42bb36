"""The credit note PDF (`credit_note.pdf`): lines, amounts, and where the money went."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..sim import Sim
from .invoice import pdf_document

__all__ = ["asgi_routes"]


def _money(amount: int, currency: str) -> str:
    whole, cents = divmod(abs(amount), 100)
    return f"{'-' if amount < 0 else ''}{whole}.{cents:02d} {currency.upper()}"


async def credit_note_pdf(request: Request) -> Response:
    sim: Sim = request.app.state.sim
    with sim.store.lock:
        note = sim.store.get("credit_note", request.path_params["id"])
        if note is None:
            return Response("No such credit note.", status_code=404, media_type="text/plain")
        currency = str(note["currency"])
        text = [f"Credit note {note['number']}", f"Invoice: {note['invoice']}",
                f"Status: {note['status']}", ""]
        text += [f"{line.get('description') or ''}  {_money(int(line['amount']), currency)}"
                 for line in note["lines"]["data"]]
        credit = int(note.get("_credit_amount") or 0)
        refunded = sum(int(r["amount_refunded"]) for r in note["refunds"])
        text += ["", f"Total: {_money(int(note['total']), currency)}",
                 f"Lowers the amount due: {_money(int(note['pre_payment_amount']), currency)}",
                 f"Refunded: {_money(refunded, currency)}",
                 f"Credited to the customer balance: {_money(credit, currency)}"]
        number = note["number"]
    return Response(pdf_document(text), media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="CreditNote-{number}.pdf"'})


asgi_routes = [Route("/cn/{id}/pdf", credit_note_pdf, methods=["GET"])]
