"""The one check for a URL a caller asks coinslot to send a browser to (no open redirect).

Every entry layer that takes a return / success / cancel URL (the REST API, the
pages' signed links, the portal) goes through `check_redirect_url`, so a
malformed URL is a 422 naming the field everywhere, never a ValueError (500).
Every Checkout coinslot opens (a purchase, a card saved for auto top-up) returns
through `with_checkout_params`.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal
from urllib.parse import urlsplit

from coinslot.errors import InvalidInput

__all__ = ["check_redirect_url", "with_checkout_params"]


def _origin(url: str, *, field: str) -> str:
    """`scheme://host[:port]` of an absolute http(s) URL, lower-cased; InvalidInput for anything else."""
    try:
        parts = urlsplit(url)
        # `.port` parses the port now: "http://a:99999" or "http://a:x" raise here rather than later.
        _ = parts.port
    except ValueError:  # e.g. "http://[::1" (an unclosed IPv6 bracket)
        raise InvalidInput(f"{field} is not a valid URL: {url!r}", field=field) from None
    # Credentials in the URL would let "https://app.example@evil.example" read as the allowed host.
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.username or parts.password:
        raise InvalidInput(f"{field} must be an absolute http(s) URL, not {url!r}", field=field)
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_redirect_url(url: str, *, allowed_origins: Iterable[str], field: str) -> str:
    """`url` if its origin is one the operator allowed; InvalidInput naming `field` otherwise."""
    allowed = [origin.rstrip("/") for origin in allowed_origins]
    origin = _origin(url, field=field)
    if origin not in {candidate.lower() for candidate in allowed}:
        hint = ", ".join(allowed) or "none configured (set COINSLOT_ALLOWED_REDIRECT_ORIGINS)"
        raise InvalidInput(f"{field} {origin} is not an allowed origin; allowed: {hint}", field=field)
    return url


def with_checkout_params(url: str, *, status: Literal["success", "cancel"]) -> str:
    """Add `checkout_status` (and on success Stripe's `{CHECKOUT_SESSION_ID}` template) to a return URL.

    Built by hand rather than with urlencode: the braces of the template must reach
    Stripe unescaped, or it will not substitute the session id.
    """
    base, _, fragment = url.partition("#")
    extra = f"checkout_status={status}"
    if status == "success":
        extra += "&session_id={CHECKOUT_SESSION_ID}"
    joined = f"{base}{'&' if '?' in base else '?'}{extra}"
    return f"{joined}#{fragment}" if fragment else joined
