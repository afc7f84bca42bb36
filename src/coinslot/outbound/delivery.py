"""One delivery of one outbox message: the Standard Webhooks envelope, its signature, the POST.

No database here: the sender claims a message, commits, and only then calls
`post`, so no transaction (and no row lock) is held while the host answers.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import httpx

from coinslot.clock import to_unix
from coinslot.outbound.signing import sign_headers

__all__ = ["Answer", "Delivery", "envelope", "post"]

_ERROR_BODY_CHARS = 300
USER_AGENT = "coinslot-webhooks/1"


@dataclass(frozen=True, slots=True)
class Delivery:
    """A message leased to a sender, detached from its session, with its body already built."""

    message_id: int
    webhook_id: str
    event_type: str
    attempts: int
    body: bytes


@dataclass(frozen=True, slots=True)
class Answer:
    """How the host answered: its HTTP status (None when nothing came back) and what went wrong."""

    status_code: int | None
    error: str | None

    @property
    def is_delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def envelope(*, event_type: str, created_at: dt.datetime, payload_json: str) -> bytes:
    """`{"type", "timestamp", "data"}` (Standard Webhooks); `timestamp` is when the change committed.

    Built from the stored row alone, so every attempt sends the same bytes.
    """
    timestamp = created_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    body = {"type": event_type, "timestamp": timestamp, "data": json.loads(payload_json)}
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def post(delivery: Delivery, *, client: httpx.Client, url: str, secret: str, now: dt.datetime) -> Answer:
    """POST one signed delivery. Never raises for the host's failures: they are the Answer."""
    headers = sign_headers(secret=secret, webhook_id=delivery.webhook_id, timestamp_s=to_unix(now),
                           body=delivery.body)
    headers |= {"content-type": "application/json", "user-agent": USER_AGENT}
    try:
        response = client.post(url, content=delivery.body, headers=headers)
    except httpx.HTTPError as exc:  # refused, reset, timed out: the host is down or slow, retry later
        return Answer(None, f"{type(exc).__name__}: {exc}"[:_ERROR_BODY_CHARS])
    if response.is_success:
        return Answer(response.status_code, None)
    # A redirect is a failure too: the signature covers this URL's delivery, not a hop elsewhere.
    return Answer(response.status_code, f"HTTP {response.status_code}: {response.text[:_ERROR_BODY_CHARS]}")
