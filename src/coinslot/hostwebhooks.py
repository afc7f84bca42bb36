"""What a host app imports to check the webhooks coinslot sends it (Standard Webhooks):

    from coinslot.hostwebhooks import HostWebhookInvalid, verify_host_webhook
    event = verify_host_webhook(request.headers, raw_body, secret)  # raises HostWebhookInvalid

The signing itself is outbound's (`coinslot.outbound.signing`); this module is its public name for
hosts, and loads nothing else of coinslot.
"""

from __future__ import annotations

from coinslot.outbound.signing import (
    DEFAULT_TOLERANCE_S,
    HostWebhookInvalid,
    generate_secret,
    secret_key,
    sign,
    sign_headers,
    verify_host_webhook,
)

__all__ = [
    "DEFAULT_TOLERANCE_S",
    "HostWebhookInvalid",
    "generate_secret",
    "secret_key",
    "sign",
    "sign_headers",
    "verify_host_webhook",
]
