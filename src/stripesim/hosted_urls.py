"""Where the hosted pages live: the emulator's own address as clients reach it.

The `url` fields that point at a hosted page (a Checkout Session's `url`, an invoice's
`hosted_invoice_url`, a credit note's `pdf`) start with it; the app remembers the `Host` a
client used. Below the engine and the resources, which write those fields, and the pages.
"""

from __future__ import annotations

from typing import Any

__all__ = ["HOSTED_BASE_KEY", "base_url", "remember_base_url"]

HOSTED_BASE_KEY = "hosted.base_url"
DEFAULT_BASE = "http://127.0.0.1:12111"


def remember_base_url(store: Any, headers: Any) -> str:
    """The emulator's own address as the client reached it (for `url` fields)."""
    host = headers.get("host") if headers else None
    if host:
        store.kv[HOSTED_BASE_KEY] = f"http://{host}"
    return base_url(store)


def base_url(store: Any) -> str:
    return str(store.kv.get(HOSTED_BASE_KEY, DEFAULT_BASE))
