"""Group commit for the inbox: concurrent deliveries share one transaction, each still answered only
after its own row is committed.

Stored one transaction per request, every delivery paid a commit with an fsync
(SQLite WAL + synchronous FULL, PostgreSQL with fsync on), and on SQLite the
commits queue behind the single write lock: 64 concurrent deliveries waited
~64 commits, p99 0.6-1.6 s (docs/benchmarks.md, webhook receive). Here one
writer thread per database takes whatever deliveries are waiting, inserts
them (`inbox.store_events`, ON CONFLICT DO NOTHING) in one transaction and
commits once; each request awaits its own result. Nothing is acknowledged
before it is durable, and a duplicate in the same batch is still a duplicate.
If a batch fails, its events are retried one per transaction, so a bad event
fails only its own request.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
import weakref
from concurrent.futures import Future
from dataclasses import dataclass, field

from coinslot.db import Database
from coinslot.stripe_gateway.events import StripeEventData
from coinslot.webhooks.inbox import store_events

__all__ = ["InboxWriter", "inbox_writer"]

_MAX_BATCH = 128  # more than the deliveries Stripe keeps in flight per endpoint
_IDLE_S = 1.0  # the writer thread ends after this long without work (a new one starts on demand)


@dataclass(frozen=True, slots=True)
class _Pending:
    event: StripeEventData
    payload: bytes
    now: dt.datetime
    result: Future[bool] = field(default_factory=Future)


class InboxWriter:
    """Stores events for one database, batching the ones that arrive together."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._queue: queue.SimpleQueue[_Pending] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._running = False

    def submit(self, *, event: StripeEventData, payload: bytes, now: dt.datetime) -> Future[bool]:
        """Queue the event; the future resolves, once committed, to True when it is new."""
        pending = _Pending(event, payload, now)
        self._queue.put(pending)
        with self._lock:
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, name="coinslot-inbox-writer", daemon=True).start()
        return pending.result

    def _run(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=_IDLE_S)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():  # checked under the lock `submit` starts threads under
                        self._running = False
                        return
                continue
            batch = [first]
            while len(batch) < _MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write(batch)

    def _write(self, batch: list[_Pending]) -> None:
        try:
            with self._db.unit_of_work() as session:
                stored = store_events(session, [(p.event, p.payload, p.now) for p in batch])
        except Exception as exc:  # rolled back: nothing of the batch is stored
            if len(batch) == 1:
                batch[0].result.set_exception(exc)
                return
            for pending in batch:
                self._write([pending])
            return
        for pending, is_new in zip(batch, stored, strict=True):
            pending.result.set_result(is_new)


_writers: weakref.WeakKeyDictionary[Database, InboxWriter] = weakref.WeakKeyDictionary()
_writers_lock = threading.Lock()


def inbox_writer(db: Database) -> InboxWriter:
    """The writer of this database (one per database, so batches never mix databases)."""
    with _writers_lock:
        writer = _writers.get(db)
        if writer is None:
            writer = _writers[db] = InboxWriter(db)
        return writer
