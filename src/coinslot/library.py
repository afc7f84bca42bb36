"""Library mode: coinslot inside a host's own FastAPI app, called in-process.

    from coinslot import library
    billing = library.mount(app, Settings(), user_id=lambda request: request.state.user_id)

    @app.post("/export", dependencies=[Depends(billing.require_feature("export"))])   # 402 when refused
    def export() -> ...: ...

    @app.post("/upgrade")
    def upgrade(user: User, billing: library.BillingDep) -> RedirectResponse:
        started = billing.start_checkout(host_user_id=user.id, plan="pro", success_url=..., cancel_url=...)
        return RedirectResponse(started.url, status_code=303)

The mounted sub-application serves the REST API, the Stripe webhook receiver
(`<path>/webhooks/stripe`) and the pages. Starlette does not run a mounted
app's lifespan, so background work (the webhook worker) runs as `coinslot
worker`, or by calling `billing.start_background()` from the host's lifespan.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request

from coinslot.app import BACKGROUND_STARTERS, create_app
from coinslot.catalog import service as catalog_service
from coinslot.catalog.core import Interval
from coinslot.checkout import core, flows
from coinslot.checkout.service import FulfilResult
from coinslot.clock import Clock
from coinslot.config import Settings
from coinslot.container import Container
from coinslot.customers import flows as customer_flows
from coinslot.db import Database
from coinslot.entitlements.fastapi import FeatureGuard, UserIdOf
from coinslot.models import Customer, Order
from coinslot.overview import service as overview
from coinslot.overview.schemas import CustomerSummary, summary_out

__all__ = ["Billing", "BillingDep", "get_billing", "mount"]


class Billing(FeatureGuard):
    """The in-process facade: the same use cases as the REST API, without HTTP.

    Entitlements (`check`, `consume`, `require_feature`) come from FeatureGuard.
    """

    def __init__(self, container: Container, *, user_id: UserIdOf | None = None) -> None:
        super().__init__(container, user_id=user_id)
        self._stops: list[Callable[[], Any]] = []

    def ensure_customer(
        self, *, host_user_id: str, email: str | None = None, name: str | None = None
    ) -> Customer:
        """The user's customer, linked to exactly one Stripe customer."""
        return customer_flows.ensure_stripe_customer(
            self.container, host_user_id=host_user_id, email=email, name=name
        )

    def customer(self, host_user_id: str) -> CustomerSummary:
        """Plan, subscription status and dates, and credits (as `GET /v1/customers/{id}` answers)."""
        return summary_out(overview.read_customer_state(self.container, host_user_id=host_user_id))

    def state(self, host_user_id: str) -> overview.CustomerState:
        """The customer's whole state: plan, subscription, credits with their parts and this period's use."""
        return overview.read_customer_state(self.container, host_user_id=host_user_id)

    def start_checkout(
        self,
        *,
        host_user_id: str,
        success_url: str,
        cancel_url: str,
        plan: str | None = None,
        interval: Interval | None = None,
        product: str | None = None,
        pack: str | None = None,
        quantity: int = 1,
        payload: dict[str, Any] | None = None,
        email: str | None = None,
    ) -> flows.StartedCheckout:
        """Start a hosted Checkout; redirect the browser to `.url`."""
        item = core.ItemRequest(plan=plan, interval=interval, product=product, pack=pack, quantity=quantity)
        return flows.start_checkout(
            self.container,
            host_user_id=host_user_id,
            item=item,
            success_url=success_url,
            cancel_url=cancel_url,
            email=email,
            payload=payload,
        )

    def fulfil_checkout(self, session_id: str, *, host_user_id: str | None = None) -> FulfilResult:
        """Call from the success page: applies the purchase now if paid (idempotent with the webhook)."""
        return flows.fulfil_return(self.container, session_id=session_id, host_user_id=host_user_id)[1]

    def create_order(self, *, host_user_id: str, product: str, payload: dict[str, Any]) -> Order:
        """Save a DRAFT order with the user's form."""
        return flows.create_order(self.container, host_user_id=host_user_id, product=product, payload=payload)

    def checkout_order(self, order_id: str, *, success_url: str, cancel_url: str) -> flows.StartedCheckout:
        """Checkout for a DRAFT order (first time, or resuming an abandoned one)."""
        return flows.start_order_checkout(
            self.container, order_id=order_id, success_url=success_url, cancel_url=cancel_url
        )

    def start_background(self) -> None:
        """Start what `coinslot serve` runs beside the API (e.g. the in-process webhook worker)."""
        for start in BACKGROUND_STARTERS:
            stop = start(self.container)
            if stop is not None:
                self._stops.append(stop)

    def stop_background(self) -> None:
        while self._stops:
            self._stops.pop()()


def mount(
    app: FastAPI,
    settings: Settings | None = None,
    *,
    path: str = "/coinslot",
    db: Database | None = None,
    clock: Clock | None = None,
    user_id: UserIdOf | None = None,
) -> Billing:
    """Serve coinslot under `path` in the host app and return the in-process facade (also `BillingDep`).

    `user_id(request)` tells coinslot who the host's signed-in user is; `require_feature` needs it.
    """
    settings = settings or Settings()
    catalog_service.startup_check(settings)
    sub_app = create_app(settings, db=db, clock=clock, configure_logs=False)
    app.mount(path, sub_app)
    billing = Billing(sub_app.state.container, user_id=user_id)
    app.state.coinslot_billing = billing
    return billing


def get_billing(request: Request) -> Billing:
    """FastAPI dependency: the Billing facade of the app `mount` was called on."""
    billing: Billing = request.app.state.coinslot_billing
    return billing


BillingDep = Annotated[Billing, Depends(get_billing)]
