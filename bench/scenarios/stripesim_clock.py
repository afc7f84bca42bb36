"""stripesim: advance a test clock one month with a subscription on it, its webhooks delivered.

stripesim runs from its CLI and delivers to the bare FastAPI app (so the
time is stripesim's, not a receiver's). One month = the synchronous advance
(`/_sim/test_clocks/{id}/advance`: renewal invoice, payment, events) plus
`/_sim/flush` (every delivery acknowledged). Floor: the same on a clock
with no customer. Then a 12-month run: twelve such months back to back.
"""

from __future__ import annotations

import time

import httpx

from bench.context import Context
from bench.harness import NS_PER_S, Row, Sample, ScenarioResult, sample_of, timed
from bench.servers import REPO, serve_app, serve_stripesim
from bench.stripesim_world import MONTH_S, STRIPE_KEY, checkout, client_for, push_catalog

NAME = "stripesim_clock"
TITLE = "stripesim: test clock months, webhooks delivered"
CATALOG = REPO / "examples" / "catalogs" / "patch_hive.toml"


def _new_clock(http: httpx.Client, start: int, *, subscribed: bool, prices: dict[str, tuple[str, str]],
               url: str) -> str:
    client = client_for(url)
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": start})
    if subscribed:
        customer = client.v1.customers.create(params={"test_clock": clock.id, "email": "bench@example.com"})
        checkout(client, http, customer=customer.id, host_user_id="bench", mode="subscription",
                 price=prices["plan:pro"][0], quantity=1, item="plan:pro", card="pm_card_visa")
        http.post("/_sim/flush", json={"timeout_s": 30}).raise_for_status()
    return clock.id


def _months(http: httpx.Client, clock_id: str, start: int, months: int) -> list[int]:
    """Advance `months` months one at a time; the duration of each (advance + flush), in ns."""
    durations = []
    frozen = start
    for _ in range(months):
        frozen += MONTH_S
        t0 = time.perf_counter_ns()
        http.post(f"/_sim/test_clocks/{clock_id}/advance", json={"frozen_time": frozen}).raise_for_status()
        drained = http.post("/_sim/flush", json={"timeout_s": 60}).raise_for_status().json()
        durations.append(time.perf_counter_ns() - t0)
        if not drained.get("drained"):
            raise RuntimeError("stripesim did not deliver every webhook within 60 s")
    return durations


def run(ctx: Context) -> ScenarioResult:
    result = ScenarioResult(NAME, TITLE)
    sizes = ctx.sizes
    auth = {"Authorization": f"Bearer {STRIPE_KEY}"}
    with timed(result), serve_app("bench.apps:floor_app", log_dir=ctx.workdir) as receiver, \
            serve_stripesim(log_dir=ctx.workdir, webhook_url=receiver.url + "/webhooks/stripe",
                            webhook_secret="whsec_coinslot_bench") as sim, \
            httpx.Client(base_url=sim.url, headers=auth, timeout=90) as http:
        prices = push_catalog(client_for(sim.url), CATALOG)
        start = int(time.time())
        repeats = sizes.stripesim_repeats
        empty = _new_clock(http, start, subscribed=False, prices=prices, url=sim.url)
        floor_ns = _months(http, empty, start, repeats)
        busy = _new_clock(http, start, subscribed=True, prices=prices, url=sim.url)
        month_ns = _months(http, busy, start, repeats)
        result.rows.append(Row("month", "one month, 1 subscription", sample_of(month_ns, sum(month_ns)),
                               primary="p50", floor_label="empty clock",
                               floor=sample_of(floor_ns, sum(floor_ns)), unit="months/s",
                               target="p50 < 0.5 s", target_check=_under_half_a_second))
        year = _new_clock(http, start, subscribed=True, prices=prices, url=sim.url)
        year_ns = _months(http, year, start, sizes.stripesim_months)
        total = sum(year_ns)
        empty_year = _new_clock(http, start, subscribed=False, prices=prices, url=sim.url)
        empty_year_ns = _months(http, empty_year, start, sizes.stripesim_months)
        result.rows.append(Row("year", f"{sizes.stripesim_months}-month run, 1 subscription",
                               Sample(len(year_ns), total, *_p50_p99(year_ns)), primary="total",
                               floor_label="empty clock",
                               floor=Sample(len(empty_year_ns), sum(empty_year_ns), *_p50_p99(empty_year_ns)),
                               unit="months/s"))
    return result


def _under_half_a_second(row: Row) -> bool:
    return row.sample is not None and row.sample.p50_ns < NS_PER_S // 2


def _p50_p99(durations: list[int]) -> tuple[int, int]:
    sample = sample_of(durations, 1)
    return sample.p50_ns, sample.p99_ns
