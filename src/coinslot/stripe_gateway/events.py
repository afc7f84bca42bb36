"""Stripe events: signature verification of webhook deliveries, and the Events API.

Verification is a module function, not a gateway method: the webhook route
must verify even when no API key is configured (receiving needs only the
signing secrets).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import stripe

from coinslot.errors import CoinslotError
from coinslot.stripe_gateway.client import retrieve_plain
from coinslot.stripe_gateway.errors import translate_stripe_errors
from coinslot.stripe_gateway.subscriptions import as_dict
from coinslot.stripe_ids import checked_stripe_id, is_stripe_id

__all__ = [
    "InvalidSignature",
    "MalformedEvent",
    "StripeEventData",
    "StripeEvents",
    "StripeTestClocks",
    "event_from_dict",
    "parse_stored_event",
    "parse_verified_event",
    "verify_signature",
]

SIGNATURE_TOLERANCE_S = 300  # Stripe's default: older deliveries are replays, refused


class InvalidSignature(CoinslotError):
    """The Stripe-Signature header is missing, forged, or too old: the body is not trusted."""

    code = "invalid_signature"
    http_status = 400


class MalformedEvent(CoinslotError):
    """A correctly signed body that is not a well-formed Stripe event: refused (400) and stored nowhere.

    Signed means it came from someone holding the secret, not that its fields are sound: `"data": [1]`,
    `"created": 1e30` and `"id": null` all used to reach the inbox (a 500, or an event stored as "None")."""

    code = "malformed_event"
    http_status = 400

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"signed body is not a well-formed Stripe event: {field} {problem}", field=field)


@dataclass(frozen=True, slots=True)
class StripeEventData:
    """An event envelope; `object` is `data.object` as plain dicts (parsed by the handler that needs it)."""

    id: str
    type: str
    created_s: int  # unix seconds
    livemode: bool
    api_version: str | None
    object: dict[str, Any]
    previous_attributes: dict[str, Any] | None

    @property
    def object_id(self) -> str | None:
        value = self.object.get("id")
        return str(value) if value is not None else None


# Bound once: `stripe`'s attributes load lazily, through an import lookup on every access.
_WebhookSignature = stripe.WebhookSignature
_SignatureVerificationError = stripe.SignatureVerificationError


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
            _WebhookSignature.verify_header(payload, header, secret, tolerance=tolerance_s)
            return
        except _SignatureVerificationError as exc:
            last_reason = str(exc.user_message or exc)
    raise InvalidSignature(f"Stripe-Signature rejected: {last_reason}")


_TYPE = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)+")
_CREATED_MAX = 10**11  # unix seconds: the year 5138; anything above is not a time Stripe sent
_API_VERSION_MAX_CHARS = 64  # the inbox's column
_TYPE_MAX_CHARS = 100


def event_from_dict(data: dict[str, Any]) -> StripeEventData:
    """The envelope of an event, each field checked for the type and bounds the inbox stores; MalformedEvent
    naming the first field that is not."""
    event_id = data.get("id")
    if not isinstance(event_id, str) or not is_stripe_id(event_id, "evt"):
        raise MalformedEvent("id", "must be a Stripe event id (evt_...)")
    event_type = data.get("type")
    if not isinstance(event_type, str) or len(event_type) > _TYPE_MAX_CHARS or not _TYPE.fullmatch(
            event_type):
        raise MalformedEvent("type", "must be an event type such as invoice.paid")
    created = data.get("created")
    if isinstance(created, bool) or not isinstance(created, int) or not 0 <= created <= _CREATED_MAX:
        raise MalformedEvent("created", "must be a whole number of unix seconds")
    livemode = data.get("livemode", False)
    if not isinstance(livemode, bool):
        raise MalformedEvent("livemode", "must be true or false")
    api_version = data.get("api_version")
    if api_version is not None and (not isinstance(api_version, str)
                                    or len(api_version) > _API_VERSION_MAX_CHARS):
        raise MalformedEvent("api_version", f"must be a string of at most {_API_VERSION_MAX_CHARS} "
                                            "characters")
    body = data.get("data")
    if not isinstance(body, dict) or not isinstance(body.get("object"), dict):
        raise MalformedEvent("data", "must be an object holding the event's object")
    previous = body.get("previous_attributes")
    if previous is not None and not isinstance(previous, dict):
        raise MalformedEvent("data.previous_attributes", "must be an object")
    object_id = body["object"].get("id")
    if object_id is not None and (not isinstance(object_id, str) or not 0 < len(object_id) <= 255):
        raise MalformedEvent("data.object.id", "must be a string of at most 255 characters")
    return StripeEventData(id=event_id, type=event_type, created_s=created, livemode=livemode,
                           api_version=api_version, object=body["object"], previous_attributes=previous)


def parse_verified_event(payload: bytes) -> StripeEventData:
    """The envelope of a body whose signature was verified; MalformedEvent if it is not an event."""
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
        raise MalformedEvent("body", "is not JSON") from None
    if not isinstance(data, dict) or data.get("object") != "event":
        raise MalformedEvent("object", 'must be "event"')
    return event_from_dict(data)


def parse_stored_event(payload: str) -> StripeEventData:
    """An event the inbox stored. Checked when it arrived; read leniently here, so a row an older release
    stored (before the envelope was checked field by field) is still processed as it was then."""
    data = json.loads(payload)
    body = data.get("data") if isinstance(data.get("data"), dict) else {}
    return StripeEventData(
        id=str(data["id"]), type=str(data["type"]), created_s=int(data.get("created") or 0),
        livemode=bool(data.get("livemode")), api_version=data.get("api_version"),
        object=dict(body.get("object") or {}), previous_attributes=body.get("previous_attributes"),
    )


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
        checked_stripe_id(test_clock_id, "clock", field="test_clock_id")
        with translate_stripe_errors("read the test clock"):
            found = retrieve_plain(self._client, "/v1/test_helpers/test_clocks", test_clock_id)
        return int(found["frozen_time"])
