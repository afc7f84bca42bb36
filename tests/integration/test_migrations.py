"""The schema production gets from Alembic: exactly the models, upgradable with data in it, checkable."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

import coinslot.models
from coinslot.analytics import service as analytics
from coinslot.apikeys import service as apikeys
from coinslot.apikeys.scopes import ALL_SCOPES
from coinslot.catalog.core import Catalog
from coinslot.catalog.parser import load_catalog, parse_catalog
from coinslot.cli import app as cli
from coinslot.db import Database
from coinslot.migrations import (
    VERSION_TABLE,
    alembic_config,
    head_revision,
    schema_status,
    upgrade_to_head,
    versions_exist,
)
from coinslot.models import (
    AdminLoginAttempts,
    AdminSession,
    ApiKey,
    AutoTopup,
    AutoTopupSetting,
    Customer,
    MrrChange,
    Subscription,
    SyncCursor,
    WebhookEvent,
)
from coinslot.stripe_gateway.subscriptions import StripeSubscriptionData, StripeSubscriptionItemData
from coinslot.subscriptions import service as subscriptions
from tests.support.postgres import PostgresServer

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def test_migrations_exist_and_match_the_models(db: Database) -> None:
    assert versions_exist(), "no Alembic revision: run `alembic revision --autogenerate`"
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "version_table": VERSION_TABLE}
        )
        differences = compare_metadata(context, coinslot.models.Base.metadata)
    assert differences == []
    assert schema_status(db).state == "current"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    name = server.create_database()
    yield server.url(name)
    server.drop_database(name)


def _at_first_revision(url: str) -> Database:
    return _at_revision(url, "0001")


def _at_revision(url: str, revision: str) -> Database:
    database = Database(url)
    with database.engine.connect() as connection:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.commit()
    return database


def _with_data(database: Database) -> None:
    # Rows as 0.1 wrote them: the columns of revision 0001 only, in plain SQL (today's models have more).
    with database.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO customers (host_user_id, email, stripe_customer_id, livemode, created_at, "
            "updated_at) VALUES ('user_1', 'u1@example.com', 'cus_1', :no, :now, :now)"),
            {"no": False, "now": NOW})
        for n in range(3):
            connection.execute(text(
                "INSERT INTO webhook_events (stripe_event_id, type, livemode, payload, stripe_created, "
                "received_at, status, attempts) VALUES (:id, 'invoice.paid', :no, '{}', :created, :now, "
                "'processed', 1)"), {"id": f"evt_{n}", "no": False, "created": 1_700_000_000 + n, "now": NOW})


def test_a_database_with_data_at_the_first_revision_upgrades_and_keeps_it(empty_url: str) -> None:
    database = _at_first_revision(empty_url)
    try:
        _with_data(database)
        status = schema_status(database)
        assert (status.state, status.current, status.head) == ("behind", "0001", head_revision())
        upgrade_to_head(database)
        assert schema_status(database).state == "current"
        with database.unit_of_work() as session:
            assert session.scalars(select(Customer.host_user_id)).all() == ["user_1"]
            assert session.scalars(select(WebhookEvent.stripe_event_id).order_by(WebhookEvent.id)).all() == [
                "evt_0", "evt_1", "evt_2"]
            session.add(SyncCursor(name="stripe_events", position=1_700_000_002))
        indexes = {index["name"] for index in inspect(database.engine).get_indexes("webhook_events")}
        assert "ix_webhook_events_stripe_created" in indexes
        upgrade_to_head(database)  # again: nothing to do, nothing changes
        with database.unit_of_work(read_only=True) as session:
            assert session.get(SyncCursor, "stripe_events") is not None
    finally:
        database.dispose()


def test_a_database_migrated_by_0_1_into_alembic_version_is_adopted(empty_url: str) -> None:
    database = _at_first_revision(empty_url)
    try:
        _with_data(database)
        with database.engine.begin() as connection:  # where 0.1 kept its revision
            connection.execute(text(f"DROP TABLE {VERSION_TABLE}"))
            connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)"))
            connection.execute(text("INSERT INTO alembic_version VALUES ('0001')"))
        assert schema_status(database).state == "empty"
        upgrade_to_head(database)
        assert schema_status(database).state == "current"
        with database.unit_of_work(read_only=True) as session:
            assert len(session.scalars(select(WebhookEvent)).all()) == 3
    finally:
        database.dispose()


def test_migrate_check_names_the_revision_and_exits_non_zero_until_current(empty_url: str) -> None:
    env = {"COINSLOT_DATABASE_URL": empty_url}
    runner = CliRunner()
    empty = runner.invoke(cli, ["migrate", "--check"], env=env)
    assert empty.exit_code == 1
    assert "no coinslot schema" in empty.output
    _at_first_revision(empty_url).dispose()
    behind = runner.invoke(cli, ["migrate", "--check"], env=env)
    assert behind.exit_code == 1
    assert f"at revision 0001, this coinslot needs {head_revision()}: run `coinslot migrate`" in behind.output
    migrated = runner.invoke(cli, ["migrate"], env=env)
    assert migrated.exit_code == 0, migrated.output
    current = runner.invoke(cli, ["migrate", "--check"], env=env)
    assert current.exit_code == 0
    assert f"current (revision {head_revision()})" in current.output
    database = Database(empty_url)
    try:
        with database.engine.begin() as connection:  # a newer release migrated further
            connection.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '0999'"))
    finally:
        database.dispose()
    ahead = runner.invoke(cli, ["migrate", "--check"], env=env)
    assert ahead.exit_code == 1
    assert "revision 0999, which this coinslot does not know" in ahead.output


def test_a_key_made_before_0004_keeps_working_with_every_scope_as_a_legacy_key(empty_url: str) -> None:
    database = _at_revision(empty_url, "0003")
    secret = "cs_" + "k" * 43
    try:
        with database.engine.begin() as connection:  # a key as 0.2 wrote it: no scopes, expiry or last use
            values = {"name": "web-backend", "prefix": secret[:10], "at": NOW,
                      "digest": hashlib.sha256(secret.encode()).hexdigest()}
            connection.execute(text("INSERT INTO api_keys (name, prefix, secret_sha256, created_at) "
                                    "VALUES (:name, :prefix, :digest, :at)"), values)
        upgrade_to_head(database)
        assert schema_status(database).state == "current"
        with database.unit_of_work(read_only=True) as session:
            key = apikeys.verify_key(session, secret=secret, now=NOW)
            row = session.get(ApiKey, key.id)
        assert key.scopes == ALL_SCOPES
        assert row is not None
        assert (row.name, row.scopes, row.expires_at, row.last_used_at) == ("web-backend", None, None, None)
        with database.unit_of_work() as session:  # the two new tables take rows
            session.add(AdminSession(token_sha256="a" * 64, actor="admin@1", csrf="c", password_tag="t",
                                     created_at=NOW, expires_at=NOW))
            session.add(AdminLoginAttempts(actor="admin@1", window_started_at=NOW, attempts=1))
    finally:
        database.dispose()


def test_0006_adds_auto_top_up_to_a_database_in_use_one_open_top_up_per_customer(empty_url: str) -> None:
    database = _at_revision(empty_url, "0005")
    try:
        _with_data(database)
        upgrade_to_head(database)
        assert schema_status(database).state == "current"
        with database.unit_of_work() as session:
            customer_id = session.scalars(select(Customer.id)).one()
            session.add(AutoTopupSetting(customer_id=customer_id, enabled=True, created_at=NOW,
                                         updated_at=NOW))
            for n, status in enumerate(["succeeded", "declined", "pending"]):
                session.add(_topup(customer_id, f"key:{customer_id}:export-{n}", status))
        with pytest.raises(IntegrityError), database.unit_of_work() as session:  # a second open one
            session.add(_topup(customer_id, f"key:{customer_id}:export-9", "charging"))
        with database.unit_of_work(read_only=True) as session:
            assert len(session.scalars(select(AutoTopup)).all()) == 3
    finally:
        database.dispose()


def test_a_subscription_mirrored_before_0009_keeps_its_row_and_counts_on_its_plans_oldest_version(
    empty_url: str,
) -> None:
    database = _at_revision(empty_url, "0005")
    try:
        with database.engine.begin() as connection:  # a row as 0005 wrote it: no version columns
            connection.execute(text(
                "INSERT INTO customers (host_user_id, email, stripe_customer_id, livemode, created_at, "
                "updated_at) VALUES ('user_1', 'u1@example.com', 'cus_1', :no, :now, :now)"),
                {"no": False, "now": NOW})
            connection.execute(text(
                "INSERT INTO subscriptions (customer_id, stripe_subscription_id, status, plan_key, "
                "interval, cancel_at_period_end, snapshot_at_ms, currency, period_amount_minor, created_at, "
                "updated_at) SELECT id, 'sub_1', 'active', 'pro', 'month', :no, 1, 'usd', 1499, :now, :now "
                "FROM customers"),
                {"no": False, "now": NOW})
        upgrade_to_head(database)
        assert schema_status(database).state == "current"
        with database.unit_of_work(read_only=True) as session:
            row = session.scalars(select(Subscription)).one()
            assert (row.plan_key, row.period_amount_minor, row.plan_version, row.pending_plan_version) == (
                "pro", 1499, None, None)
            catalog = parse_catalog(VERSIONED_PRO)
            versions = analytics.figures(session, catalog=catalog, now=NOW).versions
        assert [(each.version, each.count) for each in versions] == [("v1", 1), ("v2", 0)]
    finally:
        database.dispose()


def _topup(customer_id: int, trigger: str, status: str) -> AutoTopup:
    return AutoTopup(customer_id=customer_id, trigger_entry_id=trigger, month="2026-03", pack_key="credits",
                     credits=25, amount_minor=500, currency="usd", stripe_payment_method_id="pm_1",
                     status=status, attempts=0, created_at=NOW)


VERSIONED_PRO = """\
[plans.free]
type = "free"

[plans.pro]
version = "v2"
prices = { monthly = "19.99" }
credits_per_period = 150

[plans.pro.versions.v1]
prices = { monthly = "14.99" }
credits_per_period = 100
"""


def test_a_subscription_mirrored_before_0010_upgrades_without_addons_then_takes_them(empty_url: str) -> None:
    database = _at_revision(empty_url, "0005")
    try:
        with database.engine.begin() as connection:  # a row as 0005 wrote it: seats in `quantity`, no add-ons
            connection.execute(text(
                "INSERT INTO customers (host_user_id, email, stripe_customer_id, livemode, created_at, "
                "updated_at) VALUES ('team_1', 't1@example.com', 'cus_1', :no, :now, :now)"),
                {"no": False, "now": NOW})
            connection.execute(text(
                "INSERT INTO subscriptions (customer_id, stripe_subscription_id, status, plan_key, interval, "
                "cancel_at_period_end, snapshot_at_ms, quantity, created_at, updated_at) SELECT id, 'sub_1', "
                "'active', 'team', 'month', :no, 0, 5, :now, :now FROM customers"), {"no": False, "now": NOW})
        upgrade_to_head(database)
        assert schema_status(database).state == "current"
        with database.unit_of_work() as session:
            row = session.scalars(select(Subscription)).one()
            assert (row.quantity, row.addons) == (5, None)
            row.addons = {"audit_log": 1}
        with database.unit_of_work(read_only=True) as session:
            assert session.scalars(select(Subscription.addons)).one() == {"audit_log": 1}
    finally:
        database.dispose()


def test_a_subscription_mirrored_before_0011_opens_its_mrr_history_at_its_first_sync_not_as_new(
    empty_url: str,
) -> None:
    database = _at_revision(empty_url, "0010")
    try:
        with database.engine.begin() as connection:  # a Pro subscriber as 0010 mirrored them: no history
            connection.execute(text(
                "INSERT INTO customers (host_user_id, email, stripe_customer_id, livemode, created_at, "
                "updated_at) VALUES ('user_1', 'u1@example.com', 'cus_1', :no, :now, :now)"),
                {"no": False, "now": NOW})
            connection.execute(text(
                "INSERT INTO subscriptions (customer_id, stripe_subscription_id, status, plan_key, interval, "
                "cancel_at_period_end, snapshot_at_ms, currency, period_amount_minor, interval_count, "
                "created_at, updated_at) SELECT id, 'sub_1', 'active', 'pro', 'month', :no, 1, 'usd', 1499, "
                "1, :now, :now FROM customers"), {"no": False, "now": NOW})
        upgrade_to_head(database)
        assert schema_status(database).state == "current"
        later = NOW + dt.timedelta(days=3)
        with database.unit_of_work() as session:  # its first sync after: the upgrade to Studio
            subscriptions.sync_subscription(session, snapshot=_studio_snapshot(), catalog=_patch_hive(),
                                            now=later, seen_at_ms=int(later.timestamp() * 1000))
        with database.unit_of_work(read_only=True) as session:
            rows = session.execute(select(MrrChange.kind, MrrChange.mrr_before_minor_num,
                                          MrrChange.mrr_after_minor_num).order_by(MrrChange.id)).all()
            retention = analytics.retention(session, now=later)
        assert [tuple(row) for row in rows] == [("opening", None, 1499), ("change", 1499, 2999)]
        [march] = retention.months
        # Pro from before the history began: 1499 at the month's start (not new), 1500 of expansion.
        assert (march.start_minor, march.new_minor, march.expansion_minor, march.end_minor) == (
            1499, 0, 1500, 2999)
        assert (retention.history_starts_at, retention.openings) == (later, 1)
    finally:
        database.dispose()


def _patch_hive() -> Catalog:
    return load_catalog(Path(__file__).resolve().parents[2] / "examples" / "catalogs" / "patch_hive.toml")


def _studio_snapshot() -> StripeSubscriptionData:
    now_s = int(NOW.timestamp())
    item = StripeSubscriptionItemData(
        id="si_1", price_id="price_studio", price_lookup_key="coinslot:plan:studio:month", interval="month",
        quantity=1, current_period_start_s=now_s, current_period_end_s=now_s + 86400 * 31,
        unit_amount_minor=2999, currency="usd",
    )
    return StripeSubscriptionData(
        id="sub_1", customer_id="cus_1", status="active", items=(item,), cancel_at_period_end=False,
        cancel_at_s=None, canceled_at_s=None, ended_at_s=None, trial_end_s=None, created_s=now_s,
        livemode=False, metadata={}, currency="usd",
    )


def test_a_subscription_mirrored_before_0012_upgrades_with_no_metered_item_recorded_then_takes_one(
    empty_url: str,
) -> None:
    database = _at_revision(empty_url, "0010")
    try:
        with database.engine.begin() as connection:  # a row as 0010 wrote it: overage unknown to the mirror
            connection.execute(text(
                "INSERT INTO customers (host_user_id, email, stripe_customer_id, livemode, created_at, "
                "updated_at) VALUES ('ines', 'ines@example.com', 'cus_1', :no, :now, :now)"),
                {"no": False, "now": NOW})
            connection.execute(text(
                "INSERT INTO subscriptions (customer_id, stripe_subscription_id, status, plan_key, interval, "
                "cancel_at_period_end, snapshot_at_ms, quantity, created_at, updated_at) SELECT id, 'sub_1', "
                "'active', 'starter', 'month', :no, 0, 1, :now, :now FROM customers"),
                {"no": False, "now": NOW})
        upgrade_to_head(database)
        assert schema_status(database).state == "current"
        with database.unit_of_work() as session:
            row = session.scalars(select(Subscription)).one()
            assert (row.plan_key, row.metered_price_id) == ("starter", None)  # no overage until recorded
            row.metered_price_id = "price_overage"
        with database.unit_of_work(read_only=True) as session:
            assert session.scalars(select(Subscription.metered_price_id)).one() == "price_overage"
        columns = {column["name"] for column in inspect(database.engine).get_columns("overage_reports")}
        assert "period_end" in columns
    finally:
        database.dispose()


def _index_definitions(database: Database) -> dict[str, str]:
    """Index name -> its CREATE statement (as the database keeps it) for the ledger's tables."""
    tables = ("credit_lots", "ledger_entries", "credit_movements")
    with database.engine.connect() as connection:
        if database.is_sqlite:
            rows = connection.execute(text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                "AND tbl_name IN ('credit_lots', 'ledger_entries', 'credit_movements')"))
        else:
            rows = connection.execute(text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(:tables)"),
                {"tables": list(tables)})
        return {name: definition for name, definition in rows}


def test_0013_makes_the_lot_and_hold_indexes_partial_and_drops_the_remaining_credits_one(
    empty_url: str,
) -> None:
    database = _at_revision(empty_url, "0012")
    try:
        with database.engine.begin() as connection:  # a grant (entry with its lot) as 0012 wrote it
            connection.execute(text(
                "INSERT INTO customers (host_user_id, email, stripe_customer_id, livemode, created_at, "
                "updated_at) VALUES ('ines', 'ines@example.com', 'cus_1', :no, :now, :now)"),
                {"no": False, "now": NOW})
            connection.execute(text(
                "INSERT INTO credit_lots (customer_id, kind, original_credits, remaining_credits, "
                "created_at) SELECT id, 'grant', 10, 10, :now FROM customers"), {"now": NOW})
            connection.execute(text(
                "INSERT INTO ledger_entries (entry_id, customer_id, kind, credits, available_delta, "
                "held_delta, debt_delta, balance_after, lot_id, fingerprint, created_at) SELECT 'g1', "
                "customer_id, 'grant', 10, 10, 0, 0, 10, id, 'f', :now FROM credit_lots"), {"now": NOW})
            # What an interrupted run of 0013 on PostgreSQL leaves: its new index under the build name.
            if not database.is_sqlite:
                connection.execute(text("CREATE INDEX ix_ledger_entries_lot_id_partial ON ledger_entries "
                                        "(lot_id) WHERE lot_id IS NOT NULL"))
        before = _index_definitions(database)
        assert "ix_credit_lots_customer_remaining" in before
        assert "IS NOT NULL" not in before["ix_ledger_entries_lot_id"].upper()
        upgrade_to_head(database)
        after = _index_definitions(database)
        assert "ix_credit_lots_customer_remaining" not in after
        assert "ix_ledger_entries_lot_id_partial" not in after
        for name in ("ix_ledger_entries_lot_id", "ix_credit_movements_hold_id"):
            assert "IS NOT NULL" in after[name].upper(), after[name]
        with database.engine.connect() as connection:  # the grant is still found by its lot
            found = connection.execute(text(
                "SELECT e.entry_id FROM ledger_entries e JOIN credit_lots l ON l.id = e.lot_id "
                "WHERE e.lot_id IS NOT NULL")).scalars().all()
        assert found == ["g1"]
        with database.engine.connect() as connection:  # and back: 0012's indexes again
            config = alembic_config(database.url)
            config.attributes["connection"] = connection
            command.downgrade(config, "0012")
            connection.commit()
        again = _index_definitions(database)
        assert "ix_credit_lots_customer_remaining" in again
        assert "IS NOT NULL" not in again["ix_ledger_entries_lot_id"].upper()
    finally:
        database.dispose()
