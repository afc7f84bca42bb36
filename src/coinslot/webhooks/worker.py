"""The worker: claim due events, re-read Stripe, apply + mark processed in one transaction, retry.

    claim (short tx) ──> fetch (no tx: Stripe reads) ──> apply + "processed" (one tx per batch,
                                    │                    a savepoint per event)
                                    │ an event's exception: its savepoint rolls back; applied alone
                                    └──> failed: attempts, error, traceback, next_attempt_at = now + backoff
                                         dead after `webhook_max_attempts` (or at once when the event
                                         cannot apply as sent): alert, `coinslot events replay`

Several workers side by side: a batch's transaction first locks the customers its events are about,
at once and in id order (never a deadlock between two batches), skipping those another transaction
holds; their events follow in a second transaction that waits for them. In test mode the batch's
Stripe test clocks move in a short transaction before the batch's (event_time.py).

A claim is a lease (`locked_by`, `locked_until`, `worker_lease_s` long) that a
heartbeat renews while the worker lives (`loop.py`): a worker killed mid-batch leaves its
events to be reclaimed within one lease, and a worker that comes back after
losing its lease applies nothing (it checks the lease in the same transaction
as the effects). Asked to stop (SIGTERM), a worker finishes the event it is
applying, hands the rest of its batch back (due at once, for the others), and
returns.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from coinslot.catalog import service as catalog_service
from coinslot.catalog.core import Catalog
from coinslot.config import Settings
from coinslot.container import Container, refresh_clock
from coinslot.errors import CoinslotError
from coinslot.models import WebhookAttempt, WebhookEvent
from coinslot.observability import WEBHOOK_EVENTS, log_context
from coinslot.outbound import service as outbox
from coinslot.queue import policy
from coinslot.queue import repository as queue
from coinslot.queue import service as queue_service
from coinslot.queue.kinds import STRIPE_EVENTS
from coinslot.queue.runner import new_worker_id
from coinslot.stripe_gateway.events import StripeEventData, parse_stored_event
from coinslot.webhooks import repository as webhooks_repo
from coinslot.webhooks.event_time import (
    batch_clocks,
    customer_of,
    event_time,
    lock_customers,
    settle_batch_clocks,
)
from coinslot.webhooks.handlers import HANDLERS, ApplyContext, Handler
from coinslot.webhooks.memo import TransactionMemo
from coinslot.webhooks.reader import GatewayReader, StripeReader

__all__ = [
    "Claimed",
    "apply_claimed",
    "backoff_s",
    "claim",
    "fetch_claimed",
    "lease_until",
    "new_worker_id",
    "process_due",
    "record_failure",
    "release",
    "replay",
]

log = logging.getLogger("coinslot.webhooks")
_ERROR_MAX_CHARS = 2000
_FETCH_THREADS = 4  # concurrent Stripe reads per batch: well under Stripe's rate limits


@dataclass(frozen=True, slots=True)
class Claimed:
    """An event leased to this worker, detached from its session."""

    id: int
    stripe_event_id: str
    type: str
    attempts: int
    event: StripeEventData
    # Sent by Stripe for the other mode than the key's (a live event reaching a test deployment or the
    # reverse): its objects do not exist for this key, so it is stored, never applied.
    other_mode: bool = False


def retry_policy(settings: Settings) -> policy.RetryPolicy:
    return policy.RetryPolicy(base_s=settings.webhook_retry_base_s, cap_s=settings.webhook_retry_cap_s,
                              max_attempts=settings.webhook_max_attempts)


def backoff_s(settings: Settings, *, stripe_event_id: str, attempts: int) -> float:
    """Exponential delay before retry `attempts`+1, capped, with jitter (see `queue.policy.backoff_s`)."""
    return policy.backoff_s(base_s=settings.webhook_retry_base_s, cap_s=settings.webhook_retry_cap_s,
                            attempts=attempts, seed=stripe_event_id)


def lease_until(container: Container) -> dt.datetime:
    """When a lease taken or renewed now runs out."""
    return container.clock.now() + dt.timedelta(seconds=container.settings.worker_lease_s)


def release(container: Container, claimed: list[Claimed], *, worker: str) -> int:
    """Hand back events claimed but not applied (a stopping worker): due again now, attempt uncounted."""
    with container.db.unit_of_work() as session:
        return queue.release(session, STRIPE_EVENTS, row_ids=[item.id for item in claimed], worker=worker,
                             now=container.clock.now())


# What a claim reads of each row: no ORM objects (`queue.claim_due_columns`).
_CLAIMED_COLUMNS = (WebhookEvent.id, WebhookEvent.stripe_event_id, WebhookEvent.type, WebhookEvent.attempts,
                    WebhookEvent.payload, WebhookEvent.livemode)


def claim(container: Container, *, worker: str, limit: int) -> list[Claimed]:
    now = container.clock.now()
    key_mode = container.settings.stripe_mode  # None without a key: nothing to compare with
    with container.db.unit_of_work() as session:
        rows = queue.claim_due_columns(session, STRIPE_EVENTS, _CLAIMED_COLUMNS, now=now, worker=worker,
                                       lease_until=lease_until(container), limit=limit)
    return [
        Claimed(row_id, stripe_event_id, event_type, attempts, parse_stored_event(payload),
                other_mode=key_mode is not None and livemode != (key_mode == "live"))
        for row_id, stripe_event_id, event_type, attempts, payload, livemode in rows
    ]


def _handler_for(claimed: Claimed) -> Handler | None:
    """The event's handler; None for types coinslot ignores, for events of the other mode, and for events
    their type's handler ignores as sent (`Handler.wants`: e.g. a payment intent that is no top-up)."""
    handler = None if claimed.other_mode else HANDLERS.get(claimed.type)
    return handler if handler is not None and handler.wants(claimed.event) else None


def fetch_claimed(claimed: Claimed, reader: StripeReader) -> Any:
    """Phase 1, outside any transaction: what the handler needs from Stripe (None for ignored types)."""
    handler = _handler_for(claimed)
    return handler.fetch(claimed.event, reader) if handler is not None else None


def _ignore_other_mode(session: Any, claimed: Claimed, *, now: dt.datetime) -> None:
    event_mode = "live" if claimed.event.livemode else "test"
    key_mode = "test" if claimed.event.livemode else "live"
    log.warning("webhook event of the other mode ignored", extra={
        "stripe_event_id": claimed.stripe_event_id, "event_type": claimed.type, "event_mode": event_mode})
    outbox.raise_alert(
        session,
        code="webhook.other_mode",
        now=now,
        subject_type="webhook_event",
        subject_id=claimed.stripe_event_id,
        message=f"Stripe event {claimed.stripe_event_id} ({claimed.type}) is a {event_mode}-mode event but "
        f"coinslot runs with a {key_mode} key: stored and ignored. A {event_mode}-mode webhook endpoint "
        "points at this deployment; point it at the deployment of its own mode.",
    )


def apply_claimed(
    container: Container,
    claimed: Claimed,
    fetched: Any,
    *,
    worker: str,
    load_catalog: Callable[[], Catalog],
    started_at: dt.datetime,
    test_clock: tuple[str, int] | None = None,
) -> str:
    """Phase 2 for one event alone: its effects and its processed mark, committed together. Returns the
    outcome. `test_clock`: (id, time) of the Stripe test clock the event's object runs on, read in phase 1.
    (A batch applies many events in one transaction: `_apply_batch`.)"""
    now = container.clock.now()
    with container.db.unit_of_work() as session:
        row = queue.held_lease(session, STRIPE_EVENTS, row_id=claimed.id, worker=worker)
        if row is None:
            return "lease_lost"  # another worker reclaimed it: it applies, we do not
        outcome = _apply_effects(session, container, claimed, fetched, now=now, load_catalog=load_catalog,
                                 test_clock=test_clock, memo=TransactionMemo())
        row.status = outcome
        row.processed_at = now
        row.last_error = None
        row.locked_by = row.locked_until = row.next_attempt_at = None
        _add_attempt(session, row, worker=worker, started_at=started_at, now=now, outcome=outcome, error=None)
    WEBHOOK_EVENTS.labels(claimed.type, outcome).inc()
    return outcome


def _apply_effects(
    session: Any, container: Container, claimed: Claimed, fetched: Any, *, now: dt.datetime,
    load_catalog: Callable[[], Catalog], test_clock: tuple[str, int] | None, memo: TransactionMemo,
) -> str:
    """An event's effects (its handler's apply), in the caller's transaction; the outcome. `memo`: what
    the transaction learned from its earlier events (memo.py)."""
    handler = _handler_for(claimed)
    if handler is not None:
        grace = dt.timedelta(days=container.settings.past_due_grace_days)
        event_now = event_time(session, claimed.event, now=now, test_clock=test_clock, memo=memo)
        return handler.apply(ApplyContext(session, event_now, load_catalog, grace, memo), claimed.event,
                             fetched)
    if claimed.other_mode:
        _ignore_other_mode(session, claimed, now=now)
    return "ignored"


def _add_attempt(
    session: Any,
    row: WebhookEvent,
    *,
    worker: str,
    started_at: dt.datetime,
    now: dt.datetime,
    outcome: str,
    error: str | None,
) -> None:
    session.add(
        WebhookAttempt(
            event_id=row.id,
            number=row.attempts,
            worker=worker,
            started_at=started_at,
            finished_at=now,
            outcome=outcome,
            error=error,
        )
    )


def record_failure(
    container: Container, claimed: Claimed, exc: BaseException, *, worker: str, started_at: dt.datetime
) -> str:
    """Roll-back already happened; keep the error and schedule the retry, or dead-letter and alert."""
    now = container.clock.now()
    error = f"{type(exc).__name__}: {exc}"[:_ERROR_MAX_CHARS]
    with container.db.unit_of_work() as session:
        row = queue.held_lease(session, STRIPE_EVENTS, row_id=claimed.id, worker=worker)
        if row is None:
            return "lease_lost"
        # An error that says the event cannot apply as sent (`retriable=False`: a paid session naming no
        # user, a price no plan stands for): retrying only delays the alert. Every other error is retried.
        unprocessable = isinstance(exc, CoinslotError) and not exc.retriable
        dead = policy.fail(row, policy=retry_policy(container.settings), seed=row.stripe_event_id, now=now,
                           retriable=not unprocessable) == "dead"
        row.last_error = error
        row.last_traceback = "".join(traceback.format_exception(exc))[-20_000:]
        _add_attempt(
            session, row, worker=worker, started_at=started_at, now=now, outcome=row.status, error=error
        )
        if dead:
            code = "webhook.unprocessable" if unprocessable else "webhook.dead"
            outbox.raise_alert(
                session,
                code=code,
                now=now,
                subject_type="webhook_event",
                subject_id=row.stripe_event_id,
                message=f"Stripe event {row.stripe_event_id} ({row.type}) is dead after {row.attempts} "
                f"attempt(s): {error}. Fix the cause, then `coinslot events replay {row.stripe_event_id}`.",
            )
        outcome = row.status
    WEBHOOK_EVENTS.labels(claimed.type, outcome).inc()
    log.warning(
        "webhook event failed",
        extra={
            "stripe_event_id": claimed.stripe_event_id,
            "event_type": claimed.type,
            "outcome": outcome,
            "error": error,
        },
    )
    return outcome


@dataclass(frozen=True, slots=True)
class _Fetched:
    value: Any = None
    error: Exception | None = None
    test_clock: tuple[str, int] | None = None  # (clock id, its time now): the object lives on it


def _fetch_one(claimed: Claimed, reader: StripeReader) -> _Fetched:
    try:
        return _Fetched(fetch_claimed(claimed, reader), test_clock=_read_test_clock(claimed, reader))
    except Exception as exc:  # recorded on the row when the event's turn to apply comes
        return _Fetched(error=exc)


def _read_test_clock(claimed: Claimed, reader: StripeReader) -> tuple[str, int] | None:
    """Test mode: the time now of the Stripe test clock the event's object runs on (customers, subscriptions
    and invoices name it), read with the batch's other reads. The clock's own `ready` event may come after
    the renewal it ran; read now, the renewal is applied at the time it happened after, as in production."""
    clock_id = claimed.event.object.get("test_clock")
    read = getattr(reader, "test_clock_time", None)  # a test's scripted reader may not know clocks
    if claimed.event.livemode or not isinstance(clock_id, str) or read is None:
        return None
    return clock_id, int(read(clock_id))


def _fetch_batch(claimed: list[Claimed], reader: StripeReader) -> list[_Fetched]:
    """Phase 1 for the whole batch, outside any transaction, a few reads at a time.

    One by one, the Stripe reads were 37% of processing (docs/benchmarks.md); they are independent
    (each is at least as new as every event of the batch, see reader.py), so they overlap here and
    only the applying stays in order, one transaction per event.
    """
    if len(claimed) < 2 or not getattr(reader, "thread_safe", False):  # e.g. a test's scripted reader
        return [_fetch_one(item, reader) for item in claimed]
    with ThreadPoolExecutor(max_workers=_FETCH_THREADS, thread_name_prefix="coinslot-fetch") as pool:
        return list(pool.map(lambda item: _fetch_one(item, reader), claimed))


def _note_payloads(reader: StripeReader, claimed: list[Claimed]) -> None:
    """Show the reader the batch's payloads: an object one of them gives in a final state is not
    re-read (webhooks/settled.py). Only events that are applied count; a test's reader may not care."""
    note = getattr(reader, "note_payload", None)
    if note is None:
        return
    for item in claimed:
        if _handler_for(item) is not None:
            note(item.event.object)


def _customer_of(claimed: Claimed) -> str | None:
    """The Stripe customer an event is about, for the log lines written while applying it."""
    obj = claimed.event.object
    if obj.get("object") == "customer":
        return claimed.event.object_id
    customer = obj.get("customer")
    return customer if isinstance(customer, str) else None


def _process_one(
    container: Container,
    claimed: Claimed,
    fetched: _Fetched,
    *,
    worker: str,
    load_catalog: Callable[[], Catalog],
    started_at: dt.datetime,
) -> str:
    with log_context(stripe_event_id=claimed.stripe_event_id, event_type=claimed.type,
                     customer=_customer_of(claimed), worker=worker):
        outcome = _apply_or_record(container, claimed, fetched, worker=worker, load_catalog=load_catalog,
                                   started_at=started_at)
        log.info("webhook event applied", extra={"outcome": outcome})
        return outcome


def _apply_or_record(
    container: Container,
    claimed: Claimed,
    fetched: _Fetched,
    *,
    worker: str,
    load_catalog: Callable[[], Catalog],
    started_at: dt.datetime,
) -> str:
    try:
        if fetched.error is not None:
            raise fetched.error
        return apply_claimed(
            container, claimed, fetched.value, worker=worker, load_catalog=load_catalog,
            started_at=started_at, test_clock=fetched.test_clock,
        )
    except Exception as exc:  # every failure is kept on the row and retried; nothing is half-applied
        return record_failure(container, claimed, exc, worker=worker, started_at=started_at)


@dataclass
class _Batch:
    """What one batch transaction did: events finished in it, events to apply alone, events handed back."""

    finished: list[tuple[Claimed, str]]
    alone: list[tuple[Claimed, _Fetched]]
    released: int = 0
    # Events of customers another worker's transaction held: applied by a second transaction after this
    # one commits (`process_due`), which waits for them.
    deferred: list[tuple[Claimed, _Fetched]] = field(default_factory=list)


def _apply_batch(
    container: Container,
    pairs: list[tuple[Claimed, _Fetched]],
    *,
    worker: str,
    load_catalog: Callable[[], Catalog],
    started_at: dt.datetime,
    stop: threading.Event | None,
    clocks_settled: set[tuple[str, int]],
    skip_busy: bool,
) -> _Batch:
    """Phase 2 for a whole batch in one transaction, each event's effects in a savepoint of their own.

    One commit per batch instead of one per event (a commit's fsync was the largest cost of processing,
    docs/benchmarks.md). Every event's effects still commit with its processed mark: both are in this
    transaction. An event whose effects raise rolls back its savepoint only and is applied again alone
    after the batch (`_apply_or_record`), where a second failure is recorded on its row; so is an event
    whose Stripe read failed. The lease check, the processed marks and the attempt rows are set-based
    statements (webhooks/repository.py); ignored events cost no savepoint. The customers of the events
    to apply are locked before the first (`event_time.lock_customers`); with `skip_busy`, the events of
    customers another transaction holds are left in `deferred`, unapplied.
    """
    now = container.clock.now()
    batch = _Batch(finished=[], alone=[])
    memo = TransactionMemo(advanced=set(clocks_settled))
    with container.db.unit_of_work() as session:
        held = webhooks_repo.held_leases(session, row_ids=[item.id for item, _ in pairs], worker=worker,
                                         leased=STRIPE_EVENTS.leased)
        applied = [item.event for item, fetched in pairs
                   if item.id in held and fetched.error is None and _handler_for(item) is not None]
        busy = lock_customers(session, applied, memo=memo, skip_busy=skip_busy)
        for done, (item, fetched) in enumerate(pairs):
            if stop is not None and stop.is_set():
                rest = [i.id for i, _ in pairs[done:]]
                batch.released = queue.release(session, STRIPE_EVENTS, row_ids=rest, worker=worker, now=now)
                break
            if item.id not in held:
                batch.finished.append((item, "lease_lost"))  # another worker reclaimed it: it applies
            elif fetched.error is not None:
                batch.alone.append((item, fetched))
            elif _handler_for(item) is None and not item.other_mode:
                batch.finished.append((item, "ignored"))
            elif busy and customer_of(item.event) in busy:
                batch.deferred.append((item, fetched))
            else:
                try:
                    with session.begin_nested():
                        outcome = _apply_effects(session, container, item, fetched.value, now=now,
                                                 load_catalog=load_catalog, test_clock=fetched.test_clock,
                                                 memo=memo)
                except Exception:  # rolled back to its savepoint; applied alone next, where it is recorded
                    memo.forget()
                    log.info("webhook event failed in its batch; applying it alone",
                             extra={"stripe_event_id": item.stripe_event_id, "event_type": item.type})
                    batch.alone.append((item, fetched))
                    continue
                batch.finished.append((item, outcome))
        marks = [webhooks_repo.Finished(item.id, item.attempts, outcome)
                 for item, outcome in batch.finished if outcome != "lease_lost"]
        webhooks_repo.mark_finished(session, marks, now=now)
        webhooks_repo.add_attempts(session, marks, worker=worker, started_at=started_at, now=now)
    return batch


def _settle_clocks(container: Container, pairs: list[tuple[Claimed, _Fetched]]) -> set[tuple[str, int]]:
    """Test mode: the batch's test clocks moved to the times read with it, in a short transaction before
    the batch's (`event_time.settle_batch_clocks`); the (clock, time) pairs recorded. On a failure, none:
    each event then moves its clock in the batch's transaction, as a lone event does. A batch that names
    no clock (every live one) opens no transaction."""
    clocks = batch_clocks((item.event, fetched.test_clock) for item, fetched in pairs
                          if fetched.error is None and _handler_for(item) is not None)
    if not clocks.times:
        return set()
    try:
        with container.db.unit_of_work() as session:
            settle_batch_clocks(session, clocks, now=container.clock.now())
        return clocks.pairs
    except Exception:  # the batch's own transaction meets the same cause, and handles it
        log.warning("could not settle the batch's test clocks first", exc_info=True)
        return set()


def process_due(
    container: Container,
    *,
    limit: int = 50,
    worker: str | None = None,
    reader: StripeReader | None = None,
    load_catalog: Callable[[], Catalog] | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Claim and process one batch of due events synchronously; the number claimed (0 = nothing due).

    With `stop`: once it is set, the event being applied finishes and the rest of the batch is
    released (due again now for other workers) instead of applied.
    """
    worker = worker or new_worker_id()
    refresh_clock(container.clock)  # a Stripe test clock that just moved: apply at its time
    claimed = claim(container, worker=worker, limit=limit)
    if not claimed:
        return 0
    reader = reader or GatewayReader(lambda: container.gateway, container.clock)
    _note_payloads(reader, claimed)
    loader = load_catalog or (lambda: catalog_service.get_catalog(container.settings))
    started_at = container.clock.now()
    pairs = list(zip(claimed, _fetch_batch(claimed, reader), strict=True))
    clocks_settled = _settle_clocks(container, pairs)

    def apply(part: list[tuple[Claimed, _Fetched]], *, skip_busy: bool) -> _Batch:
        try:
            return _apply_batch(container, part, worker=worker, load_catalog=loader, started_at=started_at,
                                stop=stop, clocks_settled=clocks_settled, skip_busy=skip_busy)
        except Exception:  # the transaction itself failed (the database gone, a deadlock): one by one
            log.warning("webhook batch failed; applying its events one by one", exc_info=True,
                        extra={"worker": worker, "events": len(part)})
            return _Batch(finished=[], alone=part)

    batch = apply(pairs, skip_busy=True)
    if batch.deferred:
        # The events of customers another worker's batch held, in a transaction that waits for them: the
        # rest of the batch went ahead beside that worker instead of after it.
        later = apply(batch.deferred, skip_busy=False)
        batch = _Batch(finished=batch.finished + later.finished, alone=batch.alone + later.alone,
                       released=batch.released + later.released)
    for item, outcome in batch.finished:
        if outcome != "lease_lost":
            WEBHOOK_EVENTS.labels(item.type, outcome).inc()
        with log_context(stripe_event_id=item.stripe_event_id, event_type=item.type,
                         customer=_customer_of(item), worker=worker):
            log.info("webhook event applied", extra={"outcome": outcome})
    if batch.released:
        log.info("worker stopping: released the rest of its batch", extra={"worker": worker,
                                                                            "released": batch.released})
    for done, (item, fetched) in enumerate(batch.alone):
        if stop is not None and stop.is_set():
            released = release(container, [i for i, _ in batch.alone[done:]], worker=worker)
            log.info("worker stopping: released the rest of its batch", extra={"worker": worker,
                                                                                "released": released})
            break
        _process_one(container, item, fetched, worker=worker, load_catalog=loader, started_at=started_at)
    return len(claimed)


def replay(container: Container, *, event_ref: str | int) -> WebhookEvent:
    """Make an event due again now, with a fresh count of attempts (its history is kept)."""
    with container.db.unit_of_work() as session:
        return queue_service.replay(session, STRIPE_EVENTS, ref=event_ref, now=container.clock.now())
