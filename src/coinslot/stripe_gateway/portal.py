"""Stripe portal: calls and the dataclasses they return."""

from __future__ import annotations

import stripe

__all__ = ["StripePortal"]


class StripePortal:
    def __init__(self, client: stripe.StripeClient) -> None:
        self._client = client
