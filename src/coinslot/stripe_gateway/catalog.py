"""Stripe catalog: calls and the dataclasses they return."""

from __future__ import annotations

import stripe

__all__ = ["StripeCatalog"]


class StripeCatalog:
    def __init__(self, client: stripe.StripeClient) -> None:
        self._client = client
