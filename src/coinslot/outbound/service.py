"""Writing to the outbox (events for the host app) and raising alerts.

Both are written inside the caller's transaction: the host hears of a change
if and only if it committed. Delivery of outbox rows is the sender's job.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coinslot.models import Alert, OutboxMessage
from coinslot.observability import ALERTS_RAISED

__all__ = ["enqueue", "list_alerts", "raise_alert"]

log = logging.getLogger("coinslot.alerts")


def enqueue(
    session: Session, *, event_type: str, payload: Mapping[str, Any], now: dt.datetime
) -> OutboxMessage:
    """Queue one event for the host (e.g. subscription.updated, order.paid, credits.low, payment.failed)."""
    message = OutboxMessage(
        event_type=event_type,
        payload=json.dumps(dict(payload), sort_keys=True, default=str),
        created_at=now,
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
    """Record an alert (admin console), count it (Prometheus), log it, and tell the host (outbox)."""
    alert = Alert(
        code=code, message=message, subject_type=subject_type, subject_id=subject_id, created_at=now
    )
    session.add(alert)
    ALERTS_RAISED.labels(code).inc()
    log.error(message, extra={"alert_code": code, "subject_type": subject_type, "subject_id": subject_id})
    enqueue(
        session,
        event_type="alert.raised",
        payload={"code": code, "message": message, "subject_type": subject_type, "subject_id": subject_id},
        now=now,
    )
    return alert


def list_alerts(session: Session, *, unacknowledged_only: bool = False, limit: int = 100) -> Sequence[Alert]:
    query = select(Alert).order_by(Alert.id.desc()).limit(limit)
    if unacknowledged_only:
        query = query.where(Alert.acknowledged_at.is_(None))
    return session.scalars(query).all()
