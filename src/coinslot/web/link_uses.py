"""Single-use signed links: the nonce of each opened link is recorded until the link expires."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coinslot.errors import Unauthorized
from coinslot.models import UsedSignedLink

__all__ = ["use_once"]


def use_once(session: Session, *, nonce: str, expires_at: dt.datetime, now: dt.datetime) -> None:
    """Record that the link `nonce` was opened; Unauthorized when it was opened before.

    Nonces of links past their expiry are pruned here, on the way: the signature's TTL refuses
    those links anyway, so the table only ever holds the last few minutes of links.
    """
    session.execute(delete(UsedSignedLink).where(UsedSignedLink.expires_at < now))
    try:
        # A savepoint: the primary key refuses a second use, even by a request racing this one.
        with session.begin_nested():
            session.add(UsedSignedLink(nonce=nonce, used_at=now, expires_at=expires_at))
    except IntegrityError:
        raise Unauthorized(
            "This link was already used. Go back to the app and open billing again.", code="link_used"
        ) from None
