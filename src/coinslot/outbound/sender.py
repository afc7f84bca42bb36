"""The sender: claim due outbox messages, POST each to the host (signed), retry, dead-letter.

    claim (short tx) ──> post (no tx: HTTP to the host) ──> record (tx)
                                         2xx       -> delivered
                                         otherwise -> failed, next_attempt_at = now + backoff (capped)
                                         too many  -> dead + alert (console, log; never an outbound
                                                      alert: it would travel the failing channel)

The outbox is a queue (`coinslot.queue`, kind HOST_WEBHOOKS, like the Stripe-event inbox): several
senders in several processes share the outbox, and a sender killed
mid-delivery leaves its messages to be sent again, with the same `webhook-id`,
once the lease runs out. Delivery is therefore at least once; hosts dedupe on
`webhook-id`. Without `host_webhook_url` nothing is claimed: messages stay
pending and visible (`coinslot outbound list`).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Protocol

import httpx

from coinslot.alerts import service as alerts
from coinslot.clock import Clock
from coinslot.config import Settings
from coinslot.db import Database
from coinslot.errors import InvalidInput
from coinslot.observability import OUTBOUND_DELIVERIES
from coinslot.outbound.delivery import Answer, Delivery, envelope, post
from coinslot.outbound.signing import secret_key
from coinslot.queue import policy
from coinslot.queue import repository as queue
from coinslot.queue.kinds import HOST_WEBHOOKS
from coinslot.queue.runner import new_worker_id, run_loop, start_loop_thread

__all__ = [
    "BATCH_SIZE",
    "Runtime",
    "claim",
    "deliver_due",
    "lease_s",
    "new_client",
    "record",
    "run_sender",
    "signing_secret",
    "start_sender",
]

log = logging.getLogger("coinslot.outbound")
BATCH_SIZE = 10
_LEASE_SLACK_S = 30.0


class Runtime(Protocol):
    """What the sender needs of the process (the app's Container has it)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def db(self) -> Database: ...

    @property
    def clock(self) -> Clock: ...


def retry_policy(settings: Settings) -> policy.RetryPolicy:
    return policy.RetryPolicy(base_s=settings.host_webhook_retry_base_s,
                              cap_s=settings.host_webhook_retry_cap_s,
                              max_attempts=settings.host_webhook_max_attempts)


def lease_s(settings: Settings, *, limit: int) -> float:
    """Long enough for a whole batch of timed-out POSTs: a lease that ran out mid-batch would let
    another sender send the same message while this one still might."""
    return settings.host_webhook_timeout_s * limit + _LEASE_SLACK_S


def signing_secret(settings: Settings) -> str:
    """The configured secret, checked; InvalidInput when a URL is set without a usable one."""
    secret = settings.host_webhook_secret.get_secret_value() if settings.host_webhook_secret else ""
    try:
        secret_key(secret)
    except ValueError as exc:
        raise InvalidInput(
            f"COINSLOT_HOST_WEBHOOK_SECRET must be whsec_<base64> when a host webhook URL is set: {exc}",
            field="host_webhook_secret",
        ) from exc
    return secret


def claim(runtime: Runtime, *, sender: str, limit: int) -> list[Delivery]:
    """Lease up to `limit` due messages to `sender` and build their bodies (one short transaction)."""
    now = runtime.clock.now()
    lease_until = now + dt.timedelta(seconds=lease_s(runtime.settings, limit=limit))
    with runtime.db.unit_of_work() as session:
        rows = queue.claim_due(session, HOST_WEBHOOKS, now=now, worker=sender, lease_until=lease_until,
                               limit=limit)
        return [
            Delivery(
                message_id=row.id,
                webhook_id=row.webhook_id,
                event_type=row.event_type,
                attempts=row.attempts,
                body=envelope(event_type=row.event_type, created_at=row.created_at, payload_json=row.payload),
            )
            for row in rows
        ]


def record(runtime: Runtime, delivery: Delivery, answer: Answer, *, sender: str) -> str:
    """Keep the outcome of one attempt; the outcome (delivered | failed | dead | lease_lost)."""
    settings = runtime.settings
    now = runtime.clock.now()
    with runtime.db.unit_of_work() as session:
        row = queue.held_lease(session, HOST_WEBHOOKS, row_id=delivery.message_id, worker=sender)
        if row is None:
            return "lease_lost"  # another sender reclaimed it and sends it (same webhook-id)
        row.last_status_code = answer.status_code
        row.last_error = answer.error
        if answer.is_delivered:
            row.status, row.delivered_at, row.next_attempt_at = "delivered", now, None
            row.locked_by = row.locked_until = None
        elif policy.fail(row, policy=retry_policy(settings), seed=row.webhook_id, now=now) == "dead":
            # Recorded, never announced to the host: it would travel the failing channel.
            alerts.record(
                session,
                code="outbound.dead",
                now=now,
                subject_type="outbox_message",
                subject_id=row.webhook_id,
                message=f"webhook {row.webhook_id} ({row.event_type}) to the host is dead after "
                f"{row.attempts} attempt(s): {answer.error}. Fix the host, then "
                f"`coinslot outbound replay {row.webhook_id}`.",
            )
        outcome = row.status
    OUTBOUND_DELIVERIES.labels(delivery.event_type, outcome).inc()
    if outcome != "delivered":
        log.warning(
            "webhook to the host failed",
            extra={"webhook_id": delivery.webhook_id, "event_type": delivery.event_type,
                   "attempt": delivery.attempts, "outcome": outcome, "error": answer.error},
        )
    return outcome


def deliver_due(
    runtime: Runtime,
    *,
    limit: int = BATCH_SIZE,
    sender: str | None = None,
    client: httpx.Client | None = None,
) -> int:
    """Claim and deliver one batch synchronously; the number claimed (0 = nothing due, or no URL)."""
    url = runtime.settings.host_webhook_url
    if not url:
        return 0
    secret = signing_secret(runtime.settings)
    sender = sender or new_worker_id()
    batch = claim(runtime, sender=sender, limit=limit)
    if not batch:
        return 0
    with _client_for(runtime.settings, client) as http:
        for delivery in batch:
            answer = post(delivery, client=http, url=url, secret=secret, now=runtime.clock.now())
            record(runtime, delivery, answer, sender=sender)
    return len(batch)


def _client_for(settings: Settings, client: httpx.Client | None) -> AbstractContextManager[httpx.Client]:
    # A caller's client (the loop keeps one for its whole life) is used, not closed.
    return nullcontext(client) if client is not None else new_client(settings)


def new_client(settings: Settings) -> httpx.Client:
    return httpx.Client(timeout=settings.host_webhook_timeout_s, follow_redirects=False)


def run_sender(runtime: Runtime, *, stop: threading.Event, sender: str | None = None) -> None:
    """Loop until `stop` is set: deliver batches back to back, sleep the poll interval when idle."""
    sender = sender or new_worker_id()
    with new_client(runtime.settings) as client:
        run_loop(f"outbound sender {sender}", lambda: deliver_due(runtime, sender=sender, client=client),
                 stop=stop, poll_s=runtime.settings.worker_poll_interval_s)


def start_sender(runtime: Runtime) -> Callable[[], None] | None:
    """For `BACKGROUND_STARTERS`: one sender thread per process when a host URL is configured."""
    if not runtime.settings.host_webhook_url:
        log.info("outbound webhooks off (COINSLOT_HOST_WEBHOOK_URL unset): events wait in the outbox")
        return None
    signing_secret(runtime.settings)  # a missing or malformed secret stops start-up, not each delivery
    return start_loop_thread("coinslot-outbound-sender", lambda stop: run_sender(runtime, stop=stop))
