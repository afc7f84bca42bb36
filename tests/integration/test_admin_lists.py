"""The console's long lists page newest first by keyset, and its status counts stop counting finished
work at a cap while the work left is counted exactly (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert
from typer.testing import CliRunner

from coinslot.cli import app as cli
from coinslot.db import Database
from coinslot.models import Customer, WebhookEvent
from coinslot.queue.service import COUNT_CAP, StatusCount
from coinslot.webhooks import service as events
from tests.support.console_client import signed_in_console

NOW = dt.datetime(2026, 11, 15, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def admin(db: Database) -> TestClient:
    """A client signed in to the console."""
    return signed_in_console(db, now=NOW, session_secret="lists-secret-lists-secret-lists")


def add_customers(db: Database, count: int) -> None:
    with db.unit_of_work() as session:
        session.execute(insert(Customer), [
            {"host_user_id": f"user-{n}", "email": f"user{n}@example.com", "livemode": False,
             "created_at": NOW, "updated_at": NOW} for n in range(1, count + 1)])


def add_events(db: Database, **by_status: int) -> None:
    rows = [(status, n) for status, count in by_status.items() for n in range(count)]
    with db.unit_of_work() as session:
        session.execute(insert(WebhookEvent), [
            {"stripe_event_id": f"evt_{status}_{n}", "type": "invoice.paid", "livemode": False,
             "payload": "{}", "stripe_created": 1_763_000_000 + i, "received_at": NOW, "status": status,
             "attempts": 1} for i, (status, n) in enumerate(rows)])


def customer_ids(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'<tr><td><a href="/admin/customers/(\d+)">', html)]


def older_link(html: str) -> str | None:
    found = re.search(r'<a href="([^"]+)" rel="next">Older</a>', html)
    return found.group(1).replace("&amp;", "&") if found else None


def test_an_operator_pages_through_the_customers_older_and_back(admin: TestClient, db: Database) -> None:
    add_customers(db, 120)
    first = admin.get("/admin/customers").text
    assert customer_ids(first) == list(range(120, 70, -1))
    assert older_link(first) == "/admin/customers?before=71"
    assert ">Newest</a>" not in first

    second = admin.get("/admin/customers?before=71").text
    assert customer_ids(second) == list(range(70, 20, -1))
    last = admin.get(older_link(second) or "").text
    assert customer_ids(last) == list(range(20, 0, -1))
    assert older_link(last) is None
    assert '<a href="/admin/customers">Newest</a>' in last

    # A search pages on its own matches: the link keeps the query.
    searched = admin.get("/admin/customers", params={"q": "@example.com"}).text
    assert older_link(searched) == "/admin/customers?q=%40example.com&before=71"
    assert customer_ids(admin.get("/admin/customers", params={"q": "user11", "before": 115}).text) == [
        114, 113, 112, 111, 110, 11]
    assert admin.get("/admin/customers?before=0").status_code == 422


def test_the_events_page_pages_on_its_filter(admin: TestClient, db: Database) -> None:
    add_events(db, processed=230, dead=3)
    first = admin.get("/admin/events", params={"status": "processed"}).text
    older = older_link(first)
    assert older is not None
    assert older.startswith("/admin/events?status=processed&before=")
    rest = admin.get(older).text
    assert rest.count('<span class="badge processed">') == 30
    assert older_link(rest) is None
    assert older_link(admin.get("/admin/events", params={"status": "dead"}).text) is None


def test_finished_events_are_counted_to_the_cap_and_the_work_left_exactly(
    admin: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_events(db, processed=COUNT_CAP + 5, ignored=3, dead=2, failed=1, received=4)
    with db.unit_of_work(read_only=True) as session:
        counts = events.counts(session)
        assert events.dead_count(session) == 2
    assert counts == {"processed": StatusCount(COUNT_CAP, at_least=True), "ignored": StatusCount(3),
                      "dead": StatusCount(2), "failed": StatusCount(1), "received": StatusCount(4)}

    overview = admin.get("/admin").text
    assert "2 dead letters" in overview
    assert '<td class="num">10,000+</td>' in overview
    assert "processed (10,000+)" in admin.get("/admin/events").text
    assert "coinslot_inbox_dead_events 2.0" in admin.get("/metrics").text

    monkeypatch.setenv("COINSLOT_DATABASE_URL", db.url)
    listed = CliRunner().invoke(cli, ["events", "list", "--limit", "1", "--json"])
    assert listed.exit_code == 0, listed.output
    document = json.loads(listed.output)
    assert document["counts"]["processed"] == COUNT_CAP
    assert document["counts_at_least"] == ["processed"]
    summary = CliRunner().invoke(cli, ["events", "list", "--limit", "1"]).output
    assert "all events: dead 2, failed 1, ignored 3, processed 10,000+, received 4" in summary
