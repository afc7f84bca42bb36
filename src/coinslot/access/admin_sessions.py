"""The operator's sessions and the login throttle, in the database (every process sees the same).

Sessions: the cookie carries 32 random bytes, the table their SHA-256. A session ends when its row does:
logout deletes it; a changed admin password (or session secret) no longer matches the row's
`password_tag` and the row is deleted at its next use; expiry after ADMIN_SESSION_TTL. A cookie saved
before any of these opens nothing.

The throttle counts attempts, not failures, and counts before the password is compared, in one atomic
upsert: with failures counted first and recorded after, 40 wrong passwords sent at once on PostgreSQL got
7 compared against a limit of 5. Now the n-th concurrent attempt sees n, whatever the interleaving (the
upsert takes the row's lock on PostgreSQL; SQLite has one writer), so at most LOGIN_ATTEMPTS_ALLOWED
passwords are ever compared per address and window.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from coinslot.access import repository
from coinslot.models import AdminSession

__all__ = [
    "ADMIN_SESSION_TTL",
    "LOGIN_ATTEMPTS_ALLOWED",
    "LOGIN_WINDOW",
    "OpenedSession",
    "end_session",
    "find_session",
    "forget_attempts",
    "open_session",
    "take_attempt",
]

ADMIN_SESSION_TTL = dt.timedelta(hours=8)
# Login attempts allowed per client address in the window. Behind a proxy that hides client addresses,
# all operators share one count: give uvicorn --forwarded-allow-ips.
LOGIN_ATTEMPTS_ALLOWED = 5
LOGIN_WINDOW = dt.timedelta(minutes=15)
_ACTOR_MAX = 100  # the columns' width


@dataclass(frozen=True, slots=True)
class OpenedSession:
    token: str  # for the cookie; only its hash is stored
    csrf: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, *, actor: str, password_tag: str, now: dt.datetime) -> OpenedSession:
    """A new session for `actor`; sessions past their end, or of another password, are pruned on the way."""
    repository.delete_stale_sessions(session, now=now, password_tag=password_tag)
    opened = OpenedSession(token=secrets.token_urlsafe(32), csrf=secrets.token_urlsafe(24))
    repository.add_session(session, AdminSession(
        token_sha256=_digest(opened.token), actor=actor[:_ACTOR_MAX], csrf=opened.csrf,
        password_tag=password_tag, created_at=now, expires_at=now + ADMIN_SESSION_TTL))
    return opened


def find_session(session: Session, *, token: str, password_tag: str, now: dt.datetime) -> AdminSession | None:
    """The live session of a cookie's token, or None (unknown, ended, expired, or of another password)."""
    if not token or len(token) > 200:
        return None
    row = repository.get_session(session, token_sha256=_digest(token))
    if row is None or row.expires_at <= now or row.password_tag != password_tag:
        return None
    return row


def end_session(session: Session, *, token: str) -> None:
    repository.delete_session(session, token_sha256=_digest(token))


def take_attempt(session: Session, *, actor: str, now: dt.datetime) -> int:
    """Count one login attempt of `actor` in its current window and return the count, this one included.

    One statement (INSERT ... ON CONFLICT DO UPDATE ... RETURNING): a window older than LOGIN_WINDOW
    starts again at 1."""
    return repository.upsert_attempt(session, actor=actor[:_ACTOR_MAX], now=now, window=LOGIN_WINDOW)


def forget_attempts(session: Session, *, actor: str) -> None:
    """After a correct password: the address starts a fresh window."""
    repository.delete_attempts(session, actor=actor[:_ACTOR_MAX])

