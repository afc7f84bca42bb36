"""Webhook worker processes for the processing scenario: `python -m bench.worker`.

One process serves every measurement of a run (starting one per measurement
was most of the scenario's time: each start imports coinslot, seconds on
these 2 cores). It prints "ready" once imported, then for each job line (a
JSON spec) on stdin: warms up (catalog, database and Stripe connections),
prints "ready", waits for a "go" line (so that every worker starts together
and start-up is not timed), runs coinslot's `process_due` batch after batch
until nothing is due, and prints what it did with the CLOCK_MONOTONIC time
(comparable across processes) of its last completed batch. EOF ends it.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from sqlalchemy import text

__all__ = ["main"]

_IDLE_ROUNDS = 3  # "nothing due" this many times in a row: the other worker holds the rest, or all done
_IDLE_SLEEP_S = 0.02


def _job(spec: dict[str, Any]) -> dict[str, int]:
    from coinslot.catalog import service as catalog_service
    from coinslot.clock import SystemClock
    from coinslot.config import Settings
    from coinslot.container import Container
    from coinslot.db import Database
    from coinslot.webhooks.worker import new_worker_id, process_due

    settings = Settings(
        _env_file=None, database_url=spec["database_url"], stripe_secret_key=spec["stripe_key"],
        stripe_api_base=spec["stripe_api_base"], stripe_max_network_retries=0,
        catalog_path=spec["catalog_path"], log_level="WARNING", log_json=False,
    )
    container = Container(settings=settings, db=Database(settings.database_url), clock=SystemClock())
    catalog_service.get_catalog(settings)
    _ = container.gateway
    with container.db.unit_of_work(read_only=True) as session:
        session.execute(text("SELECT 1"))
    worker = new_worker_id()
    print("ready", flush=True)
    sys.stdin.readline()
    deadline = time.monotonic() + float(spec["max_s"])
    processed, idle, last_done_ns = 0, 0, time.monotonic_ns()
    try:
        while time.monotonic() < deadline and idle < _IDLE_ROUNDS:
            claimed = process_due(container, limit=int(spec["batch"]), worker=worker)
            if claimed == 0:
                idle += 1
                time.sleep(_IDLE_SLEEP_S)
                continue
            idle = 0
            processed += claimed
            last_done_ns = time.monotonic_ns()
    finally:
        container.db.dispose()
    return {"processed": processed, "last_done_ns": last_done_ns}


def main() -> None:
    import coinslot.webhooks.worker  # noqa: F401  (the imports, before "ready")

    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(_job(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
