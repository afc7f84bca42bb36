"""The one error both clients raise."""

from __future__ import annotations

__all__ = ["CoinslotError"]


class CoinslotError(Exception):
    """coinslot answered with an error (its envelope's `code`, `message` and `field`, and the HTTP
    `status`), or could not be reached (`status` 0, `code` "unreachable")."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None,
                 retry_after_s: float | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.retry_after_s = retry_after_s  # from Retry-After, when coinslot asked to come back later
