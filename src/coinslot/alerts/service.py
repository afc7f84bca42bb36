"""Raising, listing and acknowledging alerts, inside the caller's transaction."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Literal

from sqlalchemy.orm import Session

from coinslot.alerts import repository
from coinslot.errors import NotFound
from coinslot.models import Alert
from coinslot.observability import ALERTS_RAISED

__all__ = ["AlertState", "acknowledge", "count_open", "list_alerts", "record"]

log = logging.getLogger("coinslot.alerts")

AlertState = Literal["open", "acknowledged"]


def record(session: Session, *, code: str, message: str, now: dt.datetime, subject_type: str | None = None,
           subject_id: str | None = None) -> Alert:
    """Record an alert (the admin console shows it), count it (Prometheus), log it. The host is told by
    `outbound.service.raise_alert`, which calls this."""
    alert = Alert(code=code, message=message, subject_type=subject_type, subject_id=subject_id,
                  created_at=now)
    session.add(alert)
    ALERTS_RAISED.labels(code).inc()
    log.error(message, extra={"alert_code": code, "subject_type": subject_type, "subject_id": subject_id})
    return alert


def list_alerts(session: Session, *, unacknowledged_only: bool = False, state: AlertState | None = None,
                limit: int = 100) -> Sequence[Alert]:
    """Alerts, newest first; `state` (or `unacknowledged_only`, the same as state="open") filters them."""
    return repository.search(session, state="open" if unacknowledged_only else state, limit=limit)


def count_open(session: Session) -> int:
    """How many alerts no operator has acknowledged yet."""
    return repository.count_open(session)


def acknowledge(session: Session, *, alert_id: int, actor: str, now: dt.datetime) -> Alert:
    """Mark an alert as seen by an operator. Idempotent: acknowledging it again keeps the first time.
    NotFound for an unknown id."""
    alert = repository.for_update(session, alert_id=alert_id)
    if alert is None:
        raise NotFound(f"no alert {alert_id}")
    if alert.acknowledged_at is None:
        alert.acknowledged_at = now
        log.info("alert acknowledged", extra={"alert_id": alert.id, "alert_code": alert.code, "actor": actor})
    return alert
