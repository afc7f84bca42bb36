"""The admin console's audit trail: every operator action is written, in the action's own transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from coinslot.models import AdminAudit

__all__ = ["recent", "record"]


def record(session: Session, *, actor: str, action: str, target: str | None, detail: str,
           now: dt.datetime) -> None:
    """Append one audit row. Written in the same unit of work as the action: both or neither."""
    session.add(AdminAudit(at=now, actor=actor[:100], action=action, target=target, detail=detail))


def recent(session: Session, *, limit: int = 100) -> Sequence[AdminAudit]:
    return session.scalars(select(AdminAudit).order_by(AdminAudit.id.desc()).limit(limit)).all()
