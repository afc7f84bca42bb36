"""What every scenario gets: the size of the run, a work directory and the PostgreSQL server."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from bench.databases import BenchDatabase, BenchPostgres, fresh_database
from bench.servers import ServerProcess, app_process, coinslot_env
from tests.support.console_scale import FULL as CONSOLE_FULL
from tests.support.console_scale import ConsoleScale

__all__ = ["Context", "Sizes"]


@dataclass(frozen=True, slots=True)
class Sizes:
    """Counts and time limits of one run: every loop in the harness is bounded by these."""

    http_count: int
    http_duration_s: float
    http_warmup: int
    check_customers: int  # seeded Pro customers behind the check figures
    inproc_count: int
    inproc_duration_s: float
    consume_count: int
    consume_duration_s: float
    consume_threads: int
    consume_spread_customers: int
    webhook_count: int
    process_customers: int  # stripesim subscriptions behind the event mix
    process_months: int
    growth_small: tuple[int, int]  # (customers, entries)
    growth_large: tuple[int, int]
    growth_calls: int
    stripesim_months: int
    stripesim_repeats: int
    console: ConsoleScale  # the rows behind the admin console's figures (admin_scale)
    console_calls: int

    @classmethod
    def full(cls) -> Sizes:
        return cls(http_count=30_000, http_duration_s=5.0, http_warmup=300, check_customers=100,
                   inproc_count=20_000,
                   inproc_duration_s=4.0, consume_count=4_000, consume_duration_s=4.0, consume_threads=16,
                   consume_spread_customers=256, webhook_count=4_000, process_customers=100,
                   process_months=3, growth_small=(100, 1_000), growth_large=(1_000_000, 10_000_000),
                   growth_calls=2_000, stripesim_months=12, stripesim_repeats=5, console=CONSOLE_FULL,
                   console_calls=100)

    @classmethod
    def quick(cls) -> Sizes:
        return cls(http_count=150, http_duration_s=0.5, http_warmup=20, check_customers=10, inproc_count=100,
                   inproc_duration_s=0.5, consume_count=40, consume_duration_s=1.0, consume_threads=4,
                   consume_spread_customers=8, webhook_count=100, process_customers=2, process_months=1,
                   growth_small=(10, 100), growth_large=(100, 1_000), growth_calls=30, stripesim_months=2,
                   stripesim_repeats=1, console=ConsoleScale(customers=1_000, events=10_000, entries=5_000),
                   console_calls=5)


@dataclass
class Context:
    quick: bool
    sizes: Sizes
    workdir: Path
    postgres: BenchPostgres | None
    postgres_reason: str  # why there is no PostgreSQL, when there is none
    _floors: dict[int, ServerProcess] = field(default_factory=dict, repr=False)
    _coinslot: dict[str, tuple[BenchDatabase, ServerProcess]] = field(default_factory=dict, repr=False)
    _stack: ExitStack = field(default_factory=ExitStack, repr=False)

    @property
    def database_kinds(self) -> list[str]:
        return ["sqlite", "postgresql"] if self.postgres is not None else ["sqlite"]

    @property
    def web_workers(self) -> int:
        """API processes of every HTTP server of the run, coinslot's and the floor's alike: what
        `coinslot serve` starts on PostgreSQL, one per CPU (cli/server.py). SQLite gets the same count
        here (`serve --workers N`), so that both rows and their floor compare like with like."""
        from coinslot.cli.server import usable_cpus, web_workers

        return web_workers(None, is_sqlite=False, cpus=usable_cpus())

    def recommended_workers(self, kind: str) -> int:
        """What `coinslot serve` starts on a `kind` database by default: one per CPU on PostgreSQL, one on
        SQLite (its writers queue on one file lock; across processes they poll)."""
        from coinslot.cli.server import usable_cpus, web_workers

        return web_workers(None, is_sqlite=kind == "sqlite", cpus=usable_cpus())

    def launch_floor(self, workers: int | None = None) -> None:
        """Boot the bare FastAPI floor in the background; it is stateless, so one (per process count)
        serves the whole run."""
        workers = workers or self.web_workers
        if workers not in self._floors:
            self._floors[workers] = app_process("bench.apps:floor_app", log_dir=self.workdir,
                                                workers=workers).launch()

    def floor(self, workers: int | None = None) -> ServerProcess:
        self.launch_floor(workers)
        return self._floors[workers or self.web_workers].wait_ready()

    def coinslot(self, kind: str, workers: int | None = None) -> tuple[BenchDatabase, ServerProcess]:
        """The run's coinslot server on a `kind` database in `workers` processes (`web_workers` unless
        given), launched (not waited for) on first use.

        The HTTP scenarios share it: each boot is seconds of CPU (imports), most of a --quick run.
        """
        workers = workers or self.web_workers
        key = f"{kind}-{workers}"
        if key not in self._coinslot:
            db = self._stack.enter_context(fresh_database(kind, postgres=self.postgres, workdir=self.workdir))
            process = app_process("bench.apps:coinslot_app", log_dir=self.workdir, env=coinslot_env(db.url),
                                  workers=workers)
            server = self._stack.enter_context(process.launch())
            self._coinslot[key] = (db, server)
        return self._coinslot[key]

    def close(self) -> None:
        for floor in self._floors.values():
            floor.stop()
        self._stack.close()
