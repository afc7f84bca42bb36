"""Opt-in fault injection, off by default, deterministic under a seed.

Set through `POST /_sim/faults` with a JSON body (every key optional):

    {"seed": 7,
     "api": [{"status": 500, "path_prefix": "/v1/customers", "method": "POST",
              "times": 2, "delay_ms": 0, "probability": 1.0}],
     "webhooks": {"duplicate": 1.0, "delay_ms": 200, "delay_probability": 0.5,
                  "shuffle": true, "shuffle_window_ms": 250,
                  "endpoint_failures": {"we_123 or url": 2}}}

`api` rules answer 500 / 429 (or just wait `delay_ms`) before the request
runs, so an idempotent retry with the same key is not replayed a fault;
`times` limits how often a rule fires. Webhook faults duplicate, delay or
shuffle deliveries, or make an endpoint "answer" 500 N times without being
called. Shuffling holds each delivery for `shuffle_window_ms` so that the
events of one request (or of a flush) are reordered together.

Determinism: each kind of decision draws from its own `random.Random`
seeded with (seed, kind), so API requests and the delivery worker, which
run on different threads, never disturb each other's sequence. Deliveries
are made one at a time, so the same seed and the same calls give the same
outcome (use `/_sim/flush` rather than timing to decide what is due).
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["ApiFault", "Faults", "WebhookFaults"]


@dataclass
class ApiFault:
    """One rule for API requests; `status` None means "only be slow"."""

    status: int | None = 500
    path_prefix: str = "/v1/"
    method: str | None = None
    times: int | None = None
    delay_ms: int = 0
    probability: float = 1.0

    def applies_to(self, method: str, path: str) -> bool:
        return (
            (self.times is None or self.times > 0)
            and path.startswith(self.path_prefix)
            and (self.method is None or self.method.upper() == method)
        )


@dataclass
class WebhookFaults:
    duplicate: float = 0.0
    delay_ms: int = 0
    delay_probability: float = 1.0
    shuffle: bool = False
    shuffle_window_ms: int = 250
    endpoint_failures: dict[str, int] = field(default_factory=dict)


class Faults:
    """The current fault configuration plus its seeded random source."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seed = 0
        self._rngs: dict[str, random.Random] = {}
        self.api: list[ApiFault] = []
        self.webhooks = WebhookFaults()

    def configure(self, spec: dict[str, Any]) -> None:
        """Replace the configuration; raises ValueError/TypeError on a bad spec."""
        seed = int(spec.get("seed", 0))
        api = [self._api_rule(rule) for rule in spec.get("api", [])]
        hooks = spec.get("webhooks", {}) or {}
        webhooks = WebhookFaults(
            duplicate=float(hooks.get("duplicate", 0.0)),
            delay_ms=int(hooks.get("delay_ms", 0)),
            delay_probability=float(hooks.get("delay_probability", 1.0)),
            shuffle=bool(hooks.get("shuffle", False)),
            shuffle_window_ms=int(hooks.get("shuffle_window_ms", 250)),
            endpoint_failures={str(k): int(v) for k, v in (hooks.get("endpoint_failures") or {}).items()},
        )
        with self._lock:
            self.seed, self._rngs = seed, {}
            self.api, self.webhooks = api, webhooks

    @staticmethod
    def _api_rule(rule: dict[str, Any]) -> ApiFault:
        status = rule.get("status", 500)
        if status is not None and int(status) not in (409, 429, 500, 502, 503, 504):
            raise ValueError(f"unsupported fault status {status}")
        times = rule.get("times")
        return ApiFault(
            status=None if status is None else int(status),
            path_prefix=str(rule.get("path_prefix", "/v1/")),
            method=rule.get("method"),
            times=None if times is None else int(times),
            delay_ms=int(rule.get("delay_ms", 0)),
            probability=float(rule.get("probability", 1.0)),
        )

    def clear(self) -> None:
        self.configure({})

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {"seed": self.seed, "api": [asdict(r) for r in self.api],
                    "webhooks": asdict(self.webhooks)}

    # ------------------------------------------------------------ decisions

    def api_fault_for(self, method: str, path: str) -> ApiFault | None:
        """The first rule that fires for this request (its `times` is used up by one)."""
        with self._lock:
            for rule in self.api:
                if rule.applies_to(method, path) and self._chance("api", rule.probability):
                    if rule.times is not None:
                        rule.times -= 1
                    return rule
        return None

    def delivery_delay_ms(self) -> int:
        """How long to hold a new delivery: injected delay, or the shuffle window."""
        with self._lock:
            hooks = self.webhooks
            delay_ms = 0
            if hooks.delay_ms > 0 and self._chance("delay", hooks.delay_probability):
                delay_ms = hooks.delay_ms
            if hooks.shuffle:
                delay_ms += hooks.shuffle_window_ms
            return delay_ms

    def should_duplicate(self) -> bool:
        with self._lock:
            return self._chance("duplicate", self.webhooks.duplicate)

    def pick(self, count: int) -> int:
        """Which of `count` due deliveries goes next: the first, or a seeded random one."""
        with self._lock:
            if not self.webhooks.shuffle or count < 2:
                return 0
            return self._rng("shuffle").randrange(count)

    def endpoint_should_fail(self, endpoint_id: str, url: str) -> bool:
        with self._lock:
            failures = self.webhooks.endpoint_failures
            for key in (endpoint_id, url):
                if failures.get(key, 0) > 0:
                    failures[key] -= 1
                    return True
            return False

    def _rng(self, stream: str) -> random.Random:
        if stream not in self._rngs:
            # A str seed is hashed with SHA-512: stable across runs and PYTHONHASHSEED.
            self._rngs[stream] = random.Random(f"{self.seed}:{stream}")
        return self._rngs[stream]

    def _chance(self, stream: str, probability: float) -> bool:
        # Draw only for real probabilities, so 0 and 1 never move the seed's sequence.
        if probability >= 1.0:
            return True
        if probability <= 0.0:
            return False
        return self._rng(stream).random() < probability
