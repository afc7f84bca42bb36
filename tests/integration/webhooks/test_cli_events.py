"""`coinslot events list|show|replay`: an operator finds a dead event, reads why, and replays it."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from coinslot.cli import app
from coinslot.container import Container
from tests.integration.webhooks.helpers import event_row, store


def test_an_operator_lists_shows_and_replays_dead_events(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COINSLOT_DATABASE_URL", container.db.url)
    monkeypatch.setenv("COLUMNS", "250")
    event_id = store(container, "invoice.paid", {"id": "in_1"})
    with container.db.unit_of_work() as session:
        row = session.merge(event_row(container, event_id))
        row.status, row.last_error = "dead", "NotFound: no such customer"
    runner = CliRunner()
    listed = runner.invoke(app, ["events", "list", "--status", "dead"])
    assert listed.exit_code == 0, listed.output
    assert "all events: dead 1" in listed.output  # (the table wraps ids on narrow terminals)
    shown = runner.invoke(app, ["events", "show", event_id])
    assert shown.exit_code == 0
    assert "no such customer" in shown.output
    replayed = runner.invoke(app, ["events", "replay", "--dead"])
    assert replayed.exit_code == 0
    assert "1 dead event(s) due again" in replayed.output
    assert event_row(container, event_id).status == "received"
    missing = runner.invoke(app, ["events", "show", "evt_nope"])
    assert missing.exit_code == 2
