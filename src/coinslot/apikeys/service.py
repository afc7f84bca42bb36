"""Create, verify and revoke API keys.

Keys are 32 random bytes shown once; the database keeps a SHA-256 of them.
A plain hash (not a slow password hash) is right here: the secret has 256
bits of entropy, so there is nothing to brute-force, and verification sits
on the hot path of every API call.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from coinslot.errors import InvalidInput, NotFound, Unauthorized
from coinslot.models import ApiKey

__all__ = ["CreatedKey", "create_key", "list_keys", "revoke_key", "verify_key"]

KEY_PREFIX = "cs_"


@dataclass(frozen=True, slots=True)
class CreatedKey:
    id: int
    name: str
    secret: str  # shown once, never stored


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(session: Session, *, name: str, now: dt.datetime) -> CreatedKey:
    """Make a new key; the caller shows `secret` once."""
    if not name.strip():
        raise InvalidInput("a key needs a name, e.g. 'web-backend'", field="name")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(name=name.strip(), prefix=secret[:10], secret_sha256=_digest(secret), created_at=now)
    session.add(row)
    session.flush()
    return CreatedKey(id=row.id, name=row.name, secret=secret)


def verify_key(session: Session, *, secret: str) -> ApiKey:
    """The live key for `secret`, or Unauthorized."""
    if not secret.startswith(KEY_PREFIX):
        raise Unauthorized("API key missing or malformed: send 'Authorization: Bearer cs_...'")
    row = session.scalar(select(ApiKey).where(ApiKey.secret_sha256 == _digest(secret)))
    if row is None or row.revoked_at is not None:
        raise Unauthorized("API key not recognised or revoked")
    return row


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def revoke_key(session: Session, *, key_id: int, now: dt.datetime) -> ApiKey:
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"no API key with id {key_id}")
    if row.revoked_at is None:
        row.revoked_at = now
    return row
