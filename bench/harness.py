"""Timing maths, result rows, the printed table and the JSON file.

All timing maths is on integer nanoseconds (`time.perf_counter_ns`): rates are
`count * 1e9 // elapsed_ns` in integers, percentiles are picked from sorted
integer samples (nearest rank), and only the printed text is scaled to µs/ms.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.table import Table

__all__ = [
    "NotAvailable",
    "Row",
    "Sample",
    "ScenarioResult",
    "percentile_ns",
    "print_table",
    "rate_per_s",
    "sample_of",
    "time_calls",
    "write_json",
]

NS_PER_S = 1_000_000_000
Primary = Literal["rate", "p50", "p99", "total"]


class NotAvailable(Exception):
    """The code a scenario measures is not in the tree (yet): the row prints n/a with this reason."""


def percentile_ns(sorted_ns: Sequence[int], per_mille: int) -> int:
    """Nearest-rank percentile of sorted integer samples; `per_mille` 500 = p50, 990 = p99."""
    if not sorted_ns:
        raise ValueError("no samples")
    rank = (per_mille * len(sorted_ns) + 999) // 1000  # ceil, in integers
    return sorted_ns[max(rank, 1) - 1]


def rate_per_s(count: int, elapsed_ns: int) -> int:
    return count * NS_PER_S // max(elapsed_ns, 1)


@dataclass(frozen=True, slots=True)
class Sample:
    """One measured configuration: how many, over how long, and the latency percentiles."""

    count: int
    elapsed_ns: int
    p50_ns: int
    p99_ns: int
    errors: int = 0

    @property
    def rate_per_s(self) -> int:
        return rate_per_s(self.count, self.elapsed_ns)


def sample_of(latencies_ns: list[int], elapsed_ns: int, *, errors: int = 0) -> Sample:
    ordered = sorted(latencies_ns)
    return Sample(len(ordered), elapsed_ns, percentile_ns(ordered, 500), percentile_ns(ordered, 990), errors)


def time_calls(fn: Callable[[int], object], *, count: int, max_s: float, warmup: int = 0) -> Sample:
    """Call `fn(i)` up to `count` times (stopping at `max_s`), one latency per call."""
    for i in range(warmup):
        fn(-1 - i)
    deadline_ns = time.perf_counter_ns() + int(max_s * NS_PER_S)
    latencies: list[int] = []
    started = time.perf_counter_ns()
    for i in range(count):
        t0 = time.perf_counter_ns()
        fn(i)
        t1 = time.perf_counter_ns()
        latencies.append(t1 - t0)
        if t1 > deadline_ns:
            break
    return sample_of(latencies, time.perf_counter_ns() - started)


@dataclass(slots=True)
class Row:
    """A figure and its floor. `primary` says which number the ratio and the target are about."""

    key: str
    label: str
    sample: Sample | None
    primary: Primary = "rate"
    floor_label: str = ""
    floor: Sample | None = None
    target: str = ""  # e.g. ">= 0.5x floor", "p50 < 100 us"
    target_check: Callable[[Row], bool] | None = field(default=None, repr=False)
    note: str = ""
    unit: str = "req/s"
    na_reason: str = ""

    def value(self, sample: Sample | None) -> int | None:
        if sample is None:
            return None
        return {"rate": sample.rate_per_s, "p50": sample.p50_ns, "p99": sample.p99_ns,
                "total": sample.elapsed_ns}[self.primary]

    @property
    def ratio(self) -> float | None:
        """figure / floor on the primary number (display only: never fed back into timing maths)."""
        mine, floor = self.value(self.sample), self.value(self.floor)
        if mine is None or not floor:
            return None
        return round(mine / floor, 2)

    @property
    def met(self) -> bool | None:
        if self.target_check is None or self.sample is None:
            return None
        return self.target_check(self)

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label, "primary": self.primary, "unit": self.unit,
            "sample": asdict(self.sample) if self.sample else None,
            "rate_per_s": self.sample.rate_per_s if self.sample else None,
            "floor_label": self.floor_label or None,
            "floor": asdict(self.floor) if self.floor else None,
            "floor_rate_per_s": self.floor.rate_per_s if self.floor else None,
            "ratio": self.ratio, "target": self.target or None, "target_met": self.met,
            "note": self.note or None, "na_reason": self.na_reason or None,
        }


@dataclass(slots=True)
class ScenarioResult:
    name: str
    title: str
    rows: list[Row] = field(default_factory=list)
    na_reason: str = ""  # the whole scenario could not run
    facts: dict[str, Any] = field(default_factory=dict)  # e.g. {"verify_clean": true}
    elapsed_ns: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "status": "n/a" if self.na_reason else "ok",
            "na_reason": self.na_reason or None,
            "elapsed_ns": self.elapsed_ns,
            "facts": self.facts,
            "rows": {row.key: row.as_json() for row in self.rows},
        }


@contextmanager
def timed(result: ScenarioResult) -> Iterator[None]:
    started = time.perf_counter_ns()
    try:
        yield
    finally:
        result.elapsed_ns = time.perf_counter_ns() - started


def fmt_ns(ns: int | None) -> str:
    if ns is None:
        return "-"
    if ns < 1_000_000:
        return f"{ns // 1000} µs" if ns >= 10_000 else f"{ns / 1000:.1f} µs"
    if ns < 10 * NS_PER_S:
        return f"{ns / 1_000_000:.1f} ms"
    return f"{ns / NS_PER_S:.1f} s"


def _fmt_primary(row: Row, sample: Sample | None) -> str:
    value = row.value(sample)
    if value is None:
        return "-"
    return f"{value:,} {row.unit}" if row.primary == "rate" else fmt_ns(value)


def print_table(results: list[ScenarioResult], console: Console | None = None) -> None:
    console = console or Console(width=180)
    table = Table(title="coinslot benchmarks", show_lines=False, header_style="bold")
    for column in ("figure", "rate", "p50", "p99", "floor", "ratio", "target", "met"):
        table.add_column(column, overflow="fold")
    for result in results:
        table.add_section()
        if result.na_reason:
            table.add_row(f"[bold]{result.title}[/]", f"n/a ({result.na_reason})", *[""] * 6)
            continue
        table.add_row(f"[bold]{result.title}[/]", *[""] * 7)
        for row in result.rows:
            if row.sample is None:
                table.add_row("  " + row.label, f"n/a ({row.na_reason})", *[""] * 6)
                continue
            rate = f"{row.sample.rate_per_s:,} {row.unit}" if row.unit else "-"
            floor = f"{_fmt_primary(row, row.floor)} ({row.floor_label})" if row.floor else "-"
            met = {None: "", True: "yes", False: "[red]no[/]"}[row.met]
            ratio = f"{row.ratio}x" if row.ratio is not None else "-"
            table.add_row("  " + row.label, rate, fmt_ns(row.sample.p50_ns), fmt_ns(row.sample.p99_ns),
                          floor, ratio, row.target, met)
        for key, value in result.facts.items():
            table.add_row(f"  [dim]{key}[/]", f"[dim]{value}[/]", *[""] * 6)
    console.print(table)


def write_json(path: Path, *, machine: dict[str, Any], options: dict[str, Any],
               results: list[ScenarioResult]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "options": options,
        "scenarios": {result.name: result.as_json() for result in results},
    }
    path.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")
    return path
