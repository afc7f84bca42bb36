"""Server-to-server API keys of the host app. Only a hash is stored."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from coinslot.db import Base, UtcDateTime
from coinslot.models.types import BigId


class ApiKey(Base):
    """A key, what it may do (`scopes`), until when, and when it was last used.

    `scopes` is a space-separated list (`entitlements read`); NULL marks a key made before scopes existed
    (revision 0003), which keeps every scope so that an upgrade breaks no backend: `keys list` flags it
    legacy, and the operator replaces it with a scoped key.
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))  # shown in listings so operators can tell keys apart
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    scopes: Mapped[str | None] = mapped_column(String(200))
    expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)  # to the minute
