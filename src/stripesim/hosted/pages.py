"""The hosted Checkout page (`checkout.session.url`), its 3D Secure challenge, and the way back.

Plain HTML forms: every step works without JavaScript. A POST runs the same
engine code as `/_sim/checkout/sessions/{id}/complete`, under the store lock,
then redirects (303) like Stripe's page does; a declined card renders the page
again (402) with the error next to the cards and the person's choices kept.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from ..billing import checkout as flow
from ..billing.checkout_discounts import enter_code
from ..billing.context import Ctx, ensure_writable
from ..errors import StripeError
from ..resources import payment_intents, setup_intents
from ..routing import Call
from ..sim import Sim
from .card_tiles import PAY_CARDS, card_label
from .checkout_view import submit_label, summary
from .render import business_name, locked, message, page

__all__ = ["asgi_routes"]

# Stripe's wording when the customer fails (or abandons) the bank's challenge.
_AUTH_FAILED = ("We are unable to authenticate your payment method. Please choose a different "
                "payment method and try again.")
_NOTICES = {"authentication_failed": _AUTH_FAILED}


def _sim(request: Request) -> Sim:
    sim: Sim = request.app.state.sim
    return sim


def _call(sim: Sim, path: str) -> Call:
    return Call(sim, "POST", path, {}, {}, None, None, {})


def _success_url(session: dict[str, Any]) -> str:
    url = session.get("success_url") or "/c/done"
    return str(url).replace("{CHECKOUT_SESSION_ID}", session["id"])


def _email(sim: Sim, session: dict[str, Any]) -> tuple[str, bool]:
    """(email to show, fixed?): an existing customer's email cannot be changed here."""
    customer = sim.store.get("customer", str(session.get("customer")))
    if customer is not None and not customer.get("deleted"):
        return str(customer.get("email") or ""), True
    details = session.get("customer_details") or {}
    return str(details.get("email") or session.get("customer_email") or ""), False


def _pay_page(sim: Sim, session: dict[str, Any], *, status: int = 200,
              form: dict[str, str] | None = None, error: str | None = None,
              field_error: str | None = None) -> HTMLResponse:
    """The two-column Checkout page. `form`: what the person sent (kept after a decline);
    `error`: a card problem shown under the cards; `field_error`: under the promotion code."""
    form = form or {}
    business = business_name(sim.store)
    email, email_fixed = _email(sim, session)
    details = session.get("customer_details") or {}
    chosen = form.get("payment_method") or PAY_CARDS[0].alias
    return page(
        "pay.html", status, session=session, business=business,
        summary=summary(sim.store, session, business=business), cards=PAY_CARDS,
        chosen=chosen, email=form.get("email", email), email_fixed=email_fixed,
        name=form.get("name", details.get("name") or ""), error=error,
        promotion_code=form.get("promotion_code", ""), promotion_error=field_error,
        submit=submit_label(session), cancel=bool(session.get("cancel_url")))


def _closed(sim: Sim, session: dict[str, Any]) -> HTMLResponse:
    business = business_name(sim.store)
    if session["status"] == "complete":
        return message("You're all done here", "This checkout session is complete: the payment "
                       "went through.", link=_success_url(session), link_text="Continue",
                       business=business)
    return message("This page has expired", "This checkout session expired before it was paid. "
                   "Start again from the site you came from.", status=410,
                   link=session.get("cancel_url"), link_text=f"Return to {business}",
                   business=business)


@locked
def pay_page(request: Request) -> Response:
    sim = _sim(request)
    session = sim.store.get("checkout.session", request.path_params["id"])
    if session is None:
        return message("Not found", "There is no checkout session at this address.", 404)
    if session["status"] != "open":
        return _closed(sim, session)
    query = request.query_params
    form = {"payment_method": query["payment_method"]} if "payment_method" in query else {}
    return _pay_page(sim, session, form=form, error=_NOTICES.get(query.get("notice", "")))


def _pay(sim: Sim, session_id: str, form: dict[str, str]) -> Response:
    with sim.store.lock:
        session = sim.store.get("checkout.session", session_id)
        if session is None:
            return message("Not found", "There is no checkout session at this address.", 404)
        if session["status"] != "open":
            return _closed(sim, session)
        if form.get("action") == "apply_promotion_code":
            return _apply_promotion_code(sim, session, form)
        # An empty choice means "no card": a session collecting one only if required.
        chosen = form.get("payment_method")
        try:
            ensure_writable(sim.store, session["customer"])
            outcome = flow.complete(Ctx(sim, _call(sim, "/c/pay")), session,
                                    None if chosen == "" else chosen or PAY_CARDS[0].alias,
                                    email=form.get("email") or None, name=form.get("name") or None)
        except StripeError as exc:
            return _pay_page(sim, session, status=exc.http_status, form=form, error=exc.message)
        sim.store.save()
        if outcome == "complete":
            return RedirectResponse(_success_url(session), status_code=303)
        # The intent waiting for 3D Secure: the SetupIntent (setup mode) or the PaymentIntent.
        intent_id = (session["setup_intent"] or session["payment_intent"]
                     or _invoice_intent(sim, session))
        if intent_id is None:
            return message("Authentication needed", "This card needs authentication, which "
                           "stripesim cannot show for this session.", 409)
        return RedirectResponse(f"/c/3ds/{intent_id}?{urlencode({'session': session_id})}",
                                status_code=303)


def _apply_promotion_code(sim: Sim, session: dict[str, Any], form: dict[str, str]) -> Response:
    """Stripe's "Add promotion code" (shown when `allow_promotion_codes` is true).

    A code is looked up among the stored `promotion_code` objects (case-insensitive, active
    only), as Stripe matches them; an unknown code is "This code is invalid.".
    """
    code = form.get("promotion_code", "").strip()
    if not session.get("allow_promotion_codes"):
        return _pay_page(sim, session, status=400, form=form,
                         field_error="This checkout session does not accept promotion codes.")
    found = [p for p in sim.store.all("promotion_code")
             if str(p.get("code", "")).lower() == code.lower() and p.get("active", True)]
    if not code or not found:
        return _pay_page(sim, session, status=400, form=form, field_error="This code is invalid.")
    try:
        # The code's restrictions and the discount's arithmetic: the billing engine's.
        enter_code(Ctx(sim, _call(sim, "/c/pay")), session, code)
    except StripeError as exc:
        return _pay_page(sim, session, status=exc.http_status, form=form,
                         field_error=exc.message)
    sim.store.save()
    return _pay_page(sim, session, form=form)


def _invoice_intent(sim: Sim, session: dict[str, Any]) -> str | None:
    """The PaymentIntent of the session's first invoice (subscription mode)."""
    invoice = sim.store.get("invoice", str(session.get("invoice")))
    return str(invoice["_payment_intent"]) if invoice and invoice.get("_payment_intent") else None


async def pay_submit(request: Request) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    return await run_in_threadpool(_pay, _sim(request), request.path_params["id"], form)


@locked
def pay_cancel(request: Request) -> Response:
    """The page's back link: to `cancel_url` (the session stays open, as on Stripe)."""
    session = _sim(request).store.get("checkout.session", request.path_params["id"])
    if session is None:
        return message("Not found", "There is no checkout session at this address.", 404)
    return RedirectResponse(session.get("cancel_url") or "/", status_code=303)


def _intent(sim: Sim, intent_id: str) -> dict[str, Any] | None:
    """A PaymentIntent, or a SetupIntent (`seti_`: a card being set up in setup mode)."""
    kind = "setup_intent" if intent_id.startswith("seti_") else "payment_intent"
    return sim.store.get(kind, intent_id)


@locked
def three_ds_page(request: Request) -> Response:
    """Stripe's test 3D Secure page: the bank's challenge, passed or failed with one click."""
    sim = _sim(request)
    pi = _intent(sim, request.path_params["id"])
    if pi is None:
        return message("Not found", "There is no payment at this address.", 404)
    business = business_name(sim.store)
    session_id = request.query_params.get("session", "")
    if pi["status"] != "requires_action":
        session = sim.store.get("checkout.session", session_id)
        if session is not None and session["status"] == "complete":
            return RedirectResponse(_success_url(session), status_code=303)
        return message("Nothing to authenticate", "This payment does not need "
                       "authentication any more.", business=business)
    pm = sim.store.get("payment_method", str(pi.get("payment_method"))) or {}
    card = pm.get("card") or {}
    return page("3ds.html", pi=pi, session_id=session_id, business=business,
                card=card_label(str(card.get("brand", "card")), str(card.get("last4", ""))))


def _authenticate(sim: Sim, pi_id: str, session_id: str, succeed: bool) -> Response:
    with sim.store.lock:
        pi = _intent(sim, pi_id)
        if pi is None:
            return message("Not found", "There is no payment at this address.", 404)
        resource = setup_intents if pi["object"] == "setup_intent" else payment_intents
        try:
            resource.authenticate(_call(sim, "/c/3ds"), pi, succeed)
        except StripeError as exc:
            return message("Cannot authenticate", exc.message, 400)
        sim.store.save()
        session = sim.store.get("checkout.session", session_id) if session_id else None
        if session is None:
            outcome = "succeeded" if pi["status"] == "succeeded" else "failed authentication"
            return message("Authentication finished", f"The payment {outcome}.")
        if session["status"] == "complete":
            return RedirectResponse(_success_url(session), status_code=303)
        # Back to the page with Stripe's message and the card that failed still chosen.
        pm = sim.store.get("payment_method", str(pi.get("payment_method"))) or {}
        query = {"notice": "authentication_failed"}
        if pm.get("_test_card"):
            query["payment_method"] = str(pm["_test_card"])
        return RedirectResponse(f"/c/pay/{session_id}?{urlencode(query)}", status_code=303)


async def three_ds_submit(request: Request) -> Response:
    form = await request.form()
    succeed = form.get("outcome", "succeed") == "succeed"
    return await run_in_threadpool(_authenticate, _sim(request), request.path_params["id"],
                                   str(form.get("session", "")), succeed)


async def done_page(request: Request) -> Response:
    return message("Payment complete", "Thank you! Your payment went through.")


asgi_routes = [
    Route("/c/pay/{id}", pay_page, methods=["GET"]),
    Route("/c/pay/{id}", pay_submit, methods=["POST"]),
    Route("/c/pay/{id}/cancel", pay_cancel, methods=["GET", "POST"]),
    Route("/c/3ds/{id}", three_ds_page, methods=["GET"]),
    Route("/c/3ds/{id}", three_ds_submit, methods=["POST"]),
    Route("/c/done", done_page, methods=["GET"]),
]
