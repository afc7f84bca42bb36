"""The admin console's audit trail: every operator action is written, in the action's own transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coinslot.models import AdminAudit

__all__ = ["count_since", "recent", "record"]


_ACTOR_MAX = 100  # the column's width


def record(session: Session, *, actor: str, action: str, target: str | None, detail: str,
           now: dt.datetime) -> None:
    """Append one audit row. Written in the same unit of work as the action: both or neither."""
    session.add(AdminAudit(at=now, actor=actor[:_ACTOR_MAX], action=action, target=target, detail=detail))


def count_since(session: Session, *, actor: str, action: str, since: dt.datetime) -> int:
    """How many times `actor` did `action` since `since` (e.g. failed logins, for the throttle)."""
    query = select(func.count()).select_from(AdminAudit).where(
        AdminAudit.actor == actor[:_ACTOR_MAX], AdminAudit.action == action, AdminAudit.at >= since)
    return session.scalar(query) or 0


def recent(session: Session, *, limit: int = 100) -> Sequence[AdminAudit]:
    return session.scalars(select(AdminAudit).order_by(AdminAudit.id.desc()).limit(limit)).all()
