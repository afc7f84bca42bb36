"""Pages Stripe would host: the Checkout pay page, the billing portal, invoices (page + PDF)."""

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
