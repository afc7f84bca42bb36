"""Alembic environment: runs migrations on the URL given by coinslot.migrations.alembic_config."""

from __future__ import annotations

from alembic import context

import coinslot.models  # registers every table on Base.metadata
from coinslot.db import Database

target_metadata = coinslot.models.Base.metadata


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None
    database = Database(url)
    with database.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=database.is_sqlite,  # SQLite alters tables by copying them
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    database.dispose()


run_migrations_online()
