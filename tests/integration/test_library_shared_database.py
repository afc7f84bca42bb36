"""Library mode in a host's own PostgreSQL database (Patch-Hive's setup: FastAPI, SQLAlchemy, Alembic).

The host has its own tables named like coinslot's (`customers`, `orders`) and its own Alembic
history; coinslot lives in the schema `coinslot` with its own version table. Both migrate, neither
touches the other, and the host's routes use coinslot in-process.
"""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest
from alembic import command
from alembic.config import Config
from fastapi import Depends, FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, text
from typer.testing import CliRunner

from coinslot import library
from coinslot.cli import app as cli
from coinslot.clock import FixedClock
from coinslot.config import Settings
from coinslot.db import Database
from coinslot.migrations import VERSION_TABLE, head_revision, schema_status
from tests.integration.ledger_support import NOW
from tests.integration.test_entitlement_stories import EXAMPLES, PATCH_HIVE, pay_period, subscribe
from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.postgres

HOST_ENV = '''
from alembic import context
from sqlalchemy import create_engine

engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
'''

HOST_REVISION = '''
"""the host's own customers and orders"""
import sqlalchemy as sa
from alembic import op

revision = "h001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("customers", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("email", sa.String(200), nullable=False))
    op.create_table("orders", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id")),
                    sa.Column("patch_name", sa.String(200)))


def downgrade():
    op.drop_table("orders")
    op.drop_table("customers")
'''


def host_alembic(tmp_path: Path, url: str) -> Config:
    """The host app's own Alembic setup (its migrations folder, its default `alembic_version`)."""
    (tmp_path / "host_migrations" / "versions").mkdir(parents=True, exist_ok=True)
    (tmp_path / "host_migrations" / "env.py").write_text(dedent(HOST_ENV))
    (tmp_path / "host_migrations" / "versions" / "h001_host_tables.py").write_text(dedent(HOST_REVISION))
    config = Config()
    config.set_main_option("script_location", str(tmp_path / "host_migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def test_a_host_with_its_own_alembic_history_and_coinslot_share_one_database(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    name = postgres.create_database()
    url = postgres.url(name)
    host_engine = create_engine(url)
    try:
        command.upgrade(host_alembic(tmp_path, url), "head")  # the host migrates first (or after: no matter)
        env = {"COINSLOT_DATABASE_URL": url, "COINSLOT_DATABASE_SCHEMA": "coinslot"}
        migrated = CliRunner().invoke(cli, ["migrate"], env=env)
        assert migrated.exit_code == 0, migrated.output
        assert CliRunner().invoke(cli, ["migrate", "--check"], env=env).exit_code == 0
        command.upgrade(host_alembic(tmp_path, url), "head")  # each history again: nothing to do

        tables = inspect(host_engine)
        assert set(tables.get_table_names(schema="public")) == {"alembic_version", "customers", "orders"}
        assert {"customers", "orders", "webhook_events", VERSION_TABLE} <= set(
            tables.get_table_names(schema="coinslot"))
        assert [c["name"] for c in tables.get_columns("customers", schema="public")] == ["id", "email"]
        with host_engine.connect() as connection:
            host_version = connection.execute(text("SELECT version_num FROM public.alembic_version"))
            assert host_version.scalar() == "h001"
            assert connection.execute(
                text(f"SELECT version_num FROM coinslot.{VERSION_TABLE}")).scalar() == head_revision()

        # The host app: its own routes on its own tables, coinslot mounted in-process.
        settings = Settings(_env_file=None, database_url=url, database_schema="coinslot",  # type: ignore[call-arg]
                            stripe_secret_key=None, catalog_path=EXAMPLES / "patch_hive.toml")
        database = Database.for_settings(settings)
        assert schema_status(database).state == "current"
        app = FastAPI()
        billing = library.mount(app, settings, db=database, clock=FixedClock(NOW),
                                user_id=lambda request: request.headers["x-user"])

        @app.post("/patches/{patch}/export", dependencies=[Depends(billing.require_feature("export"))])
        def export(patch: str, request: Request) -> dict[str, str]:
            with host_engine.begin() as connection:  # the host's own table named `orders`
                customer = connection.execute(text("INSERT INTO customers (email) VALUES (:e) RETURNING id"),
                                              {"e": f"{request.headers['x-user']}@example.com"}).scalar()
                connection.execute(text("INSERT INTO orders (customer_id, patch_name) VALUES (:c, :p)"),
                                   {"c": customer, "p": patch})
            return {"exported": patch}

        client = TestClient(app)
        assert client.post("/patches/moog/export", headers={"x-user": "maya"}).status_code == 402
        with database.unit_of_work() as session:
            maya = subscribe(session, "maya", "core")
            pay_period(session, maya, PATCH_HIVE, "core", "in_core_nov")
        assert client.post("/patches/moog/export", headers={"x-user": "maya"}).json() == {"exported": "moog"}
        assert client.get("/coinslot/readyz").json()["status"] == "ready"
        assert billing.check("maya", "export").remaining == 22 - 3
        with host_engine.connect() as connection:
            host_orders = connection.execute(text("SELECT patch_name FROM public.orders"))
            assert host_orders.scalars().all() == ["moog"]
            assert connection.execute(text("SELECT count(*) FROM coinslot.customers")).scalar() == 1
            assert connection.execute(text("SELECT host_user_id FROM coinslot.customers")).scalar() == "maya"
        database.dispose()

        # The host rolls its own history back: coinslot's schema and version are untouched.
        command.downgrade(host_alembic(tmp_path, url), "base")
        assert set(inspect(host_engine).get_table_names(schema="public")) == {"alembic_version"}
        assert CliRunner().invoke(cli, ["migrate", "--check"], env=env).exit_code == 0
    finally:
        host_engine.dispose()
        postgres.drop_database(name)
