"""The shape of a Stripe id, checked before one goes into a URL of Stripe's API.

The SDK puts an id into the request path as it is: `GET /v1/checkout/sessions/%2E/fulfil` made coinslot call
Stripe's list endpoint (`/v1/checkout/sessions/.`), `..` called `/v1/checkout`, and a newline answered 502.
Stripe's ids are a short prefix, an underscore and letters, digits and underscores (`cs_test_a1B2...`), so
anything else is refused as input (422) where it enters (a URL, a form), and again by the gateway before any
call (`stripe_gateway` calls `checked_stripe_id` for every id it puts in a path).
"""

from __future__ import annotations

import re

from coinslot.errors import InvalidInput

__all__ = ["checked_stripe_id", "is_stripe_id"]

_ID_MAX_CHARS = 255  # the columns that store them
_BODY = re.compile(r"[A-Za-z0-9_]+")


def is_stripe_id(value: str, *prefixes: str) -> bool:
    """Whether `value` is `<prefix>_<letters, digits, _>` for one of `prefixes`, at most 255 characters."""
    if len(value) > _ID_MAX_CHARS:
        return False
    for prefix in prefixes:
        head = prefix + "_"
        if value.startswith(head) and len(value) > len(head) and _BODY.fullmatch(value, len(head)):
            return True
    return False


def checked_stripe_id(value: str, *prefixes: str, field: str) -> str:
    """`value` when it is a Stripe id with one of `prefixes`; InvalidInput (422) naming `field` otherwise."""
    if not is_stripe_id(value, *prefixes):
        expected = " or ".join(f"{prefix}_..." for prefix in prefixes)
        raise InvalidInput(f"{field} is not a Stripe id of the right kind: expected {expected} (letters, "
                           "digits and _ only)", field=field)
    return value
