"""Structured JSON logs with a request id, Prometheus metrics, optional Sentry.

Every part of coinslot reports through the metrics defined here, so the
names stay in one list an operator can read.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = [
    "CREDITS_MOVED",
    "HTTP_REQUESTS",
    "HTTP_REQUEST_SECONDS",
    "OUTBOUND_DELIVERIES",
    "REGISTRY",
    "WEBHOOK_EVENTS",
    "configure_logging",
    "request_id_var",
]

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

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
OUTBOUND_DELIVERIES = Counter(
    "coinslot_outbound_deliveries_total",
    "Deliveries of outbox messages to the host app, by outcome (delivered, failed, dead)",
    ["type", "outcome"],
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


def monotonic_s() -> float:
    return time.perf_counter()
