"""The admin console's audit trail: every operator action is written, in the action's own transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from coinslot.access import repository
from coinslot.models import AdminAudit

__all__ = ["recent", "record"]


_ACTOR_MAX = 100  # the column's width


def record(session: Session, *, actor: str, action: str, target: str | None, detail: str,
           now: dt.datetime) -> None:
    """Append one audit row. Written in the same unit of work as the action: both or neither."""
    repository.add_audit(session, AdminAudit(at=now, actor=actor[:_ACTOR_MAX], action=action, target=target,
                                             detail=detail))


def recent(session: Session, *, limit: int = 100) -> Sequence[AdminAudit]:
    return repository.recent_audit(session, limit=limit)
