"""The configured StripeClient. The only module (with its siblings) that imports `stripe`."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import stripe

__all__ = ["make_stripe_client", "retrieve_plain"]


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


def retrieve_plain(client: stripe.StripeClient, path: str, object_id: str, **params: Any) -> dict[str, Any]:
    """GET `path/object_id` as plain JSON data, through the client's own requestor (its key, retries,
    timeouts and errors: a failure raises the same StripeError as the SDK's `retrieve`).

    For the reads the webhook worker makes per event: the SDK's `retrieve` builds StripeObjects that the
    gateway turns straight back into dicts (`to_dict`), half of a read's CPU (docs/benchmarks.md).
    """
    response = client.raw_request("get", f"{path}/{quote(object_id, safe='')}", **params)
    data = response.data
    if not isinstance(data, dict):
        raise stripe.APIError(f"Stripe answered {path} with {type(data).__name__}, not an object")
    return data
