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
import logging
import sqlite3
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any, Protocol, cast

from sqlalchemy import ClauseElement, DateTime, Engine, MetaData, Select, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.selectable import ReturnsRows
from sqlalchemy.types import TypeDecorator

from coinslot.errors import DatabaseUnavailable

__all__ = ["Base", "Database", "PreparedInSession", "PreparedRead", "UtcDateTime", "is_unavailable"]

log = logging.getLogger("coinslot.db")

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
READY_LOCK_TIMEOUT_MS = 1000  # /readyz waits this long for SQLite's write lock, not a request's timeout

# SQLite errors that say "not now" rather than "this statement is wrong" ("no such table" is a bug: 500).
_SQLITE_UNAVAILABLE = ("database is locked", "database is busy", "disk i/o error", "unable to open database",
                       "readonly database", "database or disk is full")
# PostgreSQL SQLSTATE classes of the same kind: connection exceptions, shutdown / starting up, out of
# resources, system errors; and read-only transactions (a replica, or a primary switched read-only)
# and lock timeouts.
_PG_UNAVAILABLE_CLASSES = ("08", "57P", "53", "58")
_PG_UNAVAILABLE_CODES = frozenset({"25006", "55P03"})


def is_unavailable(exc: BaseException) -> bool:
    """Whether a database error means "the database cannot take this now" (503, retry) rather than a bug."""
    if isinstance(exc, sa_exc.DisconnectionError | sa_exc.TimeoutError):  # a dead connection, a full pool
        return True
    if isinstance(exc, sqlite3.Error):  # raised by our own BEGIN IMMEDIATE, outside SQLAlchemy's wrapping
        return any(marker in str(exc).lower() for marker in _SQLITE_UNAVAILABLE)
    if _is_raw_psycopg_error(exc):  # a PreparedRead's driver call, outside SQLAlchemy's wrapping
        sqlstate = getattr(exc, "sqlstate", None)
        if sqlstate:
            return sqlstate.startswith(_PG_UNAVAILABLE_CLASSES) or sqlstate in _PG_UNAVAILABLE_CODES
        return type(exc).__name__ in ("OperationalError", "InterfaceError")
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate:
        return sqlstate.startswith(_PG_UNAVAILABLE_CLASSES) or sqlstate in _PG_UNAVAILABLE_CODES
    if isinstance(exc.orig, sqlite3.Error):
        message = str(exc.orig).lower()
        return any(marker in message for marker in _SQLITE_UNAVAILABLE)
    # psycopg's connection failures (refused, reset, server gone) carry no SQLSTATE.
    return isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError)


def _is_raw_psycopg_error(exc: BaseException) -> bool:
    # psycopg is imported only by a PostgreSQL engine: a SQLite deployment need not install it.
    return type(exc).__module__.startswith("psycopg") and hasattr(exc, "sqlstate")


def _configure_sqlite(engine: Engine, *, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own
        # transaction handling would start a DEFERRED one behind our back).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
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


class _Compiled:
    """One Core statement compiled for a dialect once, with its bind and result conversions taken from its
    column types (as SQLAlchemy would apply them), run straight on a driver connection."""

    def __init__(self, dialect: Dialect, statement: ClauseElement) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
        self._is_sqlite = dialect.name == "sqlite"
        self._sql = str(compiled)
        self._compiled = compiled
        self._positions = list(compiled.positiontup or ()) if compiled.positional else None
        # `dialect_impl`: the dialect's own type behind each generic one (SQLite's DATETIME stores text).
        self._binds = {name: bind.type.dialect_impl(dialect).bind_processor(dialect)
                       for name, bind in compiled.binds.items()}
        columns = list(statement.exported_columns) if isinstance(statement, ReturnsRows) else []
        self.keys = tuple(column.key for column in columns)
        self._results = [column.type.dialect_impl(dialect).result_processor(dialect, None)
                         for column in columns]

    def _parameters(self, values: dict[str, Any]) -> Any:
        params = self._compiled.construct_params(values)
        for name, process in self._binds.items():
            if process is not None and name in params:
                params[name] = process(params[name])
        if self._positions is None:
            return params
        return tuple(params[name] for name in self._positions)

    def _converted(self, rows: list[Any]) -> list[tuple[Any, ...]]:
        results = self._results
        return [tuple(value if process is None else process(value)
                      for value, process in zip(row, results, strict=True)) for row in rows]

    def _rows_on(self, driver: Any, parameters: Any) -> list[Any]:
        cursor = driver.execute(self._sql, parameters)  # sqlite3 and psycopg: a cursor, executed
        try:
            # The statement's own columns say whether it returns rows: psycopg builds `description`'s
            # column objects on every call (a tenth of a hot consume's Python time).
            return list(cursor.fetchall()) if self.keys else []
        finally:
            cursor.close()


class PreparedRead(_Compiled):
    """One Core SELECT compiled once, run on a pooled driver connection without a Session or a transaction.

    For the reads on a host's hot path (`check`). A unit of work costs a Session, BEGIN and COMMIT
    around its one statement: 150-270 µs of a 270 µs in-process check on SQLite, 2 of 3 round trips
    on PostgreSQL (docs/benchmarks.md). Here the statement runs in the driver's autocommit mode: one
    statement is its own consistent snapshot on both databases. The driver keeps it prepared:
    sqlite3's statement cache, psycopg's prepared statements after a few executions on a connection.
    Unavailable as `unit_of_work` is (DatabaseUnavailable).
    """

    def __init__(self, engine: Engine, statement: Select[Any]) -> None:
        super().__init__(engine.dialect, statement)
        self._engine = engine

    def all(self, values: dict[str, Any]) -> list[tuple[Any, ...]]:
        """The rows for these bind values, converted as the column types say."""
        parameters = self._parameters(values)
        try:
            raw = self._engine.raw_connection()
        except Exception as exc:  # the pool raises the driver's own errors: nothing wraps them here
            if is_unavailable(exc):
                raise _unavailable(exc) from exc
            raise
        try:
            rows = self._execute(raw.driver_connection, parameters)
        except Exception as exc:
            if is_unavailable(exc):
                raw.invalidate(exc)  # a connection that failed this way is not handed out again
                raise _unavailable(exc) from exc
            raise
        finally:
            raw.close()
        return self._converted(rows)

    def _execute(self, driver: Any, parameters: Any) -> list[Any]:
        if self._is_sqlite:  # isolation_level None (_configure_sqlite): no BEGIN, a read on its own
            return self._rows_on(driver, parameters)
        driver.autocommit = True  # no BEGIN / ROLLBACK round trips around the one statement
        try:
            return self._rows_on(driver, parameters)
        finally:
            driver.autocommit = False


class PreparedInSession(_Compiled):
    """One Core statement compiled once per dialect, run on a Session's connection in its transaction.

    For the writes under a hot account's lock (`ledger/hot_spend.py`): SQLAlchemy's execution path
    (compile cache lookup, result wrapping, ORM flush) cost more than the statements themselves while
    every other writer of the account waited (docs/benchmarks.md, consume). The statement runs in the
    session's transaction and savepoint like any other; the ORM knows nothing of what it wrote, so
    its caller expires what the identity map holds of those rows. Driver errors are raised as the
    driver's own (`is_unavailable` knows them).
    """

    @classmethod
    def of(cls, session: Session, statement: ClauseElement) -> tuple[PreparedInSession, Any]:
        """`statement` compiled for the session's database (once), and the driver connection to run it on."""
        dialect, driver = _driver_of(session)
        key = (id(statement), dialect.name)
        found = _IN_SESSION.get(key)
        if found is None or found[0] is not statement:
            found = (statement, cls(dialect, statement))
            _IN_SESSION[key] = found  # a race compiles it twice: harmless
        return found[1], driver

    @classmethod
    def rows(
        cls, session: Session, statement: ClauseElement, values: dict[str, Any]
    ) -> list[tuple[Any, ...]]:
        """Run `statement` with these bind values in the session's transaction; its rows, converted."""
        prepared, driver = cls.of(session, statement)
        return prepared._converted(prepared._rows_on(driver, prepared._parameters(values)))

    @classmethod
    def many(cls, session: Session, statement: ClauseElement, rows: list[dict[str, Any]]) -> None:
        """Run a statement without results once per row of bind values (the driver's executemany)."""
        if not rows:
            return
        prepared, driver = cls.of(session, statement)
        parameters = [prepared._parameters(values) for values in rows]
        if len(parameters) == 1:  # psycopg's executemany pipelines (several waits) even for one row
            prepared._rows_on(driver, parameters[0])
            return
        if prepared._is_sqlite:
            driver.executemany(prepared._sql, parameters)
            return
        with driver.cursor() as cursor:
            cursor.executemany(prepared._sql, parameters)

    @classmethod
    def many_rows(
        cls, session: Session, statement: ClauseElement, rows: list[dict[str, Any]]
    ) -> list[tuple[Any, ...]]:
        """Run a statement that returns rows once per row of bind values, its rows in order, converted. On
        PostgreSQL the executions are pipelined: one wait for the server, not one per row."""
        if not rows:
            return []
        prepared, driver = cls.of(session, statement)
        parameters = [prepared._parameters(values) for values in rows]
        found: list[Any] = []
        if prepared._is_sqlite or len(parameters) == 1:
            for values in parameters:
                found.extend(prepared._rows_on(driver, values))
            return prepared._converted(found)
        with driver.cursor() as cursor:
            cursor.executemany(prepared._sql, parameters, returning=True)
            while True:
                found.extend(cursor.fetchall())
                if not cursor.nextset():
                    break
        return prepared._converted(found)


_IN_SESSION: dict[tuple[int, str], tuple[ClauseElement, PreparedInSession]] = {}  # statements are constants
_DRIVER_KEY = "coinslot_driver_connection"


def _driver_of(session: Session) -> tuple[Dialect, Any]:
    """The dialect and driver connection of the session's transaction. `session.connection()` walks the
    ORM's transaction states (~40 µs), so its answer is kept for the transaction (savepoints included:
    they run on the same connection)."""
    transaction = session.get_transaction()
    kept = session.info.get(_DRIVER_KEY)
    if transaction is not None and kept is not None and kept[0] is transaction:
        return kept[1], kept[2]
    connection = session.connection()
    kept = (session.get_transaction(), connection.dialect, connection.connection.driver_connection)
    session.info[_DRIVER_KEY] = kept
    return kept[1], kept[2]


def _unavailable(exc: BaseException) -> DatabaseUnavailable:
    log.warning("database unavailable", extra={"error": str(exc)[:300]})
    return DatabaseUnavailable("the database is unavailable right now; nothing was changed: retry in a few "
                               "seconds")


def _set_search_path(engine: Engine, schema: str) -> None:
    # SQLAlchemy's recipe for a per-connection search_path: set on connect, outside any transaction,
    # so that every statement (ORM, Core, Alembic) finds coinslot's tables in its own schema only.
    @event.listens_for(engine, "connect", insert=True)
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET SESSION search_path TO {schema}")  # validated identifier (Settings)
        cursor.close()
        dbapi_connection.autocommit = autocommit


class DatabaseSettings(Protocol):
    """What the database needs of `coinslot.config.Settings` (a sibling module: no import)."""

    @property
    def database_url(self) -> str: ...
    @property
    def database_schema(self) -> str | None: ...
    @property
    def database_lock_timeout_s(self) -> float: ...
    @property
    def database_connect_timeout_s(self) -> float: ...


class Database:
    """Owns the engine and hands out units of work."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        schema: str | None = None,
        lock_timeout_s: float = 30.0,
        connect_timeout_s: float = 5.0,
    ) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.schema = schema
        if schema is not None and self.is_sqlite:
            raise ValueError("a database schema needs PostgreSQL; on SQLite give coinslot its own file")
        self._busy_timeout_ms = int(lock_timeout_s * 1000)
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.is_sqlite:
            # A pool of SQLite connections shared by threads: check_same_thread off,
            # serialisation comes from BEGIN IMMEDIATE + busy_timeout.
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": lock_timeout_s}
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
            # A server that is down refuses at once; one that is unreachable must not hang a request.
            kwargs["connect_args"] = {"connect_timeout": max(1, int(connect_timeout_s))}
            kwargs["pool_timeout"] = connect_timeout_s
        self.engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine, busy_timeout_ms=self._busy_timeout_ms)
        elif schema is not None:
            _set_search_path(self.engine, schema)
        self._sqlite_writers = _WriterTurns()  # reentrant: a nested writer fails as before, not hangs
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(
            self.engine.execution_options(**{_READ_ONLY: True}), expire_on_commit=False
        )
        self._prepared: dict[int, tuple[Select[Any], PreparedRead]] = {}

    @property
    def shares_one_connection(self) -> bool:
        """SQLite ":memory:": every unit of work uses the one connection (a PreparedRead must not)."""
        return self.is_sqlite and ":memory:" in self.url

    def prepared(self, statement: Select[Any]) -> PreparedRead:
        """`statement` compiled for this database, once (statements are module constants)."""
        found = self._prepared.get(id(statement))
        if found is None or found[0] is not statement:
            found = (statement, PreparedRead(self.engine, statement))
            self._prepared[id(statement)] = found  # a race compiles it twice: harmless
        return found[1]

    @classmethod
    def for_settings(cls, settings: DatabaseSettings) -> Database:
        """The database the settings name, with their schema and timeouts."""
        return cls(settings.database_url, schema=settings.database_schema,
                   lock_timeout_s=settings.database_lock_timeout_s,
                   connect_timeout_s=settings.database_connect_timeout_s)

    @contextmanager
    def unit_of_work(self, *, read_only: bool = False) -> Iterator[Session]:
        """A session in one transaction: commit on success, roll back on any exception.

        A database that cannot take the transaction (down, read-only, locked past the lock timeout)
        raises DatabaseUnavailable (503 with Retry-After): the transaction rolled back whole.
        """
        factory = self._read_sessions if read_only else self._sessions
        # SQLite writers of this process queue on a Python lock before BEGIN IMMEDIATE. Left to
        # SQLite, a waiting writer polls with sleeps growing to 100 ms (busy_timeout), so 16 threads
        # on one database got 28 consumes/s with a 4.9 s p99 where commits allowed 540/s
        # (docs/benchmarks.md, consume). Other processes still meet busy_timeout.
        writer_turn = self._sqlite_writers if self.is_sqlite and not read_only else nullcontext()
        try:
            with writer_turn, factory() as session, session.begin():
                yield session
        except (sa_exc.SQLAlchemyError, sqlite3.Error) as exc:
            if not is_unavailable(exc):
                raise
            log.warning("database unavailable", extra={"error": str(exc.__cause__ or exc)[:300]})
            raise DatabaseUnavailable(
                "the database is unavailable right now (down, read-only or locked); nothing was "
                "changed: retry in a few seconds"
            ) from exc

    @contextmanager
    def single_read(self) -> Iterator[Session]:
        """A session for one read on a hot path (the API key of every request): on PostgreSQL without a
        transaction around it, so the read costs its one statement and no BEGIN and COMMIT round trips;
        on SQLite (nothing to save in-process) a read unit of work. Unavailable as `unit_of_work` is."""
        if self.is_sqlite:
            with self.unit_of_work(read_only=True) as session:
                yield session
            return
        try:
            with self.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT")
                with Session(bind=connection, expire_on_commit=False) as session:
                    yield session
        except sa_exc.SQLAlchemyError as exc:
            if not is_unavailable(exc):
                raise
            log.warning("database unavailable", extra={"error": str(exc.__cause__ or exc)[:300]})
            raise DatabaseUnavailable(
                "the database is unavailable right now; nothing was changed: retry in a few seconds"
            ) from exc

    def write_problem(self) -> str | None:
        """Why a write could not start now (None when it could): what /readyz answers.

        SQLite: the write lock can be taken (another process may hold it). PostgreSQL: the server
        answers and takes writes (not a replica in recovery, not switched read-only).
        """
        try:
            if self.is_sqlite:
                # ":memory:" is one connection shared by every thread: no other process can lock it.
                return None if ":memory:" in self.url else self._sqlite_write_problem()
            with self.engine.connect() as connection:
                in_recovery, read_only = connection.exec_driver_sql(
                    "SELECT pg_is_in_recovery(), current_setting('transaction_read_only')"
                ).one()
            if in_recovery:
                return "the server is a replica in recovery"
            return "the server is read-only" if read_only == "on" else None
        except sa_exc.SQLAlchemyError as exc:
            # The type only: /readyz may be reachable from outside, and driver messages name hosts.
            log.warning("database not ready", extra={"error": str(exc)[:300]})
            return type(exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc).__name__

    def _sqlite_write_problem(self) -> str | None:
        raw = self.engine.raw_connection()
        try:
            driver = raw.driver_connection
            assert driver is not None
            driver.execute(f"PRAGMA busy_timeout={READY_LOCK_TIMEOUT_MS}")
            try:
                driver.execute("BEGIN IMMEDIATE")
                driver.execute("ROLLBACK")
            except sqlite3.OperationalError as exc:
                return f"OperationalError: {exc}"  # "database is locked": SQLite's own words, no paths
            finally:
                driver.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
        finally:
            raw.close()
        return None

    def dispose(self) -> None:
        self.engine.dispose()
