"""POST /webhooks/stripe: verify, store, answer. No processing here (the worker does it).

And for the host's backend (API key): `GET /v1/events`, where each received Stripe event stands, so a
host (or its CI) can tell when processing is done without scraping the admin console.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request

from coinslot.api_contract import errors
from coinslot.deps import ContainerDep, rate_limit, require_scope
from coinslot.errors import PayloadTooLarge
from coinslot.limits import BIGINT_MAX
from coinslot.observability import WEBHOOK_EVENTS, WEBHOOK_MALFORMED, WEBHOOK_SIGNATURE_FAILURES
from coinslot.stripe_gateway.events import (
    InvalidSignature,
    MalformedEvent,
    parse_verified_event,
    verify_signature,
)
from coinslot.webhooks import service
from coinslot.webhooks.group_commit import inbox_writer
from coinslot.webhooks.inbox import WebhooksNotConfigured
from coinslot.webhooks.schemas import EventDetailOut, EventPage, attempt_out, event_out

router = APIRouter(tags=["webhooks"])
events_router = APIRouter(prefix="/v1/events", tags=["events"], dependencies=[Depends(require_scope("read"))])


async def _read_body(request: Request, limit_bytes: int) -> bytes:
    """The raw body, refused (413) past `limit_bytes` without reading the rest."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit_bytes:
        raise PayloadTooLarge(f"webhook body over {limit_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit_bytes:
            raise PayloadTooLarge(f"webhook body over {limit_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


# Stripe's, signed: not an API for hosts. Limited per source address: Stripe retries a 429 later.
@router.post("/webhooks/stripe", include_in_schema=False, dependencies=[Depends(rate_limit("webhooks"))])
async def receive_stripe_event(request: Request, container: ContainerDep) -> dict[str, bool]:
    """Store a signed Stripe event once; answer `{received, duplicate}` at once."""
    secrets = container.settings.webhook_secrets
    if not secrets:
        raise WebhooksNotConfigured(
            "no webhook signing secret configured: set COINSLOT_STRIPE_WEBHOOK_SECRETS=whsec_... "
            "(comma-separated during a rotation)"
        )
    body = await _read_body(request, container.settings.webhook_max_body_bytes)
    try:
        verify_signature(body, request.headers.get("stripe-signature"), secrets)
    except InvalidSignature:
        WEBHOOK_SIGNATURE_FAILURES.inc()
        raise
    try:
        event = parse_verified_event(body)
    except MalformedEvent as exc:
        WEBHOOK_MALFORMED.labels(exc.field or "body").inc()
        raise

    # Committed (with the deliveries that arrived alongside) before the answer: see group_commit.
    stored = inbox_writer(container.db).submit(event=event, payload=body, now=container.clock.now())
    is_new = await asyncio.wrap_future(stored)
    WEBHOOK_EVENTS.labels(event.type, "received" if is_new else "duplicate").inc()
    return {"received": True, "duplicate": not is_new}


EventStatus = Literal["received", "processing", "processed", "ignored", "failed", "dead"]


@events_router.get("", response_model=EventPage, operation_id="listEvents",
                   summary="Stripe events received, and where each stands", responses=errors())
def list_events(
    container: ContainerDep,
    status: Annotated[EventStatus | None, Query(description="only events in this state")] = None,
    type: Annotated[str | None, Query(max_length=100, description="only this type: invoice.paid")] = None,
    object_id: Annotated[str | None, Query(max_length=255,
                                           description="only events about this Stripe object")] = None,
    before: Annotated[int | None, Query(ge=1, le=BIGINT_MAX,
                                        description="the `position` of the last event seen")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="events per page")] = 50,
) -> EventPage:
    """Newest first. E.g. `?status=received` and `?status=failed` both empty: everything was applied."""
    with container.db.unit_of_work(read_only=True) as session:
        found = service.list_events(session, status=status, event_type=type, object_id=object_id,
                                    before_id=before, limit=limit + 1)
        return EventPage(data=[event_out(event) for event in found[:limit]], has_more=len(found) > limit)


@events_router.get("/{event_id}", response_model=EventDetailOut, operation_id="getEvent",
                   summary="One Stripe event, with its processing attempts", responses=errors(404))
def get_event(event_id: str, container: ContainerDep) -> EventDetailOut:
    """By Stripe's id (evt_...) or its position."""
    with container.db.unit_of_work(read_only=True) as session:
        detail = service.get_event(session, event_ref=event_id)
        return EventDetailOut(**event_out(detail.event).model_dump(),
                              attempt_history=[attempt_out(attempt) for attempt in detail.attempts])
