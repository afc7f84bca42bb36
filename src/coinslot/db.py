"""Engine, sessions and the unit of work.

One transaction per request, per inbox event, per CLI command: the edge opens
it with `unit_of_work()` and it commits when the block ends (or rolls back on
an exception). Services and repositories receive the session and never commit.

SQLite is the embedded default and PostgreSQL the production database. On
SQLite every write transaction starts with BEGIN IMMEDIATE, so two writers
never both read a balance and then both write it: the second waits for the
first (busy_timeout) instead of failing at COMMIT. Read-only units use a plain
deferred BEGIN and run beside writers thanks to WAL.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

__all__ = ["Base", "Database", "UtcDateTime"]

# Stable constraint names, so Alembic migrations read the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every database.

    SQLite has no time zones and hands back naive values; comparing those with
    aware ones raises, so values are stored as naive UTC and read back aware.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to UtcDateTime; use coinslot.clock")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


_READ_ONLY = "coinslot_read_only"
SQLITE_POOL_SIZE = 64  # above the 40 worker threads of a server; connections open lazily


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own
        # transaction handling would start a DEFERRED one behind our back).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(_READ_ONLY, False)
        # Straight to the driver: `exec_driver_sql` ran SQLAlchemy's whole execution path for these
        # few bytes, a fifth of an in-process check (docs/benchmarks.md, check in process).
        connection.connection.driver_connection.execute("BEGIN" if read_only else "BEGIN IMMEDIATE")


class _WriterTurns:
    """First come, first served turns for one process's SQLite writers; reentrant for the holder.

    `threading.Lock` is not fair: a thread that commits and at once starts its next write takes the
    lock again before a woken waiter runs, and 16 threads consuming on one database saw a 2.4 s p99
    behind a 3 ms p50 (docs/benchmarks.md, consume). Each waiter here gets its own gate, opened in
    arrival order.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiting: deque[tuple[int, threading.Lock]] = deque()
        self._owner: int | None = None
        self._depth = 0

    def __enter__(self) -> None:
        me = threading.get_ident()
        with self._mutex:
            if self._owner == me or (self._owner is None and not self._waiting):
                self._owner = me
                self._depth += 1
                return
            gate = threading.Lock()
            gate.acquire()
            self._waiting.append((me, gate))
        gate.acquire()  # opened by the previous holder, which made us the owner

    def __exit__(self, *_exc: object) -> None:
        with self._mutex:
            self._depth -= 1
            if self._depth:
                return
            if not self._waiting:
                self._owner = None
                return
            self._owner, gate = self._waiting.popleft()
            self._depth = 1
            gate.release()


class Database:
    """Owns the engine and hands out units of work."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.is_sqlite:
            # A pool of SQLite connections shared by threads: check_same_thread off,
            # serialisation comes from BEGIN IMMEDIATE + busy_timeout.
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
            if ":memory:" in url:
                # Each new connection to ":memory:" is a new, empty database: every unit of work
                # must share the one connection (so the tables created first are the ones used).
                kwargs["poolclass"] = StaticPool
            else:
                # As many pooled connections as the server's threadpool has threads (AnyIO: 40): with
                # SQLAlchemy's default 5 + 10 overflow, 16 and 64 concurrent checks opened and closed
                # a connection (and its PRAGMAs) per request, slower than 1 (docs/benchmarks.md).
                kwargs["pool_size"] = SQLITE_POOL_SIZE
                kwargs["max_overflow"] = SQLITE_POOL_SIZE
        else:
            kwargs["pool_pre_ping"] = True
            kwargs["pool_size"] = 10
            kwargs["max_overflow"] = 20
        self.engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        self._sqlite_writers = _WriterTurns()  # reentrant: a nested writer fails as before, not hangs
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(
            self.engine.execution_options(**{_READ_ONLY: True}), expire_on_commit=False
        )

    @contextmanager
    def unit_of_work(self, *, read_only: bool = False) -> Iterator[Session]:
        """A session in one transaction: commit on success, roll back on any exception."""
        factory = self._read_sessions if read_only else self._sessions
        # SQLite writers of this process queue on a Python lock before BEGIN IMMEDIATE. Left to
        # SQLite, a waiting writer polls with sleeps growing to 100 ms (busy_timeout), so 16 threads
        # on one database got 28 consumes/s with a 4.9 s p99 where commits allowed 540/s
        # (docs/benchmarks.md, consume). Other processes still meet busy_timeout.
        writer_turn = self._sqlite_writers if self.is_sqlite and not read_only else nullcontext()
        with writer_turn, factory() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
