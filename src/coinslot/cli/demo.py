"""`coinslot demo`: stripesim + coinslot (SQLite) + a sample host app, on loopback, in one process.

    coinslot demo [--catalog patch_hive|quantipackai|skinova|dreamscan] [--port 8000]

    host app   http://127.0.0.1:8000     sign in as a demo user, use credits, open billing
    coinslot   http://127.0.0.1:8001     the API, the billing pages, /admin (password printed)
    stripesim  http://127.0.0.1:12111    Stripe's API and its hosted pay and portal pages

The demo is the one place in coinslot that imports stripesim (import-linter
allows exactly this import): like the tests, it wires the two together by URL.
Demo users' Stripe customers sit on one Stripe test clock; the host app's
"advance" button moves that clock and coinslot's clock together, so a renewal
happens, its invoice.paid webhook arrives, and the new period's credits appear.
Everything lives in a temporary directory and is gone after Ctrl-C.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib.util
import secrets
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import typer
import uvicorn

from coinslot.apikeys.service import create_key
from coinslot.app import create_app
from coinslot.catalog import service as catalog_service
from coinslot.catalog.core import Catalog
from coinslot.catalog.flows import apply_push, plan_push
from coinslot.cli.common import console, shows_errors
from coinslot.clock import ShiftedClock
from coinslot.config import Settings
from coinslot.container import Container
from coinslot.db import Database
from coinslot.errors import InvalidInput
from coinslot.ledger import service as ledger_service
from coinslot.migrations import upgrade_to_head, versions_exist
from coinslot.money import format_minor
from coinslot.observability import configure_logging
from coinslot.overview import service as overview
from coinslot.webhooks import service as webhooks_service
from coinslot.webhooks.worker import process_due

app = typer.Typer()

REPO = Path(__file__).resolve().parents[3]
CATALOGS = REPO / "examples" / "catalogs"
HOST_APP = REPO / "examples" / "host_app.py"
DEMO_USERS = [("ada", "Ada Lovelace", "ada@example.com"), ("grace", "Grace Hopper", "grace@example.com"),
              ("linus", "Linus Pauling", "linus@example.com")]
STRIPE_KEY = "sk_test_coinslot_demo"


class Server:
    """An ASGI app served by uvicorn on 127.0.0.1:<port>, in a thread."""

    def __init__(self, asgi: Any, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(asgi, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                                lifespan="on", timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        try:
            asyncio.run(self._server.serve())
        except SystemExit:  # uvicorn exits when it cannot bind: start() says which address
            return

    def start(self) -> Server:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server for {self.url} did not start (is the port taken?)")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


def _catalog_path(name: str) -> Path:
    path = Path(name)
    if path.suffix == ".toml" and path.exists():
        return path
    candidate = CATALOGS / f"{name}.toml"
    if not candidate.exists():
        choices = ", ".join(sorted(p.stem for p in CATALOGS.glob("*.toml")))
        raise InvalidInput(f"no catalog {name!r}; choose one of: {choices}", field="--catalog")
    return candidate


def _load_host_app() -> ModuleType:
    spec = importlib.util.spec_from_file_location("coinslot_demo_host_app", HOST_APP)
    if spec is None or spec.loader is None:
        raise InvalidInput(f"the sample host app is missing: {HOST_APP}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def _create_schema(url: str) -> None:
    if versions_exist():
        upgrade_to_head(url)
        return
    import coinslot.models

    database = Database(url)
    coinslot.models.Base.metadata.create_all(database.engine)
    database.dispose()


class TestClockControl:
    """The demo users' Stripe test clock, moved through stripesim, and coinslot's clock with it.

    "Advance" means what a person expects: to the next renewal, far enough that Stripe has
    finalized and charged it (about an hour after the period ends, as at Stripe), its webhooks
    delivered and applied by coinslot; and it reports what changed, read back from coinslot's
    ledger and mirror, never a claim it has not checked.
    """

    def __init__(self, sim_url: str, clock: ShiftedClock, container: Container) -> None:
        self._sim = httpx.Client(base_url=sim_url, timeout=60,
                                 headers={"Authorization": f"Bearer {STRIPE_KEY}"})
        self._clock = clock
        self._container = container
        self._customers: dict[str, tuple[str, str]] = {}  # host user id -> (Stripe customer id, name)
        answer = self._sim.post("/v1/test_helpers/test_clocks",
                                data={"frozen_time": int(clock.now().timestamp()), "name": "coinslot demo"})
        answer.raise_for_status()
        self.clock_id: str = answer.json()["id"]

    def add_customer(self, *, host_user_id: str, name: str, email: str) -> None:
        """A Stripe customer on the test clock, tagged so coinslot links it to the user on first checkout."""
        answer = self._sim.post("/v1/customers", data={
            "name": name, "email": email, "test_clock": self.clock_id,
            "metadata[coinslot_user_id]": host_user_id,
        })
        answer.raise_for_status()
        self._customers[host_user_id] = (answer.json()["id"], name)

    def next_renewal(self) -> dt.datetime | None:
        """The soonest end of a live subscription's period among the demo customers, at Stripe."""
        ends = []
        for stripe_customer_id, _name in self._customers.values():
            listed = self._sim.get("/v1/subscriptions", params={"customer": stripe_customer_id})
            listed.raise_for_status()
            for subscription in listed.json()["data"]:
                for item in subscription["items"]["data"]:
                    ends.append(int(item["current_period_end"]))
        now = int(self._clock.now().timestamp())
        upcoming = [end for end in ends if end > now]
        return dt.datetime.fromtimestamp(min(upcoming), dt.UTC) if upcoming else None

    def advance(self) -> str:
        """Move both clocks past the next renewal (or into next month), apply what happened, say it."""
        renewal = self.next_renewal()
        now = self._clock.now()
        target = renewal + RENEWAL_SETTLED if renewal else ledger_service.month_start(now, months_back=-1)
        before = self._state()
        answer = self._sim.post(f"/_sim/test_clocks/{self.clock_id}/advance",
                                data={"frozen_time": int(target.timestamp())})
        answer.raise_for_status()
        self._clock.move_to(target)
        waiting = self._settle()
        lines = [f"The test clock is now at {target:%d %b %Y, %H:%M} UTC"
                 + (", past the next renewal." if renewal else ", a new month (no subscription was due).")]
        lines += self._changes(before) or ["Nothing changed for the demo users."]
        if waiting:
            lines.append(f"{waiting} Stripe event(s) are still being applied: refresh in a moment.")
        return " ".join(lines)

    def _settle(self, timeout_s: float = 30.0) -> int:
        """Deliver Stripe's webhooks and wait until coinslot has applied them (helping the in-process
        worker along); the events still not applied when it gives up (0 when all are)."""
        deadline = time.monotonic() + timeout_s
        while True:
            self._sim.post("/_sim/flush")
            process_due(self._container, limit=500)
            with self._container.db.unit_of_work(read_only=True) as session:
                counts = webhooks_service.counts(session)
            # The unfinished statuses are counted exactly (only finished ones are capped).
            waiting = sum(counts[status].rows for status in ("received", "processing") if status in counts)
            if waiting == 0 or time.monotonic() > deadline:
                return waiting + (counts["failed"].rows if "failed" in counts else 0)
            time.sleep(0.1)  # the in-process worker holds some of them: let it finish

    def _state(self) -> dict[str, _UserState]:
        """Each demo user's plan and credits as coinslot sees them now."""
        states = {}
        for host_user_id, (_stripe_id, name) in self._customers.items():
            state = overview.read_customer_state(self._container, host_user_id=host_user_id)
            if state.customer_id is None:  # never used coinslot yet
                continue
            states[host_user_id] = _UserState(name, state.customer_id, state.plan.name,
                                              state.credits.available, state.ledger_position)
        return states

    def _changes(self, before: dict[str, _UserState]) -> list[str]:
        """One line per user whose plan or credits moved, with the grants and expiries behind it."""
        lines = []
        for host_user_id, now in self._state().items():
            was = before.get(host_user_id)
            if was is None or (was.plan_name, was.credits, was.ledger_position) == (
                    now.plan_name, now.credits, now.ledger_position):
                continue
            with self._container.db.unit_of_work(read_only=True) as session:
                written = ledger_service.entries(session, customer_id=now.customer_id,
                                                 after=was.ledger_position, limit=1000)
            granted = sum(entry.available_delta for entry in written if entry.kind == "grant")
            expired = -sum(entry.available_delta for entry in written if entry.kind == "expire")
            if now.plan_name != was.plan_name:
                what = f"{was.plan_name} ended, now on {now.plan_name}"
            else:
                what = f"{now.plan_name} renewed" if granted else f"still on {now.plan_name}"
            figures = [f"+{granted} credits"] if granted else []
            figures += [f"{expired} expired"] if expired else []
            lines.append(f"{now.name}: {what}" + (f" ({', '.join(figures)})" if figures else "")
                         + f", {now.credits} credits now.")
        return lines


RENEWAL_SETTLED = dt.timedelta(hours=2)  # past Stripe's hour between a period's end and charging its renewal


@dataclass(frozen=True, slots=True)
class _UserState:
    name: str
    customer_id: int
    plan_name: str
    credits: int
    ledger_position: int


def _features(catalog: Catalog) -> list[tuple[str, str, int, list[str]]]:
    return [(key, feature.name, feature.credits, list(feature.multipliers)) for key, feature in
            catalog.features.items() if feature.credits > 0]


@dataclass
class Demo:
    """The three servers of the demo, started together and stopped together."""

    host_url: str
    coinslot_url: str
    stripesim_url: str
    admin_password: str
    catalog_name: str
    catalog_path: Path
    clock_control: TestClockControl
    servers: list[Server]
    workdir: Path

    @classmethod
    def start(cls, *, catalog: str = "patch_hive", port: int = 8000, stripesim_port: int = 12111,
              start_at: dt.datetime | None = None) -> Demo:
        """Start the three servers. `start_at` pins the moment the demo's clocks start from (a test's
        frozen time); by default they start now."""
        import stripesim
        from stripesim.sim import Sim

        catalog_path = _catalog_path(catalog)
        workdir = Path(tempfile.mkdtemp(prefix="coinslot-demo-"))
        host_url, coinslot_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}"
        webhook_secret = "whsec_" + secrets.token_hex(16)
        admin_password = secrets.token_urlsafe(9)
        settings = Settings(
            _env_file=None, database_url=f"sqlite:///{workdir / 'coinslot.db'}", stripe_secret_key=STRIPE_KEY,
            stripe_api_base=f"http://127.0.0.1:{stripesim_port}", stripe_webhook_secrets=webhook_secret,
            catalog_path=catalog_path, public_url=coinslot_url, allowed_redirect_origins=host_url,
            session_secret=secrets.token_urlsafe(32), admin_password=admin_password,
            public_pricing_cta_url=host_url + "/?plan={plan}&interval={interval}",
            run_worker_in_process=True, webhook_retry_base_s=2.0, log_json=False, log_level="WARNING",
        )
        _create_schema(settings.database_url)
        servers: list[Server] = []
        try:
            sim_app = stripesim.create_app(Sim(retry_base_delay_s=1.0),
                                           webhook_url=f"{coinslot_url}/webhooks/stripe",
                                           webhook_secret=webhook_secret)
            servers.append(Server(sim_app, stripesim_port).start())
            clock = ShiftedClock(start_at)
            coinslot_app = create_app(settings, clock=clock, configure_logs=False)
            servers.append(Server(coinslot_app, port + 1).start())
            container = coinslot_app.state.container
            loaded = catalog_service.get_catalog(settings)
            apply_push(container.gateway, plan_push(container.gateway, loaded))
            control = TestClockControl(servers[0].url, clock, container)
            with container.db.unit_of_work() as session:
                # What the sample host app calls, and nothing more (no adjustments): docs/security.md.
                api_key = create_key(session, name="demo host app", now=clock.now(),
                                     scopes=["entitlements", "read", "billing", "links"]).secret
            host = _load_host_app()
            users = [host.DemoUser(user_id, name, email) for user_id, name, email in DEMO_USERS]
            for user in users:
                control.add_customer(host_user_id=user.id, name=user.name, email=user.email)
            product = next((p for p in loaded.products.values() if p.accepts_payload), None)
            config = host.HostAppConfig(
                coinslot_url=coinslot_url, api_key=api_key, public_url=host_url, app_name=loaded.name,
                users=users, features=_features(loaded),
                consultation=(product.key, product.name, format_minor(product.amount_minor, product.currency))
                if product else None,
                demo_controls=[("Advance the test clock to the next renewal", control.advance)],
                demo_links=[
                    ("coinslot's admin console", f"{coinslot_url}/admin", f"password: {admin_password}"),
                    ("coinslot's API reference", f"{coinslot_url}/docs", ""),
                    ("coinslot's public pricing", f"{coinslot_url}/pricing", ""),
                    ("stripesim", f"http://127.0.0.1:{stripesim_port}/", "Stripe's API and pages, offline"),
                ],
            )
            servers.append(Server(host.create_host_app(config), port).start())
        except BaseException:
            for server in reversed(servers):
                server.stop()
            shutil.rmtree(workdir, ignore_errors=True)
            raise
        return cls(host_url, coinslot_url, servers[0].url, admin_password, loaded.name, catalog_path, control,
                   servers, workdir)

    def stop(self) -> None:
        for server in reversed(self.servers):
            server.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


@app.command("demo")
@shows_errors
def demo(
    catalog: str = typer.Option("patch_hive",
                                help="patch_hive | quantipackai | skinova | dreamscan, or a path"),
    port: int = typer.Option(8000, help="the sample host app's port; coinslot takes the next one"),
    stripesim_port: int = typer.Option(12111, help="stripesim's port"),
    start: str = typer.Option("", help="start the clocks at this UTC moment (e.g. 2027-01-31 or "
                                       "2027-01-31T23:00) instead of now: see a renewal across a month end"),
) -> None:
    """Run the demo: a sample host app, coinslot on SQLite and stripesim, until Ctrl-C."""
    configure_logging("WARNING", json_lines=False)
    running = Demo.start(catalog=catalog, port=port, stripesim_port=stripesim_port, start_at=_start(start))
    try:
        _print_welcome(running)
        threading.Event().wait()
    except KeyboardInterrupt:
        console.print("\nstopping…")
    finally:
        running.stop()


def _start(text: str) -> dt.datetime | None:
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"--start {text!r} is not a date: write e.g. 2027-01-31 or 2027-01-31T23:00",
                           field="--start") from None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _print_welcome(demo: Demo) -> None:
    lines = [
        "",
        f"[bold]coinslot demo[/] · catalog [bold]{demo.catalog_name}[/] ({demo.catalog_path.name})",
        "",
        f"  [bold green]Start here:[/]  {demo.host_url}",
        "               the sample host app: pick a user, use credits, open billing",
        f"  coinslot:       {demo.coinslot_url}   (what runs there, and links onward)",
        f"  coinslot admin: {demo.coinslot_url}/admin   password: [bold]{demo.admin_password}[/]",
        f"  coinslot API:   {demo.coinslot_url}/docs",
        f"  public pricing: {demo.coinslot_url}/pricing",
        f"  stripesim:      {demo.stripesim_url}   (Stripe's API, its pay and portal pages)",
        "",
        "  On stripesim's pay page pick a test card: Visa 4242 pays, 0002 is declined.",
        "  Press Ctrl-C to stop (the demo's data is thrown away).",
        "",
    ]
    for line in lines:
        console.print(line, highlight=False, soft_wrap=True)
