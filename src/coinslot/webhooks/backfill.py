"""Backfill: store every Stripe event the inbox missed, read from Stripe's events list.

Stripe delivers to enabled endpoints only, retries for a few days, and lists events for 30 days.
An endpoint that was disabled, or down longer than Stripe's retries, misses events that
`delivery_success=false` does not even name (a disabled endpoint was never owed them). So the
backfill lists *every* event since a cursor and inserts each into the inbox as a delivery would
(`inbox.store_event`, ON CONFLICT DO NOTHING): the worker applies them with the same handlers, and
what was already stored changes nothing.

    cursor          `sync_cursors['stripe_events'].position`: every event created before it has been
                    listed. Moved only when a listing completes, to the newest `created` it saw.
    first run       no cursor yet: from the newest event stored (what coinslot already received), or
                    everything Stripe lists when the inbox is empty
    overlap         each run starts OVERLAP_S before the cursor: an event can appear in the list a
                    little after its `created` second, and one second holds many events
    one at a time   the run is leased on the cursor row: workers running it on an interval, and an
                    operator's `coinslot reconcile`, never list twice at once
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from coinslot.container import Container
from coinslot.models import SyncCursor
from coinslot.outbound import service as outbox
from coinslot.queue.runner import new_worker_id, start_loop_thread
from coinslot.webhooks import repository
from coinslot.webhooks.handlers import HANDLERS
from coinslot.webhooks.inbox import store_event

__all__ = [
    "CURSOR",
    "OVERLAP_S",
    "STRIPE_EVENTS_KEPT_S",
    "BackfillReport",
    "backfill_events",
    "start_backfill_loop",
]

log = logging.getLogger("coinslot.webhooks")

CURSOR = "stripe_events"
OVERLAP_S = 300
STRIPE_EVENTS_KEPT_S = 30 * 86400  # Stripe lists events of the last 30 days
RUN_LEASE_S = 900.0  # longer than listing a month of events; a crashed run frees the cursor after it
_MAX_FILTER_TYPES = 20  # Stripe's limit on `types[]`
_LOOP_CHECK_S = 60.0  # how often the loop looks whether a run is due (the interval itself is longer)


@dataclass
class BackfillReport:
    """What one run did: `ran` False when another run held the cursor, or the interval had not passed."""

    ran: bool = False
    since: int | None = None  # the `created` the listing started from (None: all Stripe keeps)
    listed: int = 0
    stored: list[str] = field(default_factory=list)
    # The cursor was older than Stripe keeps events: events from before the window may be lost for good
    # (a subscription's state is repaired by `coinslot reconcile`; grants of such events are not).
    gap_s: int = 0


def _take_run(session: Session, *, worker: str, now: dt.datetime, min_interval_s: float) -> SyncCursor | None:
    row = repository.cursor_for_update(session, name=CURSOR, create=True)
    assert row is not None
    if row.locked_until is not None and row.locked_until > now and row.locked_by != worker:
        return None  # another run is listing
    if min_interval_s and row.finished_at is not None and row.finished_at + dt.timedelta(
        seconds=min_interval_s
    ) > now:
        return None  # ran recently enough
    row.locked_by = worker
    row.locked_until = now + dt.timedelta(seconds=RUN_LEASE_S)
    return row


def _types_filter() -> list[str]:
    # Only the types coinslot acts on (fewer pages to read), when Stripe's filter can hold them all.
    types = sorted(HANDLERS)
    return types if len(types) <= _MAX_FILTER_TYPES else []


def backfill_events(
    container: Container, *, worker: str | None = None, min_interval_s: float = 0.0
) -> BackfillReport:
    """List Stripe's events since the cursor and store the ones the inbox lacks; move the cursor.

    `min_interval_s`: skip (report `ran=False`) when a run finished less than this long ago.
    """
    worker = worker or new_worker_id()
    report = BackfillReport()
    livemode = container.gateway.livemode
    with container.db.unit_of_work() as session:
        row = _take_run(session, worker=worker, now=container.clock.now(), min_interval_s=min_interval_s)
        if row is None:
            return report
        position = row.position
        if position is None:
            position = repository.newest_stored_created(session, livemode=livemode)
    report.ran = True
    report.since = None if position is None else max(0, position - OVERLAP_S)
    newest_seen: int | None = None
    try:
        for page in container.gateway.events.list_since(created_gte=report.since, types=_types_filter()):
            report.listed += len(page)
            newest_seen = max([newest_seen or 0, *(event.created_s for event, _ in page)])
            now = container.clock.now()
            with container.db.unit_of_work() as session:
                # Oldest first within the page (Stripe lists newest first): the worker applies events of
                # one second in the order of their rows, and a refund should not come before its sale.
                for event, raw in reversed(page):
                    if store_event(session, event=event, payload=raw.encode(), now=now):
                        report.stored.append(event.id)
    except BaseException:
        _finish(container, worker=worker, completed=False)  # free the cursor; the next run starts over
        raise
    if report.since is not None and newest_seen is not None:
        report.gap_s = max(0, newest_seen - STRIPE_EVENTS_KEPT_S - report.since)
    _finish(container, worker=worker, completed=True, position=newest_seen, gap_s=report.gap_s,
            since=report.since)
    if report.stored:
        log.warning("backfilled Stripe events the inbox had missed", extra={
            "events": len(report.stored), "first_event": report.stored[-1], "since": report.since})
    return report


def _finish(
    container: Container,
    *,
    worker: str,
    completed: bool,
    position: int | None = None,
    gap_s: int = 0,
    since: int | None = None,
) -> None:
    now = container.clock.now()
    with container.db.unit_of_work() as session:
        row = repository.cursor_for_update(session, name=CURSOR)
        if row is None or row.locked_by != worker:
            return  # our lease ran out and another run took over: it moves the cursor
        if completed:
            row.finished_at = now
        if position is not None:
            row.position = max(row.position or 0, position)
        row.locked_by = row.locked_until = None
        if gap_s:
            outbox.raise_alert(
                session,
                code="reconcile.gap",
                now=now,
                subject_type="sync_cursor",
                subject_id=CURSOR,
                message=f"the backfill started {gap_s} s before the oldest event Stripe lists (30 days): "
                f"events between {since} and then may be lost for good. Run `coinslot reconcile` to repair "
                "subscription state, and check grants and orders of that time by hand.",
            )


def start_backfill_loop(container: Container) -> Callable[[], None] | None:
    """`coinslot worker`'s periodic backfill (every `reconcile_interval_s`; 0 = off), in a thread.

    Every worker process runs the loop; the cursor's lease and `finished_at` make one run per
    interval across all of them.
    """
    interval_s = container.settings.reconcile_interval_s
    if interval_s <= 0:
        return None
    worker = new_worker_id()

    def loop(stop: threading.Event) -> None:
        while not stop.wait(min(interval_s, _LOOP_CHECK_S)):
            try:
                backfill_events(container, worker=worker, min_interval_s=interval_s)
            except Exception:  # Stripe or the database unreachable: the next turn tries again
                log.exception("backfill from Stripe's events list failed; trying again later")

    return start_loop_thread("coinslot-backfill", loop)
