"""Alembic migrations, shipped inside the package so `coinslot migrate` works wherever it is installed.

    upgrade_to_head(db)   one process at a time (a PostgreSQL advisory lock; SQLite's write lock),
                          in coinslot's own version table, in coinslot's schema when one is set
    schema_status(db)     is the schema current? (`coinslot migrate --check`, `serve --no-migrate`)

coinslot's version table is `coinslot_alembic_version`, never `alembic_version`: in library mode a
host app with its own Alembic history shares the database, and each history keeps its own table.

How revisions are written (so that an upgrade runs while the previous release still serves):
additive first (new tables, nullable columns, indexes built CONCURRENTLY on PostgreSQL inside
`op.get_context().autocommit_block()`), backfills in batches, and removals only in a later
release that no longer reads what they remove. `0002_reconcile_cursor_and_event_time_index` is
the example to copy.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from coinslot.db import Database

__all__ = [
    "VERSION_TABLE",
    "SchemaStatus",
    "alembic_config",
    "head_revision",
    "migration_lock_key",
    "schema_status",
    "upgrade_to_head",
    "versions_exist",
]

_HERE = Path(__file__).parent
VERSION_TABLE = "coinslot_alembic_version"
_LEGACY_VERSION_TABLE = "alembic_version"
_LOCK_POLL_S = 0.5  # 0.1 kept its revision there; adopted once (see below)


def alembic_config(database_url: str, *, schema: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_HERE))
    # '%' is alembic's interpolation character; URLs may contain it (encoded passwords).
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["schema"] = schema
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def migration_lock_key(schema: str | None) -> int:
    # One lock per coinslot schema: two coinslot installations in one database do not wait on each other.
    digest = hashlib.sha256(f"coinslot.migrate:{schema or ''}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def upgrade_to_head(db: Database | str, *, on_wait: Callable[[str], None] | None = None) -> None:
    """Bring the schema to the newest revision, one process at a time.

    On PostgreSQL a session-level advisory lock serialises concurrent runs (every API process and
    the one-shot migrate of a deploy may start together): the second waits, then finds the schema
    current and does nothing. `on_wait` is told when it has to wait.
    """
    database = Database(db) if isinstance(db, str) else db
    try:
        with _migration_lock(database, on_wait), database.engine.connect() as connection:
            _adopt_legacy_version_table(connection, database.schema)
            connection.commit()  # Alembic must begin its own transactions (one per revision)
            config = alembic_config(database.url, schema=database.schema)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()
    finally:
        if isinstance(db, str):
            database.dispose()


@contextmanager
def _migration_lock(database: Database, on_wait: Callable[[str], None] | None) -> Iterator[None]:
    """Hold coinslot's migration lock (PostgreSQL; SQLite's own write lock serialises it there).

    The lock lives on its own connection in autocommit, and a waiting process polls with
    pg_try_advisory_lock rather than blocking: a blocked statement keeps a snapshot open, and the
    holder's CREATE INDEX CONCURRENTLY waits for every older snapshot to end (a deadlock).
    """
    if database.is_sqlite:
        yield
        return
    key = migration_lock_key(database.schema)
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as locker:
        told = False
        while not locker.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar_one():
            if on_wait is not None and not told:
                on_wait("another `coinslot migrate` holds the migration lock; waiting for it")
                told = True
            time.sleep(_LOCK_POLL_S)
        try:
            if database.schema is not None:
                locker.execute(text(f"CREATE SCHEMA IF NOT EXISTS {database.schema}"))  # validated name
            yield
        finally:
            locker.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})


def _adopt_legacy_version_table(connection: Connection, schema: str | None) -> None:
    """A database migrated by coinslot 0.1 has its revision in `alembic_version`: copy it over once."""
    tables = set(inspect(connection).get_table_names(schema=schema))
    if VERSION_TABLE in tables or _LEGACY_VERSION_TABLE not in tables or "webhook_events" not in tables:
        return
    legacy = MigrationContext.configure(connection, opts={"version_table_schema": schema}).get_current_heads()
    ours = [revision for revision in legacy if _is_ours(revision)]
    if ours:
        config = alembic_config(str(connection.engine.url), schema=schema)
        config.attributes["connection"] = connection
        command.stamp(config, ours)
        connection.commit()


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    """Where the database's schema stands against the code's newest revision."""

    current: str | None  # None: coinslot never migrated this database
    head: str
    state: Literal["current", "behind", "ahead", "empty"]

    def describe(self) -> str:
        if self.state == "current":
            return f"database schema is current (revision {self.head})"
        if self.state == "empty":
            return f"database has no coinslot schema; `coinslot migrate` creates it (revision {self.head})"
        if self.state == "behind":
            return (f"database schema is at revision {self.current}, this coinslot needs {self.head}: "
                    "run `coinslot migrate`")
        return (f"database schema is at revision {self.current}, which this coinslot does not know (a newer "
                f"release migrated it; this one knows up to {self.head})")


def schema_status(db: Database) -> SchemaStatus:
    head = head_revision()
    with db.engine.connect() as connection:
        if VERSION_TABLE not in inspect(connection).get_table_names(schema=db.schema):
            current = None
        else:
            context = MigrationContext.configure(
                connection, opts={"version_table": VERSION_TABLE, "version_table_schema": db.schema}
            )
            heads = context.get_current_heads()
            current = heads[0] if heads else None
    if current is None:
        return SchemaStatus(None, head, "empty")
    if current == head:
        return SchemaStatus(current, head, "current")
    return SchemaStatus(current, head, "behind" if _is_ours(current) else "ahead")


def _is_ours(revision: str) -> bool:
    try:
        return ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision(revision) is not None
    except Exception:  # alembic raises for a revision id its scripts do not know
        return False


def versions_exist() -> bool:
    """Whether any revision has been written yet."""
    return any(path.suffix == ".py" for path in (_HERE / "versions").iterdir())
