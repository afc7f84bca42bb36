"""Signed links already opened: a link from `POST /v1/links` opens one session, once.

The link itself is stateless (signed, with a TTL); this table holds only the nonce of each
link used, until the link would have expired anyway, so a copied or leaked link (browser
history, a forwarded email, a proxy log) cannot open the customer's billing a second time.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from coinslot.db import Base, UtcDateTime


class UsedSignedLink(Base):
    """The nonce of an opened link, kept until `expires_at` (then pruned: the signature refuses it)."""

    __tablename__ = "used_signed_links"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
