"""Every error coinslot shows a caller, as a value with a code.

    CoinslotError(code, message, http_status)
     ├── InvalidInput            422  bad input; `field` names what to fix
     │    └── PayloadTooLarge     413
     ├── Unauthorized            401  missing or wrong API key / session
     ├── Forbidden               403  the object belongs to someone else
     ├── NotFound                404
     ├── Conflict                409  same idempotency key, different fields
     ├── InsufficientCredits     402  "insufficient credits: need N, have M"
     ├── FeatureNotAllowed       402  the plan does not include the feature
     ├── BillingDisabled         503  billing switched off by the operator
     ├── RateLimited             429  too many requests from one address on a public surface
     ├── StripeUnavailable       503  Stripe unreachable / 5xx / 429; retry later
     ├── DatabaseUnavailable     503  the database is down, read-only or locked; nothing was written
     └── StripeRejected          502  Stripe refused a request we built (a bug or a config error)

Expected business outcomes are never a 500: one handler per entry layer renders
these as JSON (API), a message (web) or an exit code (CLI).
"""

from __future__ import annotations

__all__ = [
    "BillingDisabled",
    "CoinslotError",
    "Conflict",
    "DatabaseUnavailable",
    "FeatureNotAllowed",
    "Forbidden",
    "InsufficientCredits",
    "InvalidInput",
    "NotFound",
    "PayloadTooLarge",
    "RateLimited",
    "StripeRejected",
    "StripeUnavailable",
    "Unauthorized",
]


class CoinslotError(Exception):
    """Base of every error with a stable machine `code` and a human `message`."""

    code: str = "error"
    http_status: int = 400

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None,
                 retriable: bool = True) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field
        # False when the work cannot be done as sent, however often it is tried (a paid session naming no
        # user, an order paid twice): a queue's worker then dead-letters it at once, with an alert.
        self.retriable = retriable

    def to_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"code": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        return body


class InvalidInput(CoinslotError):
    """The request is well-formed but a value is wrong; `field` names it."""

    code = "invalid_input"
    http_status = 422


class PayloadTooLarge(InvalidInput):
    """A body or an order payload is over its size limit."""

    code = "payload_too_large"
    http_status = 413


class Unauthorized(CoinslotError):
    """No credentials, or credentials that do not match any key or session."""

    code = "unauthorized"
    http_status = 401


class Forbidden(CoinslotError):
    """Valid credentials, but the object is outside the caller's scope."""

    code = "forbidden"
    http_status = 403


class NotFound(CoinslotError):
    """The named object does not exist (in the caller's scope)."""

    code = "not_found"
    http_status = 404


class Conflict(CoinslotError):
    """The request contradicts what is stored, e.g. a reused idempotency key with other fields."""

    code = "conflict"
    http_status = 409


class InsufficientCredits(CoinslotError):
    """A spend or hold needs more credits than the customer has available."""

    code = "insufficient_credits"
    http_status = 402

    def __init__(self, *, needed: int, available: int) -> None:
        super().__init__(f"insufficient credits: need {needed}, have {available}")
        self.needed = needed
        self.available = available

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "needed": self.needed, "available": self.available}


class FeatureNotAllowed(CoinslotError):
    """The customer's plan (under its access policy) does not include the feature."""

    code = "feature_not_allowed"
    http_status = 402


class RateLimited(CoinslotError):
    """Too many requests from one client address on a public surface; `retry_after_s` says when to retry."""

    code = "rate_limited"
    http_status = 429

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class BillingDisabled(CoinslotError):
    """The operator switched billing off; nothing that touches Stripe runs."""

    code = "billing_disabled"
    http_status = 503


class StripeUnavailable(CoinslotError):
    """Stripe could not be reached or answered 5xx/429: nothing was changed, retry later."""

    code = "stripe_unavailable"
    http_status = 503
    retry_after_s = 2  # Stripe's blips are short; the SDK has retried already


class DatabaseUnavailable(CoinslotError):
    """The database cannot take the request now (down, restarting, read-only, or locked by another
    process): the transaction rolled back as a whole, so a retry is safe."""

    code = "database_unavailable"
    http_status = 503
    retry_after_s = 5


class StripeRejected(CoinslotError):
    """Stripe refused a request coinslot built: a configuration error or a bug, never the user's."""

    code = "stripe_rejected"
    http_status = 502
