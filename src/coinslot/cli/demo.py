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
from coinslot.db import Database
from coinslot.errors import InvalidInput
from coinslot.migrations import upgrade_to_head, versions_exist
from coinslot.money import format_minor
from coinslot.observability import configure_logging

app = typer.Typer()

REPO = Path(__file__).resolve().parents[3]
CATALOGS = REPO / "examples" / "catalogs"
HOST_APP = REPO / "examples" / "host_app.py"
DEMO_USERS = [("ada", "Ada Lovelace", "ada@example.com"), ("grace", "Grace Hopper", "grace@example.com"),
              ("linus", "Linus Pauling", "linus@example.com")]
STRIPE_KEY = "sk_test_coinslot_demo"
MONTH_DAYS = 31


class Server:
    """An ASGI app served by uvicorn on 127.0.0.1:<port>, in a thread."""

    def __init__(self, asgi: Any, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(asgi, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                                lifespan="on", timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=lambda: asyncio.run(self._server.serve()), daemon=True)

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
    """The demo users' Stripe test clock, moved through stripesim, and coinslot's clock with it."""

    def __init__(self, sim_url: str, clock: ShiftedClock) -> None:
        self._sim = httpx.Client(base_url=sim_url, timeout=60,
                                 headers={"Authorization": f"Bearer {STRIPE_KEY}"})
        self._clock = clock
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

    def advance(self, days: int) -> str:
        target = self._clock.now() + dt.timedelta(days=days)
        answer = self._sim.post(f"/_sim/test_clocks/{self.clock_id}/advance",
                                data={"frozen_time": int(target.timestamp())})
        answer.raise_for_status()
        self._clock.move_to(target)
        # Deliver the renewal's webhooks now; the in-process worker applies them.
        self._sim.post("/_sim/flush")
        time.sleep(1.5)
        return (f"The test clock is now at {target:%d %b %Y}. Renewals ran at Stripe and their webhooks were "
                "applied: open Billing to see the new period and its credits.")


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
    def start(cls, *, catalog: str = "patch_hive", port: int = 8000, stripesim_port: int = 12111) -> Demo:
        import stripesim
        from stripesim.sim import Sim

        catalog_path = _catalog_path(catalog)
        workdir = Path(tempfile.mkdtemp(prefix="coinslot-demo-"))
        host_url, coinslot_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}"
        webhook_secret = "whsec_" + secrets.token_hex(16)
        settings = Settings(
            _env_file=None, database_url=f"sqlite:///{workdir / 'coinslot.db'}", stripe_secret_key=STRIPE_KEY,
            stripe_api_base=f"http://127.0.0.1:{stripesim_port}", stripe_webhook_secrets=webhook_secret,
            catalog_path=catalog_path, public_url=coinslot_url, allowed_redirect_origins=host_url,
            session_secret=secrets.token_urlsafe(32), admin_password=secrets.token_urlsafe(9),
            run_worker_in_process=True, webhook_retry_base_s=2.0, log_json=False, log_level="WARNING",
        )
        _create_schema(settings.database_url)
        servers: list[Server] = []
        try:
            sim_app = stripesim.create_app(Sim(retry_base_delay_s=1.0),
                                           webhook_url=f"{coinslot_url}/webhooks/stripe",
                                           webhook_secret=webhook_secret)
            servers.append(Server(sim_app, stripesim_port).start())
            clock = ShiftedClock()
            coinslot_app = create_app(settings, clock=clock, configure_logs=False)
            servers.append(Server(coinslot_app, port + 1).start())
            container = coinslot_app.state.container
            loaded = catalog_service.get_catalog(settings)
            apply_push(container.gateway, plan_push(container.gateway, loaded))
            control = TestClockControl(servers[0].url, clock)
            with container.db.unit_of_work() as session:
                api_key = create_key(session, name="demo host app", now=clock.now()).secret
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
                demo_controls=[(f"Advance the test clock by {MONTH_DAYS} days (a renewal)",
                                lambda: control.advance(MONTH_DAYS))],
            )
            servers.append(Server(host.create_host_app(config), port).start())
        except BaseException:
            for server in reversed(servers):
                server.stop()
            shutil.rmtree(workdir, ignore_errors=True)
            raise
        password = settings.admin_password.get_secret_value() if settings.admin_password else ""
        return cls(host_url, coinslot_url, servers[0].url, password, loaded.name, catalog_path, control,
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
) -> None:
    """Run the demo: a sample host app, coinslot on SQLite and stripesim, until Ctrl-C."""
    configure_logging("WARNING", json_lines=False)
    running = Demo.start(catalog=catalog, port=port, stripesim_port=stripesim_port)
    try:
        _print_welcome(running)
        threading.Event().wait()
    except KeyboardInterrupt:
        console.print("\nstopping…")
    finally:
        running.stop()


def _print_welcome(demo: Demo) -> None:
    lines = [
        "",
        f"[bold]coinslot demo[/] · catalog [bold]{demo.catalog_name}[/] ({demo.catalog_path.name})",
        "",
        f"  [bold green]Start here:[/]  {demo.host_url}",
        "               the sample host app: pick a user, use credits, open billing",
        f"  coinslot admin: {demo.coinslot_url}/admin   password: [bold]{demo.admin_password}[/]",
        f"  coinslot API:   {demo.coinslot_url}/docs",
        f"  stripesim:      {demo.stripesim_url}   (Stripe's API, its pay and portal pages)",
        "",
        "  On stripesim's pay page pick a test card: Visa 4242 pays, 0002 is declined.",
        "  Press Ctrl-C to stop (the demo's data is thrown away).",
        "",
    ]
    for line in lines:
        console.print(line, highlight=False, soft_wrap=True)
