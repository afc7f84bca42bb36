"""Single-use signed links: the nonce of each opened link is recorded until the link expires."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from coinslot.access import repository
from coinslot.errors import Unauthorized

__all__ = ["use_once"]


def use_once(session: Session, *, nonce: str, expires_at: dt.datetime, now: dt.datetime) -> None:
    """Record that the link `nonce` was opened; Unauthorized when it was opened before.

    Nonces of links past their expiry are pruned here, on the way: the signature's TTL refuses
    those links anyway, so the table only ever holds the last few minutes of links.
    """
    repository.prune_link_uses(session, now=now)
    if not repository.insert_link_use(session, nonce=nonce, expires_at=expires_at, now=now):
        raise Unauthorized(
            "This link was already used. Go back to the app and open billing again.", code="link_used"
        )
