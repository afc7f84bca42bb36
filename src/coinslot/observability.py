"""Structured JSON logs with a request id, Prometheus metrics, optional Sentry.

Every part of coinslot reports through the metrics defined here, so the
names stay in one list an operator can read. The figures read from the
database (backlogs, ages, dead letters) are in `coinslot.metrics`.

Processes: `coinslot serve` answers /metrics; with `--workers N` it runs Prometheus' multiprocess
mode (each process writes its figures under PROMETHEUS_MULTIPROC_DIR, any of them adds them up);
`coinslot worker` serves its own on `COINSLOT_METRICS_PORT`.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client.registry import Collector

__all__ = [
    "CREDITS_MOVED",
    "HTTP_REQUESTS",
    "HTTP_REQUEST_SECONDS",
    "LEASE_TAKEOVERS",
    "MULTIPROC_ENV",
    "OUTBOUND_DELIVERIES",
    "REGISTRY",
    "WEBHOOK_EVENTS",
    "WEBHOOK_MALFORMED",
    "WEBHOOK_SIGNATURE_FAILURES",
    "configure_logging",
    "log_context",
    "registry_for_scrape",
    "request_id_var",
]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
# Fields every log line of the current unit of work carries (the Stripe event and customer a worker
# is applying, the webhook a sender is posting): set with `log_context(...)`.
_log_fields: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "coinslot_log_fields", default=None
)


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add `fields` to every log line written inside the block (this thread / task only)."""
    given = {key: value for key, value in fields.items() if value is not None}
    token = _log_fields.set({**(_log_fields.get() or {}), **given})
    try:
        yield
    finally:
        _log_fields.reset(token)

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "coinslot_http_requests_total", "HTTP requests answered", ["method", "route", "status"], registry=REGISTRY
)
HTTP_REQUEST_SECONDS = Histogram(
    "coinslot_http_request_seconds", "HTTP request latency", ["route"], registry=REGISTRY
)
WEBHOOK_EVENTS = Counter(
    "coinslot_webhook_events_total",
    "Stripe events by outcome (received, duplicate, processed, ignored, failed, dead)",
    ["type", "outcome"],
    registry=REGISTRY,
)
CREDITS_MOVED = Counter(
    "coinslot_credits_moved_total",
    "Credits moved through the ledger, by entry kind",
    ["kind"],
    registry=REGISTRY,
)
ALERTS_RAISED = Counter("coinslot_alerts_total", "Alerts raised, by code", ["code"], registry=REGISTRY)
WEBHOOK_SIGNATURE_FAILURES = Counter(
    "coinslot_webhook_signature_failures_total",
    "Deliveries to /webhooks/stripe refused for a missing, forged or stale signature",
    registry=REGISTRY,
)
WEBHOOK_MALFORMED = Counter(
    "coinslot_webhook_malformed_total",
    "Signed deliveries to /webhooks/stripe refused (400, stored nowhere) because the body is not a "
    "well-formed Stripe event, by the field at fault",
    ["field"],
    registry=REGISTRY,
)
LEASE_TAKEOVERS = Counter(
    "coinslot_lease_takeovers_total",
    "Rows claimed from a worker whose lease ran out (it died or stalled holding them), by queue",
    ["queue"],
    registry=REGISTRY,
)
OUTBOUND_DELIVERIES = Counter(
    "coinslot_outbound_deliveries_total",
    "Deliveries of outbox messages to the host app, by outcome (delivered, failed, dead)",
    ["type", "outcome"],
    registry=REGISTRY,
)
GROUP_COMMIT_WRITES = Histogram(
    "coinslot_group_commit_writes",
    "Consumes and holds committed together in one transaction (group commit): 1 when writers come alone",
    buckets=(1, 2, 4, 8, 16, 32, 64),
    registry=REGISTRY,
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, request_id and any `extra` fields."""

    _RESERVED = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            body["request_id"] = request_id
        body.update(_log_fields.get() or {})
        for key, value in record.__dict__.items():
            if key not in self._RESERVED and not key.startswith("_"):
                body[key] = value
        if record.exc_info:
            body["exc"] = self.formatException(record.exc_info)
        return json.dumps(body, default=str)


def configure_logging(level: str = "INFO", *, json_lines: bool = True) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_coinslot", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._coinslot = True  # type: ignore[attr-defined]
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level.upper())


def configure_sentry(dsn: str | None) -> bool:
    """Turn Sentry on when a DSN is set and the optional package is installed."""
    if not dsn:
        return False
    try:
        import sentry_sdk  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        logging.getLogger(__name__).warning("COINSLOT_SENTRY_DSN is set but sentry-sdk is not installed")
        return False
    sentry_sdk.init(dsn=dsn, traces_sample_rate=0.0)
    return True


def registry_for_scrape(*extra: Collector) -> CollectorRegistry:
    """What /metrics shows: this process's figures, or every API process's in multiprocess mode;
    plus `extra` collectors (the database gauges)."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = CollectorRegistry()
        registry.register(_Forward(REGISTRY))
    for collector in extra:
        registry.register(collector)
    return registry


class _Forward(Collector):
    """This process's own registry, collected inside another one."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Any:
        return self._registry.collect()


def monotonic_s() -> float:
    return time.perf_counter()
