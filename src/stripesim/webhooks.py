"""Signed webhook delivery with retries, on one background thread.

One worker delivers one request at a time, in emission order (causal by
default; faults may shuffle, delay or duplicate). Each POST carries
`Stripe-Signature: t=<send time>,v1=<HMAC-SHA256(whsec_..., "t.payload")>`,
which `stripe.Webhook.construct_event` verifies. A non-2xx answer or a
connection error is retried with exponential backoff
(`retry_base_delay_s * 2**(attempt-1)`), `max_attempts` tries in all.
`flush()` makes everything due at once (compressing the backoff) and
returns when nothing is queued or in flight: tests use it instead of sleeping.
With a state file, undelivered deliveries are saved (`dump`) and resumed at
the next start (`restore`); `stop()` leaves the queue as it is.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import logging
import threading
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from . import timeutil
from .expand import public
from .versions import render

if TYPE_CHECKING:
    from .faults import Faults
    from .store import Store

__all__ = ["Delivery", "Dispatcher", "sign"]

log = logging.getLogger("stripesim.webhooks")
MAX_LOG = 10_000


def sign(payload: str, secret: str, timestamp: int) -> str:
    """The `Stripe-Signature` header value for `payload` sent at `timestamp`."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.{payload}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


@dataclass
class Delivery:
    """One event to one endpoint, with its attempt history."""

    seq: int
    event_id: str
    event_type: str
    endpoint_id: str
    due_s: float
    duplicate: bool = False
    delay_ms: int = 0  # held back by a fault (delay or shuffle window)
    attempts: int = 0
    status: str = "pending"  # pending | succeeded | failed | canceled
    last_http_status: int | None = None
    last_error: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        info = asdict(self)
        info.pop("due_s")
        return info

    def dump(self) -> dict[str, Any]:
        """For the state file: the due time as wall-clock seconds, valid after a restart."""
        info = asdict(self)
        info["due_at"] = timeutil.wall_s() + max(0.0, info.pop("due_s") - timeutil.monotonic_s())
        return info

    @classmethod
    def load(cls, info: dict[str, Any]) -> Delivery:
        fields = {k: v for k, v in info.items() if k in cls.__dataclass_fields__}
        wait_s = max(0.0, float(info.get("due_at", 0)) - timeutil.wall_s())
        return cls(**{**fields, "due_s": timeutil.monotonic_s() + wait_s})


class Dispatcher:
    """The delivery queue of one emulator. `api_version`: the account's default, for
    endpoints that pin none."""

    def __init__(self, store: Store, faults: Faults, *, api_version: str,
                 retry_base_delay_s: float = 1.0, max_attempts: int = 4,
                 timeout_s: float = 10.0) -> None:
        self.store = store
        self.faults = faults
        self.api_version = api_version
        self.retry_base_delay_s = retry_base_delay_s
        self.max_attempts = max_attempts
        self.timeout_s = timeout_s
        self._cond = threading.Condition()
        self._pending: list[Delivery] = []
        self._in_flight: Delivery | None = None
        self._log: list[Delivery] = []
        self._seq = itertools.count(1)
        self._flushing = 0
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._generation = 0  # bumped by reset() so an in-flight attempt is forgotten

    # ------------------------------------------------------------ producer side

    def enqueue(self, event_id: str, endpoint_ids: list[str], *, duplicate: bool = False) -> None:
        """Queue one delivery per endpoint (called by events.emit under the store lock)."""
        if not endpoint_ids:
            return
        event = self.store.get("event", event_id)
        event_type = event["type"] if event else ""
        with self._cond:
            for endpoint_id in endpoint_ids:
                delay_ms = self.faults.delivery_delay_ms()
                delivery = Delivery(next(self._seq), event_id, event_type, endpoint_id,
                                    timeutil.monotonic_s() + delay_ms / 1000,
                                    duplicate=duplicate, delay_ms=delay_ms)
                self._pending.append(delivery)
                self._log.append(delivery)
            del self._log[:-MAX_LOG]
            self._cond.notify_all()
        self._ensure_thread()

    def flush(self, timeout_s: float = 30.0) -> bool:
        """Deliver everything now (backoff compressed); True when the queue drained."""
        self._ensure_thread()
        deadline = timeutil.monotonic_s() + timeout_s
        with self._cond:
            self._flushing += 1
            self._cond.notify_all()
            try:
                while self._pending or self._in_flight is not None:
                    remaining = deadline - timeutil.monotonic_s()
                    if remaining <= 0:
                        return False
                    self._cond.wait(remaining)
                return True
            finally:
                self._flushing -= 1

    def dump(self) -> list[dict[str, Any]]:
        """Undelivered work (queued, or being attempted) for the state file."""
        with self._cond:
            queued = [*self._pending, *([self._in_flight] if self._in_flight else [])]
            return [d.dump() for d in sorted(queued, key=lambda d: d.seq)]

    def restore(self, saved: list[dict[str, Any]]) -> None:
        """Resume deliveries saved by `dump` (at start-up, from the state file)."""
        if not saved:
            return
        with self._cond:
            restored = [Delivery.load(info) for info in saved]
            self._pending.extend(restored)
            self._log.extend(restored)
            self._seq = itertools.count(max(d.seq for d in restored) + 1)
            self._cond.notify_all()
        self._ensure_thread()

    def deliveries(self) -> list[dict[str, Any]]:
        with self._cond:
            return [d.describe() for d in self._log]

    def reset(self) -> None:
        with self._cond:
            self._pending.clear()
            self._log.clear()
            self._generation += 1
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # ------------------------------------------------------------ worker side

    def _ensure_thread(self) -> None:
        with self._cond:
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(target=self._run, name="stripesim-webhooks",
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout_s) as client:
            while True:
                with self._cond:
                    if self._stopped:
                        return  # what is still queued stays queued (and is saved)
                    delivery = self._take_due()
                    if delivery is None:
                        self._cond.wait(self._wait_s())
                        continue
                    self._in_flight, generation = delivery, self._generation
                try:
                    self._attempt(client, delivery)
                except Exception:  # a bug here must not kill the worker thread
                    log.exception("webhook delivery crashed")
                    delivery.status = "failed"
                with self._cond:
                    self._in_flight = None
                    if delivery.status == "pending" and generation == self._generation:
                        self._pending.append(delivery)
                    self._cond.notify_all()
                self.store.touch()  # the saved queue changed

    def _take_due(self) -> Delivery | None:
        now_s = timeutil.monotonic_s()
        due = sorted(
            (d for d in self._pending if self._flushing or d.due_s <= now_s),
            key=lambda d: (d.due_s, d.seq),
        )
        if not due:
            return None
        chosen = due[self.faults.pick(len(due))]
        self._pending.remove(chosen)
        return chosen

    def _wait_s(self) -> float | None:
        if not self._pending:
            return None
        return max(0.0, min(d.due_s for d in self._pending) - timeutil.monotonic_s())

    def _attempt(self, client: httpx.Client, delivery: Delivery) -> None:
        store, faults = self.store, self.faults
        with store.lock:
            event = store.get("event", delivery.event_id)
            endpoint = store.get("webhook_endpoint", delivery.endpoint_id)
            if event is None or endpoint is None or endpoint.get("status") != "enabled":
                # Stripe stops retrying for a deleted or disabled endpoint.
                delivery.status = "canceled"
                return
            # Each endpoint reads events in its own API version (else the account's default).
            version = str(endpoint.get("api_version") or self.api_version)
            payload = json.dumps(render(store, public(event), version), indent=2)
            url, secret = str(endpoint["url"]), str(endpoint["_secret"])
        delivery.attempts += 1
        sent_at = timeutil.now()
        status_code, error = self._post(client, delivery, url, secret, payload, sent_at)
        delivery.last_http_status, delivery.last_error = status_code, error
        delivery.history.append({"at": sent_at, "http_status": status_code, "error": error})
        if status_code is not None and 200 <= status_code < 300:
            delivery.status = "succeeded"
            self._mark_delivered(delivery)
            if not delivery.duplicate and faults.should_duplicate():
                self.enqueue(delivery.event_id, [delivery.endpoint_id], duplicate=True)
        elif delivery.attempts >= self.max_attempts:
            delivery.status = "failed"
        else:
            delivery.due_s = timeutil.monotonic_s() + self.retry_base_delay_s * 2 ** (delivery.attempts - 1)

    def _post(self, client: httpx.Client, delivery: Delivery, url: str, secret: str,
              payload: str, sent_at: int) -> tuple[int | None, str | None]:
        if self.faults.endpoint_should_fail(delivery.endpoint_id, url):
            return 500, "injected endpoint failure"
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Stripe-Signature": sign(payload, secret, sent_at),
        }
        try:
            response = client.post(url, content=payload.encode("utf-8"), headers=headers)
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        return response.status_code, None

    def _mark_delivered(self, delivery: Delivery) -> None:
        if delivery.duplicate:
            return  # pending_webhooks counts endpoints, and this one already got it
        with self.store.lock:
            event = self.store.get("event", delivery.event_id)
            if event is not None and event["pending_webhooks"] > 0:
                event["pending_webhooks"] -= 1
                self.store.touch()
