"""The inbox: store a verified Stripe event exactly once, and nothing else.

Receiving is separate from processing (Polar's inbox, Pay's controller): the
request verifies, inserts with ON CONFLICT DO NOTHING on the Stripe event id,
commits and answers. A duplicate delivery is a no-op that still answers 200,
so Stripe stops retrying; a lookup miss can never turn into a 4xx here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from coinslot.errors import CoinslotError
from coinslot.stripe_gateway.events import StripeEventData
from coinslot.webhooks import repository

__all__ = ["WebhooksNotConfigured", "store_event", "store_events"]


class WebhooksNotConfigured(CoinslotError):
    """No signing secret is configured: the route refuses rather than verify against an empty key."""

    code = "webhook_secret_missing"
    http_status = 503


def store_event(session: Session, *, event: StripeEventData, payload: bytes, now: dt.datetime) -> bool:
    """Insert the event unless its Stripe id is already stored. True when it is new."""
    return store_events(session, [(event, payload, now)])[0]


def store_events(
    session: Session, received: Sequence[tuple[StripeEventData, bytes, dt.datetime]]
) -> list[bool]:
    """`store_event` for several events in one go (a batch of deliveries): for each, True when it is new.
    The same event twice in the batch is new once, the first time."""
    rows: dict[str, dict[str, Any]] = {}
    for event, payload, now in received:
        rows.setdefault(event.id, {
            "stripe_event_id": event.id,
            "type": event.type,
            "livemode": event.livemode,
            "api_version": event.api_version,
            "object_id": event.object_id,
            "payload": payload.decode("utf-8"),
            "stripe_created": event.created_s,
            "received_at": now,
            "status": "received",
            "attempts": 0,
            "next_attempt_at": now,
        })
    inserted = repository.insert_events(session, rows=list(rows.values()))
    answers = []
    for event, _, _ in received:
        answers.append(event.id in inserted)
        inserted.discard(event.id)  # a second delivery of it in the batch is a duplicate
    return answers
