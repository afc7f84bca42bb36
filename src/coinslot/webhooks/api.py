"""POST /webhooks/stripe: verify, store, answer. No processing here (the worker does it)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request

from coinslot.deps import ContainerDep
from coinslot.errors import PayloadTooLarge
from coinslot.observability import WEBHOOK_EVENTS
from coinslot.stripe_gateway.events import parse_verified_event, verify_signature
from coinslot.webhooks.group_commit import inbox_writer
from coinslot.webhooks.inbox import WebhooksNotConfigured

router = APIRouter(tags=["webhooks"])


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


@router.post("/webhooks/stripe")
async def receive_stripe_event(request: Request, container: ContainerDep) -> dict[str, bool]:
    """Store a signed Stripe event once; answer `{received, duplicate}` at once."""
    secrets = container.settings.webhook_secrets
    if not secrets:
        raise WebhooksNotConfigured(
            "no webhook signing secret configured: set COINSLOT_STRIPE_WEBHOOK_SECRETS=whsec_... "
            "(comma-separated during a rotation)"
        )
    body = await _read_body(request, container.settings.webhook_max_body_bytes)
    verify_signature(body, request.headers.get("stripe-signature"), secrets)
    event = parse_verified_event(body)

    # Committed (with the deliveries that arrived alongside) before the answer: see group_commit.
    stored = inbox_writer(container.db).submit(event=event, payload=body, now=container.clock.now())
    is_new = await asyncio.wrap_future(stored)
    WEBHOOK_EVENTS.labels(event.type, "received" if is_new else "duplicate").inc()
    return {"received": True, "duplicate": not is_new}
