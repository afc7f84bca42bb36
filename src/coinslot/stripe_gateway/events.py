"""Stripe events: signature verification of webhook deliveries, and the Events API.

Verification is a module function, not a gateway method: the webhook route
must verify even when no API key is configured (receiving needs only the
signing secrets).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import stripe

from coinslot.errors import CoinslotError
from coinslot.stripe_gateway.errors import translate_stripe_errors
from coinslot.stripe_gateway.subscriptions import as_dict

__all__ = [
    "InvalidSignature",
    "StripeEventData",
    "StripeEvents",
    "StripeTestClocks",
    "event_from_dict",
    "parse_verified_event",
    "verify_signature",
]

SIGNATURE_TOLERANCE_S = 300  # Stripe's default: older deliveries are replays, refused


class InvalidSignature(CoinslotError):
    """The Stripe-Signature header is missing, forged, or too old: the body is not trusted."""

    code = "invalid_signature"
    http_status = 400


@dataclass(frozen=True, slots=True)
class StripeEventData:
    """An event envelope; `object` is `data.object` as plain dicts (parsed by the handler that needs it)."""

    id: str
    type: str
    created: int  # unix seconds
    livemode: bool
    api_version: str | None
    object: dict[str, Any]
    previous_attributes: dict[str, Any] | None

    @property
    def object_id(self) -> str | None:
        value = self.object.get("id")
        return str(value) if value is not None else None


def verify_signature(
    payload: bytes, header: str | None, secrets: Sequence[str], *, tolerance_s: int = SIGNATURE_TOLERANCE_S
) -> None:
    """Accept the body if its signature matches any of `secrets` (several during a rotation).

    Raises InvalidSignature otherwise. An empty list of secrets is a
    programming error: the caller must refuse before (never verify against "").
    """
    usable = [secret for secret in secrets if secret.strip()]
    if not usable:
        raise ValueError("no webhook signing secret to verify against")
    last_reason = "no signature"
    for secret in usable:
        try:
            stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=tolerance_s)
            return
        except stripe.SignatureVerificationError as exc:
            last_reason = str(exc.user_message or exc)
    raise InvalidSignature(f"Stripe-Signature rejected: {last_reason}")


def event_from_dict(data: dict[str, Any]) -> StripeEventData:
    body = data.get("data") or {}
    return StripeEventData(
        id=str(data["id"]),
        type=str(data["type"]),
        created=int(data.get("created") or 0),
        livemode=bool(data.get("livemode")),
        api_version=data.get("api_version"),
        object=dict(body.get("object") or {}),
        previous_attributes=body.get("previous_attributes"),
    )


def parse_verified_event(payload: bytes) -> StripeEventData:
    """The envelope of a body whose signature was verified; InvalidSignature if it is not an event."""
    try:
        data = json.loads(payload)
        if not isinstance(data, dict) or data.get("object") != "event":
            raise ValueError("not an event object")
        return event_from_dict(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidSignature(f"signed body is not a Stripe event: {exc}") from exc


class StripeEvents:
    def __init__(self, client: stripe.StripeClient) -> None:
        self._client = client

    def list_since(
        self, *, created_gte: int | None, types: Sequence[str] = (), page_size: int = 100
    ) -> Iterator[list[tuple[StripeEventData, str]]]:
        """Every event Stripe lists (it keeps 30 days) created at or after `created_gte`, a page at a
        time, newest first, each with its JSON body. `types`: only these (Stripe takes at most 20)."""
        params: dict[str, Any] = {"limit": page_size}
        if created_gte is not None:
            params["created"] = {"gte": created_gte}
        if types:
            params["types"] = list(types)
        while True:
            with translate_stripe_errors("list events"):
                page = self._client.v1.events.list(params=params)  # type: ignore[arg-type]
            found = []
            for event in page.data:
                plain = as_dict(event)
                found.append((event_from_dict(plain), json.dumps(plain, default=str)))
            if found:
                yield found
            if not page.has_more or not page.data:
                return
            params["starting_after"] = page.data[-1].id


class StripeTestClocks:
    def __init__(self, client: stripe.StripeClient) -> None:
        self._client = client

    def frozen_time(self, test_clock_id: str) -> int:
        """A test clock's time (unix seconds): what "now" is for the customers on it."""
        with translate_stripe_errors("read the test clock"):
            return int(self._client.v1.test_helpers.test_clocks.retrieve(test_clock_id).frozen_time)
