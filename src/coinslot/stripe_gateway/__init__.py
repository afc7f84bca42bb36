"""The only package that talks to Stripe.

It returns coinslot's own dataclasses (never `stripe.*` objects), maps
Stripe's errors to coinslot's (`errors.py`), and takes idempotency keys from
its callers, who derive them from saved row ids so that a retried request can
never create a second object at Stripe.

    gateway = StripeGateway.from_settings(settings)
    gateway.customers.create(...); gateway.checkout.create_session(...); ...
"""

from __future__ import annotations

from coinslot.config import Settings
from coinslot.errors import BillingDisabled
from coinslot.stripe_gateway.catalog import StripeCatalog
from coinslot.stripe_gateway.charges import StripeCharges
from coinslot.stripe_gateway.checkout import StripeCheckout
from coinslot.stripe_gateway.client import make_stripe_client
from coinslot.stripe_gateway.customers import StripeCustomers
from coinslot.stripe_gateway.errors import CardDeclined, translate_stripe_errors
from coinslot.stripe_gateway.events import StripeEvents, StripeTestClocks
from coinslot.stripe_gateway.invoices import StripeInvoices
from coinslot.stripe_gateway.meters import StripeMeters
from coinslot.stripe_gateway.payments import StripePayments
from coinslot.stripe_gateway.portal import StripePortal
from coinslot.stripe_gateway.subscriptions import StripeSubscriptions

__all__ = ["CardDeclined", "StripeGateway", "translate_stripe_errors"]


class StripeGateway:
    """One configured Stripe account (test or live), split by resource."""

    def __init__(self, api_key: str, *, api_base: str | None = None, timeout_s: float = 20.0,
                 max_network_retries: int = 2) -> None:
        self.livemode = api_key.startswith(("sk_live_", "rk_live_"))
        client = make_stripe_client(
            api_key, api_base=api_base, timeout_s=timeout_s, max_network_retries=max_network_retries
        )
        self.customers = StripeCustomers(client)
        self.catalog = StripeCatalog(client)
        self.checkout = StripeCheckout(client)
        self.subscriptions = StripeSubscriptions(client)
        self.portal = StripePortal(client)
        self.invoices = StripeInvoices(client)
        self.events = StripeEvents(client)
        self.charges = StripeCharges(client)
        self.test_clocks = StripeTestClocks(client)
        self.payments = StripePayments(client)
        self.meters = StripeMeters(client)

    @classmethod
    def from_settings(cls, settings: Settings) -> StripeGateway:
        if settings.stripe_secret_key is None:
            raise BillingDisabled("COINSLOT_STRIPE_SECRET_KEY is not set", code="stripe_not_configured")
        return cls(
            settings.stripe_secret_key.get_secret_value(),
            api_base=settings.stripe_api_base,
            timeout_s=settings.stripe_timeout_s,
            max_network_retries=settings.stripe_max_network_retries,
        )
