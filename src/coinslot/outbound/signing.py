"""Standard Webhooks signing (https://www.standardwebhooks.com) of the events coinslot sends the host.

coinslot signs with `sign_headers`; the host checks with `verify_host_webhook`, which hosts import as
`coinslot.hostwebhooks` (the public name). Only the standard library, so a host can import it without
loading the rest of coinslot.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from typing import Any

__all__ = [
    "DEFAULT_TOLERANCE_S",
    "HostWebhookInvalid",
    "generate_secret",
    "secret_key",
    "sign",
    "sign_headers",
    "verify_host_webhook",
]

SECRET_PREFIX = "whsec_"
# Five minutes either way: wide enough for clock drift, narrow enough that a captured
# request cannot be replayed later (the spec's recommendation).
DEFAULT_TOLERANCE_S = 300


class HostWebhookInvalid(ValueError):
    """The request is not a genuine, fresh coinslot webhook: answer 400 and ignore it."""


def generate_secret() -> str:
    """A new signing secret, `whsec_` + base64 of 32 random bytes (COINSLOT_HOST_WEBHOOK_SECRET)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key: the base64 part of `whsec_<base64>`. ValueError when it is not base64."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise ValueError("a webhook secret is whsec_ followed by base64 (see generate_secret)") from exc
    if not key:
        raise ValueError("the webhook secret is empty")
    return key


def sign(*, secret: str, webhook_id: str, timestamp_s: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`."""
    signed = f"{webhook_id}.{timestamp_s}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def sign_headers(*, secret: str, webhook_id: str, timestamp_s: int, body: bytes) -> dict[str, str]:
    """The three headers of one delivery."""
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp_s),
        "webhook-signature": sign(secret=secret, webhook_id=webhook_id, timestamp_s=timestamp_s, body=body),
    }


def verify_host_webhook(
    headers: Mapping[str, str],
    body: bytes | str,
    secret: str,
    *,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now_s: float | None = None,
) -> dict[str, Any]:
    """Check a delivery's signature and freshness on the raw body; return the parsed event.

    `headers` may be any mapping (any case); `body` must be the bytes as received,
    before any JSON parsing. Raises HostWebhookInvalid. Several signatures (a
    secret being rotated) pass when any one matches. Deliveries are at least
    once: dedupe on `headers["webhook-id"]`.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    webhook_id = lowered.get("webhook-id")
    timestamp = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not webhook_id or not timestamp or not signatures:
        raise HostWebhookInvalid("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp_s = int(timestamp)
    except ValueError as exc:
        raise HostWebhookInvalid("webhook-timestamp is not unix seconds") from exc
    # The host's own wall clock: this runs in the host app, not inside coinslot.
    current_s = time.time() if now_s is None else now_s
    if abs(current_s - timestamp_s) > tolerance_s:
        raise HostWebhookInvalid(f"webhook-timestamp is more than {tolerance_s} s away from now")
    raw = body.encode() if isinstance(body, str) else body
    expected = sign(secret=secret, webhook_id=webhook_id, timestamp_s=timestamp_s, body=raw)
    if not any(hmac.compare_digest(expected.encode(), sent.encode()) for sent in signatures.split()):
        raise HostWebhookInvalid("no webhook-signature matches")
    try:
        event: dict[str, Any] = json.loads(raw)
    except ValueError as exc:
        raise HostWebhookInvalid("the body is not JSON") from exc
    return event
