"""The operator's console sessions, held on the server, and the login throttle's counters.

A session cookie carries a random token; the table keeps its SHA-256, so logging out (deleting the row),
changing the admin password (the row's `password_tag` no longer matches) or the end of its life ends it
everywhere at once: a copied cookie opens nothing after that.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from coinslot.db import Base, UtcDateTime


class AdminSession(Base):
    """One signed-in operator browser."""

    __tablename__ = "admin_sessions"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    actor: Mapped[str] = mapped_column(String(100))  # "admin@<client address>", as the audit names it
    csrf: Mapped[str] = mapped_column(String(64))  # the token every console form carries
    password_tag: Mapped[str] = mapped_column(String(64))  # names the admin password it was opened with
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)


class AdminLoginAttempts(Base):
    """Login attempts from one client address in the current window, counted before the password is
    compared (one atomic upsert), so concurrent guesses cannot all slip under the limit."""

    __tablename__ = "admin_login_attempts"

    actor: Mapped[str] = mapped_column(String(100), primary_key=True)
    window_started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer)
