"""Every SQL query of the alerts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coinslot.limits import BIGINT_MAX
from coinslot.models import Alert

__all__ = ["count_open", "for_update", "search"]


def search(session: Session, *, state: Literal["open", "acknowledged"] | None, limit: int) -> Sequence[Alert]:
    query = select(Alert).order_by(Alert.id.desc()).limit(limit)
    if state == "open":
        query = query.where(Alert.acknowledged_at.is_(None))
    elif state == "acknowledged":
        query = query.where(Alert.acknowledged_at.is_not(None))
    return session.scalars(query).all()


def count_open(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Alert).where(Alert.acknowledged_at.is_(None))) or 0


def for_update(session: Session, *, alert_id: int) -> Alert | None:
    """The alert, locked (two operators acknowledging at once agree on one time); None when unknown."""
    if not 0 < alert_id <= BIGINT_MAX:  # no id can be: the driver would overflow (500)
        return None
    return session.scalars(select(Alert).where(Alert.id == alert_id).with_for_update()).one_or_none()
