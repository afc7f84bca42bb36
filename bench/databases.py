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
import time
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

    def start(self) -> BenchPostgres:
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.datadir), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=300 "
                   "-c shared_buffers=512MB -c fsync=on -c synchronous_commit=on -c full_page_writes=on")
        self._run("pg_ctl", "-D", str(self.datadir), "-o", options, "-l", str(self.root / "log"), "-w",
                  "start")
        deadline = time.monotonic() + 20
        while True:
            try:
                psycopg.connect(self.admin_url, connect_timeout=2).close()
                return self
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def version(self) -> str:
        with psycopg.connect(self.admin_url) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "?"


@dataclass
class BenchDatabase:
    kind: str  # "sqlite" | "postgresql"
    url: str


@contextmanager
def fresh_database(kind: str, *, postgres: BenchPostgres | None, workdir: Path) -> Iterator[BenchDatabase]:
    """A new, empty, migrated database; dropped (or deleted) afterwards."""
    if kind == "sqlite":
        directory = Path(tempfile.mkdtemp(prefix="sqlite-", dir=workdir))
        url = f"sqlite:///{directory / 'coinslot.db'}"
        create_schema(url)
        try:
            yield BenchDatabase("sqlite", url)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        return
    if postgres is None:
        raise PostgresUnavailable("no PostgreSQL server for this run")
    name = "bench_" + uuid.uuid4().hex[:10]
    with psycopg.connect(postgres.admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = postgres.url(name)
    create_schema(url)
    try:
        yield BenchDatabase("postgresql", url)
    finally:
        postgres.drop_database(name)
