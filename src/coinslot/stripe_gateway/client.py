"""The configured StripeClient. The only module (with its siblings) that imports `stripe`."""

from __future__ import annotations

from typing import Any

import stripe

__all__ = ["make_stripe_client"]


def make_stripe_client(
    api_key: str, *, api_base: str | None, timeout_s: float, max_network_retries: int
) -> stripe.StripeClient:
    """A StripeClient, pointed at `api_base` (stripesim) when given.

    `base_addresses` is the supported way: StripeClient ignores the legacy
    module-level `stripe.api_base`.
    """
    kwargs: dict[str, Any] = {
        "max_network_retries": max_network_retries,
        "http_client": stripe.HTTPXClient(timeout=timeout_s, allow_sync_methods=True),
    }
    if api_base:
        base = api_base.rstrip("/")
        kwargs["base_addresses"] = {"api": base, "files": base, "connect": base}
    return stripe.StripeClient(api_key, **kwargs)
