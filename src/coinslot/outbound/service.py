"""Writing to the outbox (events for the host app), raising alerts the host hears of, and the operator's
view of the outbox (a queue: `coinslot.queue`, kind HOST_WEBHOOKS).

Messages are written inside the caller's transaction: the host hears of a change if and only if it
committed. Delivery of outbox rows is the sender's job (`outbound.sender`).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from coinslot.alerts import service as alerts
from coinslot.errors import NotFound
from coinslot.models import Alert, OutboxMessage
from coinslot.queue import repository as queue_repository
from coinslot.queue import service as queue
from coinslot.queue.kinds import HOST_WEBHOOKS

__all__ = [
    "backlog",
    "counts",
    "dead_count",
    "dead_message_ids",
    "enqueue",
    "get_message",
    "list_messages",
    "raise_alert",
    "replay",
]



def enqueue(
    session: Session, *, event_type: str, payload: Mapping[str, Any], now: dt.datetime
) -> OutboxMessage:
    """Queue one event for the host (e.g. subscription.updated, order.paid, credits.low, payment.failed)."""
    message = OutboxMessage(
        webhook_id=f"msg_{uuid.uuid4().hex}",
        event_type=event_type,
        payload=json.dumps(dict(payload), sort_keys=True, default=str),
        created_at=now,
        status="pending",
        attempts=0,
        next_attempt_at=now,
    )
    session.add(message)
    return message


def raise_alert(
    session: Session,
    *,
    code: str,
    message: str,
    now: dt.datetime,
    subject_type: str | None = None,
    subject_id: str | None = None,
) -> Alert:
    """Record an alert (`alerts.service.record`: console, metric, log) and tell the host (outbox).

    The outbound channel's own failures are recorded with `alerts.service.record` alone: a dead
    message announced through that same channel would die too and raise another alert, without end.
    """
    alert = alerts.record(session, code=code, message=message, now=now, subject_type=subject_type,
                          subject_id=subject_id)
    enqueue(
        session,
        event_type="alert.raised",
        payload={"code": code, "message": message, "subject_type": subject_type, "subject_id": subject_id},
        now=now,
    )
    return alert


def list_messages(
    session: Session, *, status: str | None = None, event_type: str | None = None,
    before_id: int | None = None, limit: int = 50,
) -> Sequence[OutboxMessage]:
    """Outbox messages, newest first, optionally of one status and type; `before_id` pages."""
    return queue.list_rows(session, HOST_WEBHOOKS, status=status, type_=event_type, before_id=before_id,
                           limit=limit)


def counts(session: Session) -> dict[str, queue.StatusCount]:
    """How many messages are in each status: exact but for delivered, capped (`queue.counts`)."""
    return queue.counts(session, HOST_WEBHOOKS)


def dead_count(session: Session) -> int:
    """Messages out of attempts, exactly."""
    return queue.dead_count(session, HOST_WEBHOOKS)


def backlog(session: Session) -> queue_repository.Backlog:
    """Messages for the host not delivered yet (pending, being sent, waiting to retry); the oldest's age."""
    return queue_repository.backlog(session, HOST_WEBHOOKS)


def get_message(session: Session, *, message_ref: str | int) -> OutboxMessage:
    """One message by local id or webhook id (msg_...); NotFound when there is none."""
    row = queue_repository.get(session, HOST_WEBHOOKS, ref=message_ref)
    if row is None:
        raise NotFound(f"no outbox message {message_ref}")
    return row


def dead_message_ids(session: Session) -> list[int]:
    """Local ids of every dead message, oldest first (for `coinslot outbound replay --dead`)."""
    return queue.dead_ids(session, HOST_WEBHOOKS)


def replay(session: Session, *, message_ref: str | int, now: dt.datetime) -> OutboxMessage:
    """Make a message due again now, with a fresh count of attempts and the same webhook id.

    A delivered message can be replayed too; a host that dedupes on
    `webhook-id` will then ignore it, which is the point of the id.
    """
    row = queue.replay(session, HOST_WEBHOOKS, ref=message_ref, now=now)
    row.delivered_at = None
    return row
