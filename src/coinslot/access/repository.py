"""The statements behind `access`: used_signed_links, admin_sessions, admin_login_attempts,
admin_audit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import case, delete, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coinslot.db import UtcDateTime
from coinslot.models import AdminAudit, AdminLoginAttempts, AdminSession, UsedSignedLink

__all__ = [
    "add_audit",
    "add_session",
    "delete_attempts",
    "delete_session",
    "delete_stale_sessions",
    "get_session",
    "insert_link_use",
    "prune_link_uses",
    "recent_audit",
    "upsert_attempt",
]


# --- signed links ---------------------------------------------------------------------------------

def prune_link_uses(session: Session, *, now: dt.datetime) -> None:
    session.execute(delete(UsedSignedLink).where(UsedSignedLink.expires_at < now))


def insert_link_use(session: Session, *, nonce: str, expires_at: dt.datetime, now: dt.datetime) -> bool:
    """Record the nonce; False when it is there already (the primary key refuses a second use, even by
    a request racing this one). In a savepoint, so a refusal leaves the caller's transaction usable."""
    try:
        with session.begin_nested():
            session.add(UsedSignedLink(nonce=nonce, used_at=now, expires_at=expires_at))
    except IntegrityError:
        return False
    return True


# --- admin sessions -------------------------------------------------------------------------------

def delete_stale_sessions(session: Session, *, now: dt.datetime, password_tag: str) -> None:
    """Sessions past their end, or opened with another password."""
    session.execute(delete(AdminSession).where(
        or_(AdminSession.expires_at <= now, AdminSession.password_tag != password_tag)))


def add_session(session: Session, row: AdminSession) -> None:
    session.add(row)


def get_session(session: Session, *, token_sha256: str) -> AdminSession | None:
    return session.get(AdminSession, token_sha256)


def delete_session(session: Session, *, token_sha256: str) -> None:
    session.execute(delete(AdminSession).where(AdminSession.token_sha256 == token_sha256))


# --- login throttle -------------------------------------------------------------------------------

def upsert_attempt(session: Session, *, actor: str, now: dt.datetime, window: dt.timedelta) -> int:
    """One statement (INSERT ... ON CONFLICT DO UPDATE ... RETURNING): count an attempt of `actor` and
    return the count; a window older than `window` starts again at 1."""
    table = AdminLoginAttempts.__table__
    expired = table.c.window_started_at <= literal(now - window, UtcDateTime())
    restarted = literal(now, UtcDateTime())
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(AdminLoginAttempts)
        .values(actor=actor, window_started_at=now, attempts=1)
        .on_conflict_do_update(index_elements=[table.c.actor], set_={
            "attempts": case((expired, 1), else_=table.c.attempts + 1),
            "window_started_at": case((expired, restarted), else_=table.c.window_started_at),
        })
        .returning(table.c.attempts)
    )
    return int(session.execute(statement).scalar_one())


def delete_attempts(session: Session, *, actor: str) -> None:
    session.execute(delete(AdminLoginAttempts).where(AdminLoginAttempts.actor == actor))


# --- audit trail ----------------------------------------------------------------------------------

def add_audit(session: Session, row: AdminAudit) -> None:
    session.add(row)


def recent_audit(session: Session, *, limit: int) -> Sequence[AdminAudit]:
    return session.scalars(select(AdminAudit).order_by(AdminAudit.id.desc()).limit(limit)).all()
