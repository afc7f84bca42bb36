"""Writing to the outbox (events for the host app), raising alerts, and the operator's view of both.

Messages and alerts are written inside the caller's transaction: the host
hears of a change if and only if it committed. Delivery of outbox rows is the
sender's job (`outbound.sender`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coinslot import leases
from coinslot.errors import Conflict, NotFound
from coinslot.limits import BIGINT_MAX
from coinslot.models import Alert, OutboxMessage
from coinslot.observability import ALERTS_RAISED
from coinslot.outbound import repository

__all__ = [
    "AlertState",
    "acknowledge_alert",
    "backlog",
    "count_open_alerts",
    "counts",
    "dead_message_ids",
    "enqueue",
    "get_message",
    "list_alerts",
    "list_messages",
    "raise_alert",
    "replay",
]

log = logging.getLogger("coinslot.alerts")

AlertState = Literal["open", "acknowledged"]


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
    notify_host: bool = True,
) -> Alert:
    """Record an alert (admin console), count it (Prometheus), log it, and tell the host (outbox).

    `notify_host=False` for alerts about the outbound channel itself: a dead
    message announced through that same channel would die too and raise
    another alert, without end.
    """
    alert = Alert(
        code=code, message=message, subject_type=subject_type, subject_id=subject_id, created_at=now
    )
    session.add(alert)
    ALERTS_RAISED.labels(code).inc()
    log.error(message, extra={"alert_code": code, "subject_type": subject_type, "subject_id": subject_id})
    if notify_host:
        enqueue(
            session,
            event_type="alert.raised",
            payload={
                "code": code, "message": message, "subject_type": subject_type, "subject_id": subject_id
            },
            now=now,
        )
    return alert


def list_alerts(
    session: Session, *, unacknowledged_only: bool = False, state: AlertState | None = None, limit: int = 100
) -> Sequence[Alert]:
    """Alerts, newest first; `state` (or `unacknowledged_only`, the same as state="open") filters them."""
    query = select(Alert).order_by(Alert.id.desc()).limit(limit)
    if unacknowledged_only or state == "open":
        query = query.where(Alert.acknowledged_at.is_(None))
    elif state == "acknowledged":
        query = query.where(Alert.acknowledged_at.is_not(None))
    return session.scalars(query).all()


def count_open_alerts(session: Session) -> int:
    """How many alerts no operator has acknowledged yet."""
    return session.scalar(select(func.count()).select_from(Alert).where(Alert.acknowledged_at.is_(None))) or 0


def acknowledge_alert(session: Session, *, alert_id: int, actor: str, now: dt.datetime) -> Alert:
    """Mark an alert as seen by an operator. Idempotent: acknowledging it again keeps the first time.

    NotFound for an unknown id. The row is locked so that two operators acknowledging at once
    agree on one `acknowledged_at`.
    """
    alert = None
    if 0 < alert_id <= BIGINT_MAX:
        alert = session.scalars(select(Alert).where(Alert.id == alert_id).with_for_update()).one_or_none()
    if alert is None:
        raise NotFound(f"no alert {alert_id}")
    if alert.acknowledged_at is None:
        alert.acknowledged_at = now
        log.info("alert acknowledged", extra={"alert_id": alert.id, "alert_code": alert.code, "actor": actor})
    return alert


def list_messages(
    session: Session, *, status: str | None = None, event_type: str | None = None, limit: int = 50
) -> Sequence[OutboxMessage]:
    """Outbox messages, newest first, optionally of one status and type."""
    return repository.search(session, status=status, event_type=event_type, limit=limit)


def counts(session: Session) -> dict[str, int]:
    """How many messages are in each status."""
    return repository.count_by_status(session)


def backlog(session: Session) -> leases.Backlog:
    """Messages for the host not delivered yet (pending, being sent, waiting to retry); the oldest's age."""
    return repository.backlog(session)


def get_message(session: Session, *, message_ref: str | int) -> OutboxMessage:
    """One message by local id or webhook id (msg_...); NotFound when there is none."""
    ref = str(message_ref)
    row = None
    if ref.isascii() and ref.isdigit():
        # A local id must fit a BIGINT (a longer number would fail in the driver, not be "not found").
        if 0 < int(ref) <= BIGINT_MAX:
            row = repository.get(session, message_ref=int(ref))
    elif ref.startswith("msg_"):
        row = repository.get(session, message_ref=ref)
    if row is None:
        raise NotFound(f"no outbox message {message_ref}")
    return row


def dead_message_ids(session: Session) -> list[int]:
    """Local ids of every dead message, oldest first (for `coinslot outbound replay --dead`)."""
    return repository.ids_with_status(session, status="dead")


def replay(session: Session, *, message_ref: str | int, now: dt.datetime) -> OutboxMessage:
    """Make a message due again now, with a fresh count of attempts and the same webhook id.

    A delivered message can be replayed too; a host that dedupes on
    `webhook-id` will then ignore it, which is the point of the id.
    """
    row = repository.get(session, message_ref=message_ref, for_update=True)
    if row is None:
        raise NotFound(f"no outbox message {message_ref}")
    if row.status == repository.SENDING and row.locked_until is not None and row.locked_until > now:
        raise Conflict(f"message {row.webhook_id} is being sent by {row.locked_by}")
    row.status = "pending"
    row.attempts = 0
    row.next_attempt_at = now
    row.delivered_at = None
    row.locked_by = row.locked_until = None
    return row
