"""The figures Prometheus reads from the database at each scrape: are events and messages flowing?

    coinslot_database_up                            1 when the read below succeeded, else 0
    coinslot_inbox_backlog_events                   Stripe events received and not applied yet
    coinslot_inbox_oldest_pending_age_seconds       how long the oldest of them has waited (0: none)
    coinslot_inbox_dead_events                      dead letters waiting for `coinslot events replay`
    coinslot_outbox_backlog_messages                messages for the host not delivered yet
    coinslot_outbox_oldest_pending_age_seconds      how long the oldest of them has waited (0: none)
    coinslot_outbox_dead_messages                   dead letters waiting for `coinslot outbound replay`

Every process (API and worker) exports them, so a dead worker fleet is still seen by the API's
scrape: alert rules take the max over instances (`deploy/prometheus/alerts.yml`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator

from prometheus_client import start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from coinslot.clock import Clock
from coinslot.db import Database
from coinslot.observability import registry_for_scrape
from coinslot.outbound import service as outbound_service
from coinslot.webhooks import service as webhooks_service

__all__ = ["QueueGauges", "serve_metrics"]

log = logging.getLogger("coinslot.metrics")


def _age_s(oldest_at: dt.datetime | None, now: dt.datetime) -> float:
    return max(0.0, (now - oldest_at).total_seconds()) if oldest_at is not None else 0.0


class QueueGauges(Collector):
    """A Prometheus collector that reads the queues' state in one read-only transaction per scrape."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("coinslot_database_up", "1 when coinslot could read its database")
        try:
            with self._db.unit_of_work(read_only=True) as session:
                inbox = webhooks_service.backlog(session)
                inbox_dead = webhooks_service.dead_count(session)
                outbox = outbound_service.backlog(session)
                outbox_dead = outbound_service.dead_count(session)
        except Exception as exc:  # a scrape must answer even when the database does not
            log.warning("metrics: database unreadable", extra={"error": f"{type(exc).__name__}: {exc}"[:300]})
            up.add_metric([], 0)
            yield up
            return
        now = self._clock.now()
        up.add_metric([], 1)
        yield up
        figures = [
            ("coinslot_inbox_backlog_events", "Stripe events received and not applied yet", inbox.count),
            ("coinslot_inbox_oldest_pending_age_seconds",
             "Age of the oldest Stripe event not applied yet (0 when none)", _age_s(inbox.oldest_at, now)),
            ("coinslot_inbox_dead_events", "Stripe events dead-lettered, waiting for a replay", inbox_dead),
            ("coinslot_outbox_backlog_messages", "Messages for the host app not delivered yet", outbox.count),
            ("coinslot_outbox_oldest_pending_age_seconds",
             "Age of the oldest message for the host app not delivered yet (0 when none)",
             _age_s(outbox.oldest_at, now)),
            ("coinslot_outbox_dead_messages", "Messages for the host app dead-lettered", outbox_dead),
        ]
        for name, documentation, value in figures:
            gauge = GaugeMetricFamily(name, documentation)
            gauge.add_metric([], value)
            yield gauge


def serve_metrics(db: Database, clock: Clock, *, port: int, host: str = "0.0.0.0") -> Callable[[], None]:
    """/metrics of a process without an API (`coinslot worker`, `coinslot outbound send`) on its own port:
    its counters and the queue gauges. Returns the function that stops the server."""
    server, thread = start_http_server(port, addr=host, registry=registry_for_scrape(QueueGauges(db, clock)))

    def stop() -> None:
        server.shutdown()
        thread.join(timeout=5)

    return stop
