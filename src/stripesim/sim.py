"""`Sim`: one emulator instance (state, faults, idempotency, webhook delivery).

`create_app()` builds one; handlers reach it as `call.sim`. Modules that
keep their own state register a reset hook: `sim.on_reset.append(fn)`;
modules that start threads register a close hook (`sim.on_close.append(fn)`,
e.g. setting a stop event) so that `close()` leaves no thread running.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from .faults import Faults
from .idempotency import IdempotencyCache
from .store import Store
from .versions import DEFAULT as DEFAULT_API_VERSION
from .versions import check_version
from .webhook_endpoint import create_endpoint
from .webhooks import Dispatcher

__all__ = ["Sim"]


class Sim:
    def __init__(self, *, state_file: str | os.PathLike[str] | None = None,
                 retry_base_delay_s: float = 1.0, max_delivery_attempts: int = 4,
                 delivery_timeout_s: float = 10.0,
                 api_version: str = DEFAULT_API_VERSION) -> None:
        # The account's default API version: requests without Stripe-Version and webhook
        # endpoints without their own `api_version` see objects in it.
        self.api_version = check_version(api_version)
        self.store = Store(state_file)
        self.faults = Faults()
        self.idempotency = IdempotencyCache()
        self.dispatcher = Dispatcher(self.store, self.faults, api_version=self.api_version,
                                     retry_base_delay_s=retry_base_delay_s,
                                     max_attempts=max_delivery_attempts,
                                     timeout_s=delivery_timeout_s)
        # Undelivered webhooks and answered idempotency keys live in the state file too.
        self.store.parts.update({"webhooks.queue": self.dispatcher.dump,
                                 "idempotency": self.idempotency.dump})
        self.idempotency.restore(self.store.loaded_parts.get("idempotency", []))
        self.dispatcher.restore(self.store.loaded_parts.get("webhooks.queue", []))
        self.on_reset: list[Callable[[Sim], None]] = []
        self.on_close: list[Callable[[], None]] = []
        # Short-lived work threads by name (test clock advances); close() joins them.
        self.workers: dict[str, threading.Thread] = {}
        # Endpoints given at start-up (CLI flags) survive /_sim/reset.
        self.startup_endpoints: list[tuple[str, str | None]] = []
        # > 0 while objects are made that predate the integration (fixtures): no events.
        self.events_muted = 0

    def configure_startup_endpoint(self, url: str, secret: str | None) -> dict[str, Any]:
        self.startup_endpoints.append((url, secret))
        return self.add_webhook_endpoint(url, secret)

    def add_webhook_endpoint(self, url: str, secret: str | None = None,
                             enabled_events: list[str] | None = None) -> dict[str, Any]:
        """Configure an endpoint (start-up flag, control API); reuses one with the same URL."""
        with self.store.lock:
            for endpoint in self.store.all("webhook_endpoint"):
                if endpoint["url"] == url:
                    if secret:
                        endpoint["_secret"] = secret
                    if enabled_events:
                        endpoint["enabled_events"] = list(enabled_events)
                    self.store.touch()
                    return endpoint
            return create_endpoint(self.store, url=url, secret=secret,
                                   enabled_events=enabled_events or ["*"])

    def reset(self) -> None:
        """Back to a blank account; faults off; queued deliveries dropped."""
        self.dispatcher.reset()
        self.store.reset()
        self.idempotency.clear()
        self.faults.clear()
        for hook in self.on_reset:
            hook(self)
        for url, secret in self.startup_endpoints:
            self.add_webhook_endpoint(url, secret)
        self.store.save()

    def close(self) -> None:
        """Stop every background thread (ticker, advances, webhook worker), then save."""
        for hook in self.on_close:
            hook()
        for worker in list(self.workers.values()):
            worker.join(timeout=10)
        self.dispatcher.stop()
        self.store.save()
