"""`python -m bench [--quick] [--only NAME ...] [--json-out DIR]`: run, print the table, write the JSON."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import shutil
import socket
import sys
import tempfile
import traceback
from pathlib import Path

from rich.console import Console

from bench.context import Context, Sizes
from bench.databases import BenchPostgres, PostgresUnavailable
from bench.harness import ScenarioResult, print_table, write_json
from bench.machine import describe_machine
from bench.scenarios import SCENARIOS

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="every scenario in a tiny configuration")
    parser.add_argument("--only", action="append", choices=sorted(SCENARIOS), metavar="NAME",
                        help=f"run only this scenario (repeatable): {', '.join(SCENARIOS)}")
    parser.add_argument("--json-out", type=Path, default=None,
                        help="directory for the JSON file (default bench/results/, named local-*.json)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    return parser.parse_args(argv)


def _start_postgres(skip: bool, console: Console) -> tuple[BenchPostgres | None, str]:
    if skip:
        return None, "skipped (--no-postgres)"
    try:
        console.print("[dim]starting a throw-away PostgreSQL...[/]")
        return BenchPostgres().start(), ""
    except (PostgresUnavailable, OSError) as exc:
        return None, f"PostgreSQL unavailable: {exc}"


def _json_path(json_out: Path | None) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    host = socket.gethostname().split(".")[0]
    if json_out is None:
        # Local runs stay out of git (.gitignore: bench/results/local-*.json).
        return RESULTS_DIR / f"local-{stamp}-{host}.json"
    return json_out / f"{stamp}-{host}.json"


def _run_one(name: str, ctx: Context, console: Console) -> ScenarioResult:
    module = SCENARIOS[name]
    console.print(f"[bold]== {module.TITLE}[/]")
    try:
        result: ScenarioResult = module.run(ctx)
    except Exception as exc:  # a broken scenario must not hide the others' figures
        traceback.print_exc()
        result = ScenarioResult(name, module.TITLE, na_reason=f"failed: {type(exc).__name__}: {exc}")
    return result


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    console = Console(width=180)
    logging.basicConfig(level=logging.WARNING)
    names = args.only or list(SCENARIOS)
    workdir = Path(tempfile.mkdtemp(prefix="coinslot-bench-"))
    ctx = Context(quick=args.quick, sizes=Sizes.quick() if args.quick else Sizes.full(), workdir=workdir,
                  postgres=None, postgres_reason="")
    if {"check_http", "webhook_receive"} & set(names):
        ctx.launch_floor()  # boots while PostgreSQL starts
    postgres, ctx.postgres_reason = _start_postgres(args.no_postgres, console)
    ctx.postgres = postgres
    try:
        machine = describe_machine(postgres.version() if postgres else None)
        results = [_run_one(name, ctx, console) for name in names]
    finally:
        ctx.close()
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    print_table(results, console)
    console.print(f"machine: {machine['cores']} cores, {machine['memory_gib']} GiB, {machine['cpu']}; "
                  f"Python {machine['python']}, SQLite {machine['sqlite']}, "
                  f"PostgreSQL {machine['postgresql'] or 'n/a'}")
    path = write_json(_json_path(args.json_out), machine=machine,
                      options={"quick": args.quick, "only": names}, results=results)
    console.print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
