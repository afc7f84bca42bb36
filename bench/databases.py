"""The databases the scenarios run on: a SQLite file, or a database on a benchmark PostgreSQL.

SQLite is opened by coinslot's own `Database` (WAL, synchronous FULL, BEGIN
IMMEDIATE for writers). PostgreSQL is a throw-away server from Debian's
binaries, like the tests', but with durability ON: the tests' server turns
fsync and synchronous_commit off for speed, which would make every write
figure here a figure no production server reaches.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

import coinslot.models
from coinslot.db import Database
from tests.support.postgres import PostgresServer, PostgresUnavailable

__all__ = ["BenchDatabase", "BenchPostgres", "PostgresUnavailable", "create_schema", "fresh_database"]


def create_schema(url: str) -> None:
    """The schema the way production gets it (migrations), or from the models while none are written."""
    from coinslot.migrations import upgrade_to_head, versions_exist

    if versions_exist():
        upgrade_to_head(url)
        return
    database = Database(url)
    coinslot.models.Base.metadata.create_all(database.engine)
    database.dispose()


class BenchPostgres(PostgresServer):
    """PostgreSQL with production durability (fsync, synchronous_commit, full_page_writes on)."""

    settings = ("-c max_connections=300 -c shared_buffers=512MB "
                "-c fsync=on -c synchronous_commit=on -c full_page_writes=on")

    def version(self) -> str:
        with psycopg.connect(self.admin_url) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "?"


@dataclass
class BenchDatabase:
    kind: str  # "sqlite" | "postgresql"
    url: str


# Migrated once per run and kind, then copied: a run opens some twenty fresh databases and
# running the migrations (plus, on PostgreSQL, connecting for them) for each was seconds of a
# --quick run spent before any figure.
_SQLITE_TEMPLATE = "template.db"
_PG_TEMPLATE = "bench_template"
_pg_templates: set[str] = set()  # admin URLs of servers whose template exists


def _sqlite_from_template(workdir: Path, target: Path) -> None:
    template = workdir / _SQLITE_TEMPLATE
    if not template.exists():
        building = workdir / f"{_SQLITE_TEMPLATE}.{uuid.uuid4().hex[:6]}"
        create_schema(f"sqlite:///{building}")  # disposed: WAL checkpointed into the file
        building.rename(template)
    shutil.copyfile(template, target)


def _postgres_from_template(postgres: BenchPostgres, name: str) -> None:
    if postgres.admin_url not in _pg_templates:
        with psycopg.connect(postgres.admin_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {_PG_TEMPLATE}")
        create_schema(postgres.url(_PG_TEMPLATE))  # disposed: no session left on the template
        _pg_templates.add(postgres.admin_url)
    with psycopg.connect(postgres.admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {_PG_TEMPLATE}")


@contextmanager
def fresh_database(kind: str, *, postgres: BenchPostgres | None, workdir: Path) -> Iterator[BenchDatabase]:
    """A new, empty, migrated database; dropped (or deleted) afterwards."""
    if kind == "sqlite":
        directory = Path(tempfile.mkdtemp(prefix="sqlite-", dir=workdir))
        _sqlite_from_template(workdir, directory / "coinslot.db")
        url = f"sqlite:///{directory / 'coinslot.db'}"
        try:
            yield BenchDatabase("sqlite", url)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        return
    if postgres is None:
        raise PostgresUnavailable("no PostgreSQL server for this run")
    name = "bench_" + uuid.uuid4().hex[:10]
    _postgres_from_template(postgres, name)
    url = postgres.url(name)
    try:
        yield BenchDatabase("postgresql", url)
    finally:
        postgres.drop_database(name)
