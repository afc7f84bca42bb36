"""The api_keys table: the statements the key service sends."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from coinslot.models import ApiKey

__all__ = ["find_by_digest", "get", "list_all", "touch_if_older"]


def find_by_digest(session: Session, *, secret_sha256: str) -> Any:
    """The columns a check needs (id, scopes, revoked_at, expires_at, last_used_at) in one statement,
    without loading the row: this is on every API call."""
    return session.execute(
        select(ApiKey.id, ApiKey.scopes, ApiKey.revoked_at, ApiKey.expires_at, ApiKey.last_used_at)
        .where(ApiKey.secret_sha256 == secret_sha256)
    ).one_or_none()


def touch_if_older(session: Session, *, key_id: int, now: dt.datetime, older_than: dt.datetime) -> None:
    """Set last_used_at to `now` unless another process already did since `older_than`."""
    session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id, or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= older_than))
        .values(last_used_at=now)
    )


def list_all(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def get(session: Session, key_id: int) -> ApiKey | None:
    return session.get(ApiKey, key_id)
