"""coinslot + stripesim as real servers on loopback, wired by URL: the end-to-end test bench.

stack = Stack.start(database_url, catalog="patch_hive")
stack.api.post("/v1/checkout/sessions", json={...})   # coinslot's REST API with an API key
stack.stripe.customers.list()                         # Stripe's view, through the official SDK
stack.settle()                                        # deliver webhooks, then process them
clock = stack.new_test_clock()                        # a Stripe test clock at coinslot's "now"
stack.advance_clock(clock, to=...)                    # move it and coinslot's clock together
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import httpx
import stripe

import stripesim
from coinslot.app import create_app
from coinslot.clock import ShiftedClock
from coinslot.config import Settings
from coinslot.container import Container
from coinslot.db import Database
from stripesim.sim import Sim
from tests.support.servers import ServerThread, free_port

REPO = Path(__file__).resolve().parents[2]
CATALOGS = REPO / "examples" / "catalogs"
STRIPE_KEY = "sk_test_coinslot_e2e"
WEBHOOK_SECRET = "whsec_coinslot_e2e_secret"


@dataclass
class Stack:
    sim: Sim
    sim_server: ServerThread
    coinslot_server: ServerThread
    container: Container
    api: httpx.Client
    stripe: stripe.StripeClient
    api_key: str
    clock: ShiftedClock

    @property
    def url(self) -> str:
        return self.coinslot_server.url

    @classmethod
    def start(cls, database_url: str, *, catalog: str | Path = "patch_hive", **overrides: object) -> Stack:
        """`catalog`: an example catalog's name, or the path of a catalog file (one a test edits)."""
        coinslot_port = free_port()
        sim = Sim(retry_base_delay_s=0.05)
        sim_app = stripesim.create_app(
            sim,
            webhook_url=f"http://127.0.0.1:{coinslot_port}/webhooks/stripe",
            webhook_secret=WEBHOOK_SECRET,
        )
        sim_server = ServerThread(sim_app).start()
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=database_url,
            stripe_secret_key=STRIPE_KEY,
            stripe_api_base=sim_server.url,
            stripe_webhook_secrets=WEBHOOK_SECRET,
            stripe_max_network_retries=0,
            catalog_path=catalog if isinstance(catalog, Path) else CATALOGS / f"{catalog}.toml",
            public_url=f"http://127.0.0.1:{coinslot_port}",
            allowed_redirect_origins=overrides.pop("allowed_redirect_origins",
                                                   "http://127.0.0.1:5000,http://localhost:5000"),
            session_secret="e2e-session-secret-e2e-session-secret",
            admin_password="admin-e2e",
            log_json=False,
            log_level="WARNING",
            **overrides,
        )
        database = Database(database_url)
        # Wall-clock time until a test moves a Stripe test clock: then coinslot's "now" follows it,
        # as in production where Stripe's time and coinslot's are the same.
        clock = ShiftedClock()
        app = create_app(settings, db=database, clock=clock, configure_logs=False)
        coinslot_server = ServerThread(app, port=coinslot_port).start()
        container: Container = app.state.container
        from coinslot.apikeys.service import create_key

        with database.unit_of_work() as session:
            key = create_key(session, name="e2e", now=dt.datetime.now(dt.UTC), scopes=["admin"])
        api = httpx.Client(
            base_url=coinslot_server.url, headers={"Authorization": f"Bearer {key.secret}"}, timeout=30
        )
        client = stripe.StripeClient(
            STRIPE_KEY, base_addresses={"api": sim_server.url}, max_network_retries=0
        )
        return cls(sim, sim_server, coinslot_server, container, api, client, key.secret, clock)

    def settle(self, *, rounds: int = 5) -> int:
        """Deliver every queued Stripe webhook, then process every due event; returns events processed."""
        from coinslot.webhooks.worker import process_due

        processed = 0
        for _ in range(rounds):
            self.sim.dispatcher.flush()
            done = process_due(self.container, limit=1000)
            processed += done
            if done == 0:
                break
        return processed

    def new_test_clock(self, start_at: dt.datetime | None = None) -> str:
        """A Stripe test clock frozen at `start_at` (coinslot's clock moves there too), else at coinslot's
        current time; customers created on it bill on its time."""
        if start_at is not None:
            # Events already stored are due at the time they arrived; moving coinslot's clock back
            # first would leave them waiting for a time that never comes. Time only goes forward in
            # production: apply what happened before the jump.
            self.settle()
            self.clock.move_to(start_at)
        created = self.stripe.v1.test_helpers.test_clocks.create(
            params={"frozen_time": int(self.clock.now().timestamp())}
        )
        return created.id

    def advance_clock(self, test_clock_id: str, *, to: dt.datetime) -> None:
        """Move the Stripe test clock to `to` (returns once Stripe's billing has run) and coinslot's clock
        with it. The webhooks it caused are queued: `settle()` delivers and applies them."""
        answer = httpx.post(
            f"{self.sim_server.url}/_sim/test_clocks/{test_clock_id}/advance",
            json={"frozen_time": int(to.timestamp())},
            timeout=60,
        )
        answer.raise_for_status()
        self.clock.move_to(to)

    def stop(self) -> None:
        self.api.close()
        self.coinslot_server.stop()
        self.sim_server.stop()
        self.container.db.dispose()
