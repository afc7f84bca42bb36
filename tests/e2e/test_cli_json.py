"""`--json` on every CLI command that prints data: one JSON document on stdout a script can parse, and
errors as the API's envelope (exit 2)."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from coinslot.cli import app as cli
from tests.e2e.billing import cli_env
from tests.e2e.billing_user import User
from tests.support.stack import Stack


def run(stack: Stack, *args: str, exit_code: int = 0, test_clock: str | None = None) -> Any:
    # The operator's commands run on the wall clock unless told to follow a Stripe test clock (as the
    # API and workers of a CI that pins dates do): Ada's lives on one.
    env = {**cli_env(stack), **({"COINSLOT_STRIPE_TEST_CLOCK": test_clock} if test_clock else {})}
    result = CliRunner().invoke(cli, [*args, "--json"], env=env)
    assert result.exit_code == exit_code, result.output
    return json.loads(result.stdout)


def test_every_command_that_prints_data_prints_json(stack: Stack) -> None:
    assert run(stack, "catalog", "check")["ok"] is True
    pushed = run(stack, "catalog", "push")
    assert (pushed["applied"], pushed["dry_run"]) == (True, False)
    assert run(stack, "catalog", "push", "--dry-run")["changes"] == []  # pushed already
    created = run(stack, "keys", "create", "scripted", "--scope", "read")
    assert created["secret"].startswith("cs_")
    assert created["id"] in [key["id"] for key in run(stack, "keys", "list")]
    assert run(stack, "keys", "revoke", str(created["id"]))["revoked_at"] is not None

    ada = User.on_test_clock(stack, "ada")
    ada.subscribe("core")
    clock = ada.test_clock_id
    granted = run(stack, "credits", "grant", "ada", "5", "--reason", "goodwill", "--id", "g-1",
                  test_clock=clock)
    assert (granted["kind"], granted["balance_after"]) == ("grant", 30)
    adjusted = run(stack, "credits", "adjust", "ada", "-2", "--reason", "typo", "--id", "a-1",
                   test_clock=clock)
    assert adjusted["balance_after"] == 28
    shown = run(stack, "credits", "show", "ada", test_clock=clock)
    # The -2 came from the credits that expire first: the plan's period.
    assert (shown["available"], shown["from_plan"], shown["from_adjustments"]) == (28, 23, 5)
    assert run(stack, "credits", "history", "ada", test_clock=clock) == []
    assert run(stack, "credits", "verify") == {"clean": True, "discrepancies": []}

    events = run(stack, "events", "list", "--type", "invoice.paid")["events"]
    assert [event["status"] for event in events] == ["processed"]
    detail = run(stack, "events", "show", events[0]["id"])
    assert detail["payload"]["type"] == "invoice.paid"
    assert detail["attempt_history"][0]["outcome"] == "processed"
    assert run(stack, "events", "replay", events[0]["id"])["replayed"] == [events[0]["id"]]
    stack.settle()
    assert run(stack, "outbound", "list")["counts"]
    assert run(stack, "reconcile", "--no-events")["customers_checked"] == 1
    assert run(stack, "subscription", "cancel", "ada")["cancel_at_period_end"] is True
    assert run(stack, "subscription", "portal", "ada", "--return-url", "http://127.0.0.1:5000/billing")["url"]


def test_an_error_is_the_apis_envelope_on_stdout_with_exit_2(stack: Stack) -> None:
    refused = run(stack, "subscription", "cancel", "nobody", exit_code=2)
    assert refused["error"]["code"] == "no_subscription"
