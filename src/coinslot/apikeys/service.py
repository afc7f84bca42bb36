"""Create, verify and revoke API keys.

Keys are 32 random bytes shown once; the database keeps a SHA-256 of them.
A plain hash (not a slow password hash) is right here: the secret has 256
bits of entropy, so there is nothing to brute-force, and verification sits
on the hot path of every API call.

A key is read from the database at each use, or trusted for at most a second by the process that read it
(`api_key_cache_s`): a revoked key is refused by every process within that second; docs/security.md
gives the measured cost of both.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from coinslot.apikeys import repository
from coinslot.apikeys.scopes import granted, parse_scopes, stored
from coinslot.errors import InvalidInput, NotFound, Unauthorized
from coinslot.models import ApiKey

__all__ = [
    "CreatedKey", "VerifiedKey", "create_key", "list_keys", "needs_touch", "revoke_key", "touch",
    "verify_key",
]

KEY_PREFIX = "cs_"
# last_used_at is written at most this often per key: to the minute is what an operator needs to tell a key
# in use from a dead one, and a write per request would double the cost of every check.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
EXPIRY_DAYS_MAX = 3650


@dataclass(frozen=True, slots=True)
class CreatedKey:
    id: int
    name: str
    secret: str  # shown once, never stored
    scopes: tuple[str, ...]
    expires_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class VerifiedKey:
    """A live key: who is calling and what it may do."""

    id: int
    scopes: frozenset[str]
    last_used_at: dt.datetime | None
    expires_at: dt.datetime | None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(
    session: Session, *, name: str, scopes: Iterable[str], now: dt.datetime,
    expires_in_days: int | None = None,
) -> CreatedKey:
    """Make a new key with `scopes` (at least one, see `apikeys.scopes`), optionally expiring after
    `expires_in_days`; the caller shows `secret` once."""
    if not name.strip():
        raise InvalidInput("a key needs a name, e.g. 'web-backend'", field="name")
    if len(name.strip()) > 100:
        raise InvalidInput("a key's name is at most 100 characters", field="name")
    names = parse_scopes(scopes)
    if expires_in_days is not None and not 1 <= expires_in_days <= EXPIRY_DAYS_MAX:
        raise InvalidInput(f"--expires-in-days must be between 1 and {EXPIRY_DAYS_MAX}",
                           field="expires_in_days")
    expires_at = now + dt.timedelta(days=expires_in_days) if expires_in_days is not None else None
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(name=name.strip(), prefix=secret[:10], secret_sha256=_digest(secret), created_at=now,
                 scopes=stored(names), expires_at=expires_at)
    session.add(row)
    session.flush()
    return CreatedKey(id=row.id, name=row.name, secret=secret, scopes=names, expires_at=expires_at)


def verify_key(session: Session, *, secret: str, now: dt.datetime) -> VerifiedKey:
    """The live key for `secret`, or Unauthorized (unknown, revoked or expired)."""
    if not secret.startswith(KEY_PREFIX) or len(secret) > 200:
        raise Unauthorized("API key missing or malformed: send 'Authorization: Bearer cs_...'")
    row = repository.find_by_digest(session, secret_sha256=_digest(secret))
    if row is None or row.revoked_at is not None:
        raise Unauthorized("API key not recognised or revoked")
    if row.expires_at is not None and row.expires_at <= now:
        raise Unauthorized(f"API key expired at {row.expires_at:%Y-%m-%d %H:%M} UTC: create a new one with "
                           "`coinslot keys create`", code="key_expired")
    return VerifiedKey(id=row.id, scopes=granted(row.scopes), last_used_at=row.last_used_at,
                       expires_at=row.expires_at)


def needs_touch(key: VerifiedKey, *, now: dt.datetime) -> bool:
    """Whether the key's last-used time is older than its resolution (then `touch` it)."""
    return key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION


def touch(session: Session, *, key_id: int, now: dt.datetime) -> None:
    """Record a use. Conditional, so that processes racing on the same key write once a minute."""
    repository.touch_if_older(session, key_id=key_id, now=now, older_than=now - LAST_USED_RESOLUTION)


def list_keys(session: Session) -> list[ApiKey]:
    return repository.list_all(session)


def revoke_key(session: Session, *, key_id: int, now: dt.datetime) -> ApiKey:
    """Revoke a key: refused by every process within `api_key_cache_s` (at most a second)."""
    row = repository.get(session, key_id)
    if row is None:
        raise NotFound(f"no API key with id {key_id}")
    if row.revoked_at is None:
        row.revoked_at = now
    return row
