"""The schema production gets from Alembic is exactly the one the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import coinslot.models
from coinslot.db import Database
from coinslot.migrations import versions_exist


def test_migrations_exist_and_match_the_models(db: Database) -> None:
    assert versions_exist(), "no Alembic revision: run `alembic revision --autogenerate`"
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, coinslot.models.Base.metadata)
    assert differences == []
