"""The REST API's contract, as the OpenAPI document states it: one error envelope for every failure,
which statuses each route documents, and the API-key security scheme.

Code generators (the TypeScript client's types, an integrator's SDK) read the document, so what it
says must be what the server does: `tests/integration/test_api_contract.py` checks the document and
an OpenAPI fuzzer (schemathesis) checks the server against it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field

__all__ = ["ERROR_DESCRIPTIONS", "ErrorBody", "ErrorEnvelope", "document_body_limits", "errors"]


class ErrorBody(BaseModel):
    """What went wrong, for a program (`code`) and for a person (`message`)."""

    code: str = Field(description="stable machine-readable reason, e.g. `insufficient_credits`, "
                                  "`invalid_input`, `not_found`, `unauthorized`",
                      examples=["insufficient_credits"])
    message: str = Field(description="what happened and what to fix, in a sentence",
                         examples=["insufficient credits: need 3, have 1"])
    field: str | None = Field(default=None, description="the request field to fix, when one is at fault",
                              examples=["quantity"])
    needed: int | None = Field(default=None, description="insufficient_credits only: credits the use costs")
    available: int | None = Field(default=None,
                                  description="insufficient_credits only: credits the user has")


class ErrorEnvelope(BaseModel):
    """Every non-2xx answer of the API has this body."""

    error: ErrorBody = Field(description="the error")


ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "The request is malformed (a body that cannot be parsed).",
    401: "API key missing, malformed, unknown or revoked.",
    402: "Refused by the user's plan or balance: the `code` says why (e.g. `insufficient_credits`).",
    403: "The key lacks the scope this route needs (`insufficient_scope`; docs/security.md lists them).",
    404: "Not found: the `code` names what (e.g. `no_subscription`).",
    409: "Conflicts with what is stored: an idempotency key reused with other fields, an order in "
         "another state, a Stripe price that differs from the catalog.",
    413: "The body or a payload is over its size limit.",
    422: "A value is invalid: `field` names it.",
    429: "Too many requests: retry after `Retry-After` seconds.",
    502: "Stripe refused a request coinslot built (a configuration error): see the message.",
    503: "Billing is off, or Stripe or the database cannot be reached: nothing changed; retry after "
         "`Retry-After` seconds.",
}

# What every API-key route can answer, whatever it does: 403 when the key lacks the route's scope.
_ALWAYS = (401, 403, 422, 503)
_KEY_ONLY = (401, 403)


def errors(*statuses: int, public: bool = False) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route: its own error statuses plus the ones every route can answer (401 and
    403 only where an API key is asked for), each with the envelope as its body."""
    always = {status for status in _ALWAYS if not (public and status in _KEY_ONLY)}
    return {status: {"model": ErrorEnvelope, "description": ERROR_DESCRIPTIONS[status]}
            for status in sorted({*statuses, *always})}



def document_body_limits(doc: dict[str, Any], *, max_bytes_of: Callable[[str], int]) -> dict[str, Any]:
    """Add its 413 to every operation of the OpenAPI document `doc` that takes a body, with the route's
    limit (`body_limit.py` refuses a larger body before parsing it): one rule, not a 413 on each route."""
    for path, operations in doc.get("paths", {}).items():
        for operation in operations.values():
            if "requestBody" not in operation:
                continue
            limit_bytes = max_bytes_of(path)
            operation["responses"]["413"] = {
                "description": f"The body is over this route's limit of {limit_bytes} bytes (refused "
                               "before it is read), or a payload in it is over its own limit.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}},
            }
    return doc
