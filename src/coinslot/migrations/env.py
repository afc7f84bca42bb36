"""Alembic environment: runs coinslot's migrations on the connection `coinslot.migrations` hands over
(holding the migration lock), in coinslot's own version table and schema."""

from __future__ import annotations

from alembic import context

import coinslot.models  # registers every table on Base.metadata
from coinslot.db import Database
from coinslot.migrations import VERSION_TABLE

target_metadata = coinslot.models.Base.metadata


def run_migrations_online() -> None:
    schema = context.config.attributes.get("schema")
    connection = context.config.attributes.get("connection")
    database = None
    if connection is None:  # `alembic` run by hand with a URL: no lock, and no schema
        url = context.config.get_main_option("sqlalchemy.url")
        assert url is not None
        database = Database(url, schema=schema)
        connection = database.engine.connect()
    try:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
            compare_type=True,
            version_table=VERSION_TABLE,
            version_table_schema=schema,
            # Each revision commits on its own: a later one that fails leaves the earlier ones applied,
            # and a revision can leave its transaction for CREATE INDEX CONCURRENTLY.
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    finally:
        if database is not None:
            connection.close()
            database.dispose()


run_migrations_online()
