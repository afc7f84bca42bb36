"""Stripe's error envelope as Python exceptions.

    StripeError                      any error answered as {"error": {...}}
    ├── InvalidRequestError   400    type invalid_request_error
    │   ├── ParameterMissing  400    code parameter_missing, names `param`
    │   ├── ParameterInvalid  400    code parameter_invalid, names `param`
    │   ├── ResourceMissing   404    code resource_missing ("No such customer: 'cus_x'")
    │   ├── ConflictError     409    (concurrent idempotent request, locked object)
    │   └── RateLimitError    429    code rate_limit (also test-clock "advancement underway")
    ├── AuthenticationError   401    type invalid_request_error (that is what Stripe sends)
    ├── CardError             402    type card_error, code + decline_code
    ├── IdempotencyError      400    type idempotency_error
    └── APIError              500    type api_error

Raise them anywhere inside a handler: the app turns them into the envelope and
the HTTP status. `save_idempotent` says whether an idempotent replay should
return this answer again: Stripe stores a result only once the endpoint has
started executing (card declines, 500s), not validation failures.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIError",
    "AuthenticationError",
    "CardError",
    "ConflictError",
    "IdempotencyError",
    "InvalidRequestError",
    "ParameterInvalid",
    "ParameterMissing",
    "RateLimitError",
    "ResourceMissing",
    "StripeError",
]

DOC_URL = "https://stripe.com/docs/error-codes/"


class StripeError(Exception):
    """Base of every error the emulator answers with Stripe's envelope."""

    http_status = 500
    error_type = "api_error"
    save_idempotent = True

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        http_status: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.param = param
        self.decline_code = decline_code
        if http_status is not None:
            self.http_status = http_status
        self.extra = extra or {}

    def to_dict(self, request_id: str | None = None) -> dict[str, Any]:
        """The body Stripe sends: {"error": {...}}, only non-empty keys."""
        err: dict[str, Any] = {"type": self.error_type, "message": self.message}
        if self.code:
            err["code"] = self.code
            err["doc_url"] = DOC_URL + self.code.replace("_", "-")
        if self.decline_code:
            err["decline_code"] = self.decline_code
        if self.param:
            err["param"] = self.param
        if request_id:
            err["request_log_url"] = (
                f"https://dashboard.stripe.com/test/logs/{request_id}"
            )
        err.update(self.extra)
        return {"error": err}


class InvalidRequestError(StripeError):
    """A request Stripe refuses before doing anything (HTTP 400)."""

    http_status = 400
    error_type = "invalid_request_error"
    save_idempotent = False


class ParameterMissing(InvalidRequestError):
    """A required parameter is absent: "Missing required param: currency."."""

    def __init__(self, param: str, message: str | None = None) -> None:
        super().__init__(
            message or f"Missing required param: {param}.",
            code="parameter_missing",
            param=param,
        )


class ParameterInvalid(InvalidRequestError):
    """A parameter has a value Stripe does not accept."""

    def __init__(self, param: str, message: str, code: str = "parameter_invalid") -> None:
        super().__init__(message, code=code, param=param)


class ResourceMissing(InvalidRequestError):
    """An id that names nothing: 404 "No such customer: 'cus_x'", param `id`."""

    http_status = 404

    def __init__(self, noun: str, object_id: str, param: str = "id") -> None:
        super().__init__(
            f"No such {noun}: '{object_id}'", code="resource_missing", param=param
        )


class ConflictError(InvalidRequestError):
    """HTTP 409: another request holds the same idempotency key or object."""

    http_status = 409


class RateLimitError(InvalidRequestError):
    """HTTP 429. The SDK maps it to stripe.RateLimitError."""

    http_status = 429

    def __init__(self, message: str = "Too many requests hit the API too quickly.",
                 code: str = "rate_limit") -> None:
        super().__init__(message, code=code)


class AuthenticationError(InvalidRequestError):
    """HTTP 401: no key, a malformed key, or a live-mode key."""

    http_status = 401


class CardError(StripeError):
    """HTTP 402: the card was declined or needs authentication."""

    http_status = 402
    error_type = "card_error"
    save_idempotent = True


class IdempotencyError(StripeError):
    """HTTP 400 type idempotency_error: a key reused with other parameters."""

    http_status = 400
    error_type = "idempotency_error"
    save_idempotent = False


class APIError(StripeError):
    """HTTP 500: something went wrong inside the emulator (or a fault said so)."""
