"""dj-stripe (its latest release, in its own virtualenv .venv-djstripe/ with the stripe
package it needs) receives stripesim's webhooks for a realistic stream and syncs every object
with zero errors; then its full sync command runs clean too.

The harness (clients/djstripe/: a Django settings module, URLs, run_stream.py) is ours;
dj-stripe itself is installed from PyPI by `./dev setup` / `./dev test`, which also migrates a
template database once (dj-stripe's migrations take ~40 s), copied here for each run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from tests.clients.conftest import require

REPO = Path(__file__).resolve().parents[2]
PYTHON = REPO / ".venv-djstripe" / "bin" / "python"
TEMPLATE = REPO / ".venv-djstripe" / "migrated.sqlite3"
SCRIPT = REPO / "clients" / "djstripe" / "run_stream.py"
# What the issue lists: dj-stripe must hold each of these after the stream.
KINDS = ("customers", "products", "prices", "checkout_sessions", "subscriptions", "invoices",
         "payment_intents", "charges", "refunds", "balance_transactions", "accounts", "coupons",
         "promotion_codes")


def test_djstripe_syncs_a_stream_of_stripesims_webhooks_without_an_error(
        stripesim_url: str, tmp_path: Path) -> None:
    require(PYTHON.exists(), "dj-stripe's virtualenv (.venv-djstripe)", "./dev setup")
    require(TEMPLATE.exists(), "dj-stripe's migrated template database", "./dev setup")
    database = tmp_path / "djstripe.sqlite3"
    shutil.copy(TEMPLATE, database)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env.update(STRIPESIM_URL=stripesim_url, DJSTRIPE_DB=str(database))
    started = time.monotonic()
    result = subprocess.run([str(PYTHON), str(SCRIPT)], capture_output=True, text=True,
                            timeout=300, env=env, cwd=REPO, check=False)
    elapsed_s = time.monotonic() - started
    assert result.stdout.strip(), result.stderr[-4000:]
    report = json.loads(result.stdout)
    assert report["errors"] == [], json.dumps(report["errors"][:3], indent=2)
    assert report["sync_errors"] == [], report["sync_errors"]
    assert report["deliveries_failed"] == []
    # Every payload fits dj-stripe's API version as its SDK (stripe 15.6) declares it.
    assert report["shape_problems"] == [], report["shape_problems"][:20]
    assert result.returncode == 0, result.stderr[-4000:]
    assert report["api_version"] == "2026-08-26.dahlia"
    # Every event was delivered once and became one valid, processed trigger.
    assert report["triggers"] == report["events_delivered"] == report["deliveries"] > 250
    empty = [kind for kind in KINDS if report["synced"][kind] == 0]
    assert not empty, report["synced"]
    for event_type in ("checkout.session.completed", "customer.subscription.updated",
                       "customer.subscription.deleted", "invoice.paid", "invoice.payment_failed",
                       "charge.succeeded", "charge.failed", "charge.refunded"):
        assert event_type in report["event_types"]
    print(f"\ndj-stripe: {report['triggers']} webhooks, all valid and processed; synced "
          f"{report['synced']} in {elapsed_s:.1f} s")
