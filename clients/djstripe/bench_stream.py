"""dj-stripe processes a stream of stripesim's events, timed: the anchor of coinslot's webhook bench.

Run with dj-stripe's own virtualenv (bench/scenarios/webhook_process.py does it):

    STRIPESIM_URL=http://127.0.0.1:12111 DJSTRIPE_DB=/tmp/djstripe.sqlite3 \\
        .venv-djstripe/bin/python clients/djstripe/bench_stream.py [--migrate]

(DJSTRIPE_DB may be a postgresql:// URL: dj-stripe then runs on PostgreSQL, as coinslot does in the
same scenario.) It lists every event stripesim holds, in dj-stripe's API version, oldest first, and
hands each to `djstripe.models.Event.process`: what dj-stripe's webhook view does with a verified
delivery (store the event, run its handlers, which re-read the objects from Stripe and sync them).
Signature checks and HTTP are left out, as they are on coinslot's side of the comparison. Prints
one JSON line: events processed, failures by exception type, elapsed nanoseconds.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "harness.settings")

import django

django.setup()

import stripe  # noqa: E402
from django.core.management import call_command  # noqa: E402

SIM_URL = os.environ["STRIPESIM_URL"].rstrip("/")


def all_events() -> list[dict[str, Any]]:
    """Every event, as a dj-stripe user's Stripe account would serve them to its pinned version."""
    from django.conf import settings

    events: list[dict[str, Any]] = []
    after = ""
    while True:
        query = "limit=100" + (f"&starting_after={after}" if after else "")
        request = urllib.request.Request(f"{SIM_URL}/v1/events?{query}", headers={
            "Authorization": f"Bearer {settings.STRIPE_TEST_SECRET_KEY}",
            "Stripe-Version": stripe.api_version})
        with urllib.request.urlopen(request, timeout=60) as response:
            page = json.load(response)
        events.extend(page["data"])
        if not page["has_more"] or not page["data"]:
            break
        after = page["data"][-1]["id"]
    events.sort(key=lambda event: (event["created"], event["id"]))
    return events


def main(argv: list[str]) -> int:
    from djstripe.models import Event

    if "--migrate" in argv:
        call_command("migrate", verbosity=0, interactive=False)
    events = all_events()
    failures: Counter[str] = Counter()
    started_ns = time.monotonic_ns()
    for event in events:
        try:
            Event.process(data=event)
        except Exception as exc:  # counted: the comparison reports how many dj-stripe could not sync
            failures[f"{event['type']}: {type(exc).__name__}"] += 1
    elapsed_ns = time.monotonic_ns() - started_ns
    print(json.dumps({"events": len(events), "failed": sum(failures.values()),
                      "failures": dict(failures.most_common()), "elapsed_ns": elapsed_ns}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
