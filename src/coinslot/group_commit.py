"""Group commit: concurrent short writes of one process share one transaction and one commit.

A consume is a few statements and one commit; on a hot account every writer waits for the one before
it, and the commit (an fsync on SQLite's WAL, a WAL flush on PostgreSQL with synchronous_commit on)
is most of each turn. Here the first writer to arrive leads: it takes every write queued behind it,
runs each in its own savepoint of one transaction, commits once, and only then answers each caller,
so no caller hears "done" before its own entry is durable. Then it hands the lead to the oldest
waiter. Nothing waits for a batch to fill: a write arriving alone is committed alone.

A write that raises one of the `refusals` (a 402, a 409: the caller's answer) rolls back its own
savepoint and the rest of the batch goes on. A write that fails otherwise (a database error in its
savepoint) and a batch whose transaction fails as a whole (a deadlock with another process, the
database gone) are run again one by one, each in its own transaction, so every caller gets the answer
it would have had alone: the batch's transaction never committed anything of them.

A savepoint costs two statements and the ORM's bookkeeping around them, as much as a whole plain
consume (docs/benchmarks.md, consume). A write may come with a `plain` first try that needs none: it
either answers (its writes complete) or returns None having written nothing, and never raises a
refusal. It runs in the batch's transaction itself; None sends the write to `work` in its savepoint as
usual, and any exception from it fails the batch as a whole (so a half-done plain write is never
committed: every write of the batch is run again alone, with `work`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from coinslot.observability import GROUP_COMMIT_WRITES

__all__ = ["GroupCommit"]

T = TypeVar("T")

# Enough to cover every writer of a busy process, small enough that one batch's savepoints stay a short
# transaction (PostgreSQL holds the touched accounts' row locks until its commit).
DEFAULT_MAX_BATCH = 64


def _closed_gate() -> threading.Lock:
    gate = threading.Lock()
    gate.acquire()
    return gate


@dataclass(eq=False)
class _Write(Generic[T]):
    work: Callable[[Session], T]
    plain: Callable[[Session], T | None] | None = None
    # Opened once the write is done or made the leader: a lock taken at birth that the waiter blocks on,
    # which costs less than a threading.Event (a Condition, and a new lock per wait) on every consume.
    # Opened by one thread at a time: the leader that made this write its successor, then the leader of
    # its batch (itself, in that case, after it woke).
    gate: threading.Lock = field(default_factory=_closed_gate)
    opened: bool = False
    leads: bool = False
    done: bool = False
    again_alone: bool = False
    value: Any = None
    error: BaseException | None = None

    def open(self) -> None:
        if not self.opened:
            self.opened = True
            self.gate.release()

    def answer(self) -> T:
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[no-any-return]


class GroupCommit:
    """Runs `work(session)` in a transaction shared with the writes queued beside it (see the module)."""

    def __init__(
        self,
        unit_of_work: Callable[[], AbstractContextManager[Session]],
        *,
        refusals: tuple[type[BaseException], ...],
        max_batch: int = DEFAULT_MAX_BATCH,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._refusals = refusals
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Write[Any]] = []
        self._busy = False  # a leader is running a batch; when False the queue is empty

    def run(self, work: Callable[[Session], T], *, plain: Callable[[Session], T | None] | None = None) -> T:
        """`work`'s answer once it is committed (or its exception, nothing of it written); `plain`'s when
        it answers first (see the module)."""
        mine: _Write[T] = _Write(work, plain)
        with self._lock:
            self._queue.append(mine)
            if not self._busy:
                self._busy = mine.leads = True
        if not mine.leads:
            mine.gate.acquire()  # until `open()`
        if not mine.done:  # the leader: its own write is first in the queue, so in this batch
            self._lead()
        return mine.answer()

    def _lead(self) -> None:
        with self._lock:
            batch, self._queue[:] = self._queue[: self._max_batch], self._queue[self._max_batch:]
        try:
            self._commit(batch)
        finally:
            for write in batch:
                write.done = True
            with self._lock:
                if self._queue:
                    successor = self._queue[0]
                    successor.leads = True
                    successor.open()
                else:
                    self._busy = False
            for write in batch:
                write.open()

    def _commit(self, batch: list[_Write[Any]]) -> None:
        GROUP_COMMIT_WRITES.observe(len(batch))
        try:
            with self._unit_of_work() as session:
                for write in batch:
                    if write.plain is not None and (value := write.plain(session)) is not None:
                        write.value = value
                        continue
                    self._run_in_savepoint(session, write)
        except Exception:
            # Nothing of the batch was written: each write is run again alone.
            for write in batch:
                write.value, write.error, write.again_alone = None, None, True
        for write in batch:
            if write.again_alone:
                self._run_alone(write)

    def _run_in_savepoint(self, session: Session, write: _Write[Any]) -> None:
        try:
            with session.begin_nested():
                write.value = write.work(session)
        except self._refusals as refused:
            write.error = refused
        except Exception:
            write.again_alone = True

    def _run_alone(self, write: _Write[Any]) -> None:
        try:
            with self._unit_of_work() as session:
                write.value = write.work(session)
        except Exception as exc:  # the caller's own answer, raised in its thread
            write.error = exc

