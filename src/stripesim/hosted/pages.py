"""HTML pages Stripe would host: Checkout pay page, 3DS challenge, billing portal.

Plain forms (no JavaScript). Each POST runs the same engine code as the API,
under the store lock, and redirects (303) like the real pages do.
"""

from __future__ import annotations

from typing import Any

from jinja2 import DictLoader, Environment, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from ..billing import checkout as flow
from ..billing.checkout_discounts import enter_code
from ..billing.context import Ctx, ensure_writable
from ..errors import StripeError
from ..routing import Call
from ..sim import Sim
from .templates import TEMPLATES

__all__ = ["asgi_routes"]

_env = Environment(loader=DictLoader(TEMPLATES), autoescape=select_autoescape(default=True))
CARDS = (("pm_card_visa", "Visa 4242 — succeeds"),
         ("pm_card_visa_chargeDeclined", "Visa 0002 — declined"),
         ("pm_card_visa_chargeDeclinedInsufficientFunds", "Visa 9995 — insufficient funds"),
         ("pm_card_threeDSecure2Required", "Visa 3220 — needs 3D Secure"))


def _sim(request: Request) -> Sim:
    sim: Sim = request.app.state.sim
    return sim


def _call(sim: Sim, path: str, params: dict[str, Any] | None = None) -> Call:
    return Call(sim, "POST", path, params or {}, {}, None, None, {})


def _render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_env.get_template(name).render(**context), status_code=status)


def _success_url(session: dict[str, Any]) -> str:
    url = session.get("success_url") or "/c/done"
    return str(url).replace("{CHECKOUT_SESSION_ID}", session["id"])


async def pay_page(request: Request) -> Response:
    sim = _sim(request)
    with sim.store.lock:
        session = sim.store.get("checkout.session", request.path_params["id"])
        if session is None:
            return _render("message.html", 404, title="Not found", message="No such session.")
        return _render("pay.html", session=dict(session), items=list(session["_line_items"]),
                       cards=CARDS, error=None)


def _pay(sim: Sim, session_id: str, form: dict[str, str]) -> Response:
    with sim.store.lock:
        session = sim.store.require("checkout.session", session_id)
        if session["status"] != "open":
            return _render("message.html", 400, title="Session closed",
                           message=f"This checkout session is {session['status']}.")
        try:
            ensure_writable(sim.store, session["customer"])
            if session.get("allow_promotion_codes") and "promotion_code" in form:
                enter_code(Ctx(sim, _call(sim, "/c/pay")), session, form["promotion_code"])
            # An empty choice means "no card" (sessions collecting one only if required).
            chosen = form.get("payment_method")
            outcome = flow.complete(Ctx(sim, _call(sim, "/c/pay")), session,
                                    None if chosen == "" else chosen or "pm_card_visa",
                                    email=form.get("email") or None, name=form.get("name") or None)
        except StripeError as exc:
            return _render("pay.html", 402, session=dict(session), items=session["_line_items"],
                           cards=CARDS, error=exc.message)
        sim.store.save()
        if outcome == "complete":
            return RedirectResponse(_success_url(session), status_code=303)
        intent_id = (session["setup_intent"] or session["payment_intent"]
                     or _invoice_intent(sim, session))
        return RedirectResponse(f"/c/3ds/{intent_id}?session={session_id}", status_code=303)


def _invoice_intent(sim: Sim, session: dict[str, Any]) -> str:
    invoice = sim.store.require("invoice", session["invoice"])
    return str(invoice["_payment_intent"])


async def pay_submit(request: Request) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    return await run_in_threadpool(_pay, _sim(request), request.path_params["id"], form)


async def pay_cancel(request: Request) -> Response:
    sim = _sim(request)
    with sim.store.lock:
        session = sim.store.require("checkout.session", request.path_params["id"])
        return RedirectResponse(session.get("cancel_url") or "/", status_code=303)


async def three_ds_page(request: Request) -> Response:
    return _render("3ds.html", pi_id=request.path_params["id"],
                   session_id=request.query_params.get("session", ""))


def _authenticate(sim: Sim, intent_id: str, session_id: str, succeed: bool) -> Response:
    """Answer the challenge of a PaymentIntent, or of a SetupIntent (`seti_`: setup mode)."""
    from ..resources import payment_intents, setup_intents

    with sim.store.lock:
        setup = intent_id.startswith("seti_")
        intent = sim.store.require("setup_intent" if setup else "payment_intent", intent_id)
        try:
            (setup_intents if setup else payment_intents).authenticate(
                _call(sim, "/c/3ds"), intent, succeed)
        except StripeError as exc:
            return _render("message.html", 400, title="Cannot authenticate", message=exc.message)
        sim.store.save()
        session = sim.store.get("checkout.session", session_id) if session_id else None
        if session is None:
            return _render("message.html", title="Done", message=f"Payment {intent['status']}.")
        if session["status"] == "complete":
            return RedirectResponse(_success_url(session), status_code=303)
        return RedirectResponse(f"/c/pay/{session_id}", status_code=303)


async def three_ds_submit(request: Request) -> Response:
    form = await request.form()
    succeed = form.get("outcome", "succeed") == "succeed"
    return await run_in_threadpool(_authenticate, _sim(request), request.path_params["id"],
                                   str(form.get("session", "")), succeed)


async def done_page(request: Request) -> Response:
    return _render("message.html", title="Payment complete", message="Thank you!")


asgi_routes = [
    Route("/c/pay/{id}", pay_page, methods=["GET"]),
    Route("/c/pay/{id}", pay_submit, methods=["POST"]),
    Route("/c/pay/{id}/cancel", pay_cancel, methods=["GET", "POST"]),
    Route("/c/3ds/{id}", three_ds_page, methods=["GET"]),
    Route("/c/3ds/{id}", three_ds_submit, methods=["POST"]),
    Route("/c/done", done_page, methods=["GET"]),
]
