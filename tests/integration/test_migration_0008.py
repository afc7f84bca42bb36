"""Revision 0008 (overage_reports): added to a database with data while the previous release could still
serve it, it takes the reports of overage entries, and going back to 0005 drops only the new table."""

from __future__ import annotations

import datetime as dt

from alembic import command
from sqlalchemy import inspect, select, text

from coinslot.db import Database
from coinslot.ledger import service as ledger
from coinslot.migrations import alembic_config, schema_status, upgrade_to_head
from coinslot.models import LedgerEntry
from coinslot.overage import service as overage
from tests.integration.test_migrations import _at_revision, empty_url

__all__ = ["empty_url"]  # the fixture, shared with test_migrations.py

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def _downgrade(url: str, revision: str) -> None:
    database = Database(url)
    try:
        with database.engine.connect() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.downgrade(config, revision)
            connection.commit()
    finally:
        database.dispose()


def test_0008_adds_the_overage_reports_to_a_database_with_data_and_goes_back_to_0005(empty_url: str) -> None:
    database = _at_revision(empty_url, "0005")
    try:
        with database.engine.begin() as connection:  # a customer as 0005 wrote it
            connection.execute(text(
                "INSERT INTO customers (host_user_id, email, stripe_customer_id, livemode, created_at, "
                "updated_at) VALUES ('user_1', 'u1@example.com', 'cus_1', :no, :now, :now)"),
                {"no": False, "now": NOW})
        upgrade_to_head(database)
        assert schema_status(database).state == "current"
        with database.unit_of_work() as session:
            customer_id = ledger.customer_id_for(session, host_user_id="user_1")
            ledger.credit(session, customer_id=customer_id, entry_id="grant-1", kind="grant", credits=5,
                          now=NOW)
            used = ledger.spend(session, customer_id=customer_id, entry_id="use-1", credits=8,
                                feature="export", now=NOW,
                                admit=lambda _available: ledger.Admitted(overage=True))
            overage.record(session, entry=used, stripe_customer_id="cus_1", period_end=None, now=NOW)
        with database.unit_of_work(read_only=True) as session:
            assert (used.kind, used.available_delta, used.balance_after) == ("overage", -5, 0)
            assert ledger.overage_credits(session, customer_id=customer_id, since=NOW) == 3
            assert ledger.verify(session) + overage.verify(session) == []
    finally:
        database.dispose()
    _downgrade(empty_url, "0005")
    back = Database(empty_url)
    try:
        assert "overage_reports" not in inspect(back.engine).get_table_names()
        with back.unit_of_work(read_only=True) as session:
            assert session.scalars(select(LedgerEntry.entry_id).order_by(LedgerEntry.id)).all() == [
                "grant-1", "use-1"]
    finally:
        back.dispose()
