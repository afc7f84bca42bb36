"""dj-stripe syncs a realistic stream of stripesim's webhooks; prints a JSON report.

Run with dj-stripe's own virtualenv (tests/clients/test_djstripe.py does it):

    STRIPESIM_URL=http://127.0.0.1:12111 DJSTRIPE_DB=/tmp/djstripe.sqlite3 \\
        .venv-djstripe/bin/python clients/djstripe/run_stream.py [--migrate-only]

1. migrates a fresh SQLite database and serves the Django project (harness/) on
   loopback, so dj-stripe's own webhook view receives stripesim's deliveries;
2. registers that view as a stripesim webhook endpoint for every event, in
   dj-stripe's API version, the way dj-stripe's admin does it (metadata
   `djstripe_uuid`), and mirrors the endpoint into dj-stripe;
3. drives a stream on a test clock: customers subscribing through Checkout,
   renewals, a one-time purchase with its invoice, a refund, a plan change,
   cancellations; then delivers every webhook;
4. runs dj-stripe's full sync (`djstripe_sync_models`) of the same kinds;
5. reports every webhook dj-stripe received (valid, processed, the exception if
   any), the sync's errors, and how many objects of each kind it holds. Exit
   status 1 if any delivery failed, any trigger holds an error or the sync failed.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import urllib.request
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from uuid import uuid4
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "harness.settings")

import django

django.setup()

import shapes  # noqa: E402
import stripe  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

SIM_URL = os.environ["STRIPESIM_URL"].rstrip("/")
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z: the clock's start, whatever the date today
DAY = 86_400


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def control(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """A stripesim control route (/_sim/...), JSON in and out."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(SIM_URL + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def serve_django() -> str:
    server = make_server("127.0.0.1", 0, get_wsgi_application(), server_class=_Server,
                         handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}"


def register_endpoint(base_url: str) -> None:
    """What dj-stripe's admin does when one adds an endpoint: create it at Stripe with the
    dj-stripe uuid in its metadata, then keep Stripe's answer (and secret) locally."""
    from djstripe.models import WebhookEndpoint
    from djstripe.settings import djstripe_settings

    uuid = uuid4()
    created = stripe.WebhookEndpoint.create(
        url=f"{base_url}/stripe/webhook/{uuid}/", enabled_events=["*"],
        api_version=djstripe_settings.STRIPE_API_VERSION, metadata={"djstripe_uuid": str(uuid)})
    WebhookEndpoint.sync_from_stripe_data(created)


def checkout_subscription(price_id: str, email: str, clock_id: str) -> str:
    customer = stripe.Customer.create(email=email, name=email.split("@")[0].title(),
                                      test_clock=clock_id)
    session = stripe.checkout.Session.create(
        mode="subscription", customer=customer.id, line_items=[{"price": price_id, "quantity": 1}],
        success_url="https://app.example/ok?session_id={CHECKOUT_SESSION_ID}",
        subscription_data={"metadata": {"user": email}})
    control("POST", f"/_sim/checkout/sessions/{session.id}/complete",
            {"payment_method": "pm_card_visa"})
    return str(customer.id)


def advance(clock_id: str, frozen_time: int) -> None:
    control("POST", f"/_sim/test_clocks/{clock_id}/advance", {"frozen_time": frozen_time})


def drive_stream() -> None:
    pro = stripe.Product.create(name="Pro", description="Everything")
    monthly = stripe.Price.create(product=pro.id, currency="usd", unit_amount=2000,
                                  recurring={"interval": "month"}, lookup_key="pro_monthly",
                                  currency_options={"eur": {"unit_amount": 1900}})
    team = stripe.Price.create(product=pro.id, currency="usd", unit_amount=5000,
                               recurring={"interval": "month"}, lookup_key="team_monthly")
    credits = stripe.Product.create(name="Credit pack")
    pack = stripe.Price.create(product=credits.id, currency="usd", unit_amount=900)
    clock = stripe.test_helpers.TestClock.create(frozen_time=T0, name="dj-stripe stream")
    names = ("ada", "grace", "linus", "hedy", "alan", "barbara")
    subscribers = dict(zip(names, (checkout_subscription(monthly.id, f"{name}@example.com",
                                                         clock.id) for name in names),
                           strict=True))
    # A one-time purchase with a receipt invoice, partly refunded.
    buyer = stripe.Customer.create(email="buyer@example.com", test_clock=clock.id)
    session = stripe.checkout.Session.create(
        mode="payment", customer=buyer.id, line_items=[{"price": pack.id, "quantity": 3}],
        invoice_creation={"enabled": True}, success_url="https://app.example/ok")
    paid = control("POST", f"/_sim/checkout/sessions/{session.id}/complete",
                   {"payment_method": "pm_card_mastercard"})
    stripe.Refund.create(payment_intent=paid["payment_intent"], amount=900,
                         reason="requested_by_customer")
    advance(clock.id, T0 + 32 * DAY)  # first renewals
    # Grace upgrades; Linus leaves at the end of the period; Hedy's card starts failing.
    grace = stripe.Subscription.list(customer=subscribers["grace"]).data[0]
    stripe.Subscription.modify(grace.id, items=[{"id": grace["items"].data[0].id, "price": team.id}],
                               proration_behavior="always_invoice")
    linus = stripe.Subscription.list(customer=subscribers["linus"]).data[0]
    stripe.Subscription.modify(linus.id, cancel_at_period_end=True)
    # Barbara gets a promotion code: 25% off for two months.
    coupon = stripe.Coupon.create(percent_off=25, duration="repeating", duration_in_months=2,
                                  name="Loyalty")
    code = stripe.PromotionCode.create(promotion={"type": "coupon", "coupon": coupon.id},
                                       code="LOYAL25")
    barbara = stripe.Subscription.list(customer=subscribers["barbara"]).data[0]
    stripe.Subscription.modify(barbara.id, discounts=[{"promotion_code": code.id}])
    hedy_card = stripe.Customer.list_payment_methods(subscribers["hedy"]).data[0]
    control("POST", f"/_sim/payment_methods/{hedy_card.id}/behave_like",
            {"card": "pm_card_chargeCustomerFail"})
    advance(clock.id, T0 + 62 * DAY)  # second renewals: Linus's ends, Hedy's fails and retries
    advance(clock.id, T0 + 92 * DAY)  # third renewals; Hedy's retries run out
    ada = stripe.Subscription.list(customer=subscribers["ada"]).data[0]
    stripe.Subscription.cancel(ada.id)


# What `manage.py djstripe_sync_models` is asked for after the stream: a full re-sync through
# the list endpoints, which also brings in what no webhook handler of dj-stripe syncs (refunds).
SYNCED_MODELS = ("Account", "Customer", "Product", "Price", "Coupon", "PromotionCode", "Session",
                 "Subscription", "Invoice", "PaymentIntent", "Charge", "Refund",
                 "BalanceTransaction", "PaymentMethod")


def full_sync() -> list[str]:
    """Run dj-stripe's sync command; the lines it printed about failures."""
    from io import StringIO

    out, err = StringIO(), StringIO()
    try:
        call_command("djstripe_sync_models", *SYNCED_MODELS, fail_on_error=True, stdout=out,
                     stderr=err)
    except Exception as exc:  # the command's own failure summary; details are in `err`
        return [f"{type(exc).__name__}: {exc}", *err.getvalue().splitlines()[-40:]]
    return [line for line in err.getvalue().splitlines() if line.strip()]


def report(sync_errors: list[str]) -> dict[str, Any]:
    from djstripe import models

    triggers = list(models.WebhookEventTrigger.objects.order_by("id"))
    errors = [{"event_type": (t.json_body or {}).get("type"), "valid": t.valid,
               "processed": t.processed, "exception": t.exception,
               "traceback": t.traceback[-1500:]}
              for t in triggers if not (t.valid and t.processed) or t.exception]
    deliveries = control("GET", "/_sim/deliveries")["data"]
    # Every payload in dj-stripe's version, against that version's SDK classes (stripe 15.6).
    shape_problems = sorted({problem for t in triggers
                             for problem in shapes.problems((t.json_body or {}).get("data", {})
                                                            .get("object") or {})})
    kinds = {"customers": models.Customer, "products": models.Product, "prices": models.Price,
             "checkout_sessions": models.Session, "subscriptions": models.Subscription,
             "invoices": models.Invoice, "payment_intents": models.PaymentIntent,
             "charges": models.Charge, "refunds": models.Refund,
             "balance_transactions": models.BalanceTransaction, "coupons": models.Coupon,
             "promotion_codes": models.PromotionCode, "events": models.Event,
             "accounts": models.Account}
    return {
        "api_version": models.WebhookEndpoint.objects.get().api_version,
        "deliveries": len(deliveries),
        "deliveries_failed": [d for d in deliveries if d["status"] != "succeeded"],
        "events_delivered": len({d["event_id"] for d in deliveries}),
        "triggers": len(triggers),
        "errors": errors,
        "sync_errors": sync_errors,
        "shape_problems": shape_problems,
        "synced": {name: model.objects.count() for name, model in kinds.items()},
        "event_types": sorted({(t.json_body or {}).get("type", "?") for t in triggers}),
    }


def main(argv: list[str]) -> int:
    # Migrating dj-stripe's ~100 migrations takes ~40 s: the test command does it once into a
    # template database (--migrate-only) that each run copies; `migrate` then only checks.
    call_command("migrate", verbosity=0, interactive=False)
    if "--migrate-only" in argv:
        return 0
    stripe.api_key = "sk_test_51DjstripeHarnessStripesimKey0000"
    stripe.api_base = SIM_URL
    register_endpoint(serve_django())
    drive_stream()
    control("POST", "/_sim/flush", {"timeout_s": 120})
    found = report(full_sync())
    print(json.dumps(found, indent=2))
    failed = found["errors"] or found["deliveries_failed"] or found["sync_errors"]
    return 1 if failed or found["shape_problems"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
