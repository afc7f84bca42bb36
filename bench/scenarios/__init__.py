"""The scenarios, in the order they run. Each module has NAME, TITLE and `run(ctx) -> ScenarioResult`."""

from __future__ import annotations

from types import ModuleType

from bench.scenarios import (
    admin_scale,
    check_http,
    check_inproc,
    consume,
    growth,
    stripesim_clock,
    webhook_process,
    webhook_receive,
)

__all__ = ["SCENARIOS"]

SCENARIOS: dict[str, ModuleType] = {
    module.NAME: module
    for module in (
        check_http, check_inproc, consume, webhook_receive, webhook_process, growth, stripesim_clock,
        admin_scale,
    )
}
