"""The webhook endpoint object: making one.

Both the API (`resources/webhook_endpoints.py`) and `Sim.add_webhook_endpoint` (start-up
flags, the control API) create endpoints; `events.emit` reads them to queue deliveries.
"""

from __future__ import annotations

from typing import Any

from .store import Store, new_id

__all__ = ["create_endpoint"]


def create_endpoint(store: Store, *, url: str, secret: str | None = None,
                    enabled_events: list[str], description: str | None = None,
                    metadata: dict[str, str] | None = None,
                    api_version: str | None = None) -> dict[str, Any]:
    """Store an enabled endpoint; `secret` defaults to a fresh whsec_ value."""
    endpoint = {
        "id": new_id("we"),
        "object": "webhook_endpoint",
        "api_version": api_version,
        "application": None,
        "created": store.now(),
        "description": description,
        "enabled_events": enabled_events,
        "livemode": False,
        "metadata": metadata or {},
        "status": "enabled",
        "url": url,
        "_secret": secret or new_id("whsec", 32),
    }
    return store.insert(endpoint)
