"""The deployment files say what the tests run: compose.yaml's commands and variables are the topology
test's, the image is multi-stage and unprivileged, the alert rules and the dashboard load and name
only metrics coinslot exports, and the deploy guide gives the same commands."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from coinslot.clock import FixedClock
from coinslot.config import Settings
from coinslot.db import Database
from coinslot.metrics import QueueGauges
from coinslot.observability import REGISTRY
from tests.conftest import create_schema
from tests.e2e import test_topology as topology

REPO = Path(__file__).resolve().parents[2]
ALERTS = REPO / "deploy" / "prometheus" / "alerts.yml"
DASHBOARD = REPO / "deploy" / "grafana" / "coinslot-dashboard.json"


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO / "compose.yaml").read_text())
    return loaded


def test_compose_runs_the_commands_and_variables_the_topology_test_runs() -> None:
    services = compose()["services"]
    assert set(services) == {"postgres", "migrate", "api", "worker", "stripesim"}
    assert services["migrate"]["command"] == topology.MIGRATE
    assert services["api"]["command"] == topology.SERVE
    assert services["worker"]["command"] == topology.WORKER
    assert set(services["migrate"]["environment"]) == set(topology.SHARED_ENV)
    assert set(services["api"]["environment"]) == set(topology.API_ENV)
    assert set(services["worker"]["environment"]) == set(topology.WORKER_ENV)
    assert not set(topology.TEST_ONLY_ENV) & set(services["api"]["environment"])  # tuning stays in the test
    # Two of each, started after a one-shot migrate that waits for PostgreSQL.
    assert (services["api"]["deploy"]["replicas"], services["worker"]["deploy"]["replicas"]) == (2, 2)
    for name in ("api", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["stripesim"]["profiles"] == ["staging"]
    assert services["stripesim"]["command"][:2] == ["stripesim", "serve"]
    # `coinslot` in the compose file is the console script the test calls as `python -m coinslot.cli`.
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"coinslot": "coinslot.cli:main", "stripesim": "stripesim.cli:main"}


def test_compose_s_empty_optional_variables_mean_unset() -> None:
    # `${COINSLOT_ADMIN_PASSWORD:-}` arrives as "": no admin console with an empty password.
    empty = {name: "" for name in ("admin_password", "sentry_dsn", "host_webhook_url", "host_webhook_secret",
                                   "stripe_api_base", "database_schema", "metrics_port")}
    settings = Settings(_env_file=None, **empty)  # type: ignore[arg-type]
    assert all(getattr(settings, name) is None for name in empty)


def test_the_image_is_multi_stage_and_runs_unprivileged() -> None:
    lines = [line.strip() for line in (REPO / "Dockerfile").read_text().splitlines()]
    stages = [line for line in lines if line.startswith("FROM ")]
    assert len(stages) >= 2
    assert " AS build" in stages[0]
    final = lines[lines.index(stages[-1]):]
    users = [line.split()[1] for line in final if line.startswith("USER ")]
    assert users
    assert users[-1].split(":")[0] not in ("root", "0")
    assert any(line.startswith("COPY --from=build") for line in final)
    assert 'CMD ["coinslot", "serve", "--no-migrate"]' in final
    ignored = (REPO / ".dockerignore").read_text().splitlines()
    assert {".git", ".venv", "tests"} <= set(ignored)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Every series name coinslot's processes can show (counters, histograms, the queue gauges)."""
    names = set()
    for family in REGISTRY.collect():
        names |= {family.name + suffix for suffix in ("", "_total", "_bucket", "_count", "_sum")}
    url = f"sqlite:///{tmp_path_factory.mktemp('metrics') / 'coinslot.db'}"
    create_schema(url)
    database = Database(url)
    try:
        gauges = QueueGauges(database, FixedClock(dt.datetime(2026, 1, 1, tzinfo=dt.UTC)))
        names |= {family.name for family in gauges.collect()}
    finally:
        database.dispose()
    return names


def metric_names(expr: str) -> set[str]:
    return set(re.findall(r"\bcoinslot_[a-z_]+", expr))


def test_the_alert_rules_load_and_cover_stalls_dead_letters_signatures_and_outbound(
    exported: set[str],
) -> None:
    promtool = shutil.which("promtool")
    if promtool is not None:
        checked = subprocess.run([promtool, "check", "rules", str(ALERTS)], capture_output=True, text=True,
                                 check=False)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    rules = [rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]
    for rule in rules:  # what promtool checks that can be checked without it
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
        assert re.fullmatch(r"[A-Z][A-Za-z]+", rule["alert"])
        assert rule["labels"]["severity"] in ("page", "warn", "info")
        assert rule["annotations"]["summary"]
        assert rule["annotations"]["description"]
        assert rule["expr"].count("(") == rule["expr"].count(")")
        assert "for" not in rule or re.fullmatch(r"\d+[smh]", rule["for"])
        assert metric_names(rule["expr"]), rule["alert"]
        assert metric_names(rule["expr"]) <= exported, f"{rule['alert']}: a metric coinslot does not export"
    used = {name for rule in rules for name in metric_names(rule["expr"])}
    assert {"coinslot_inbox_oldest_pending_age_seconds", "coinslot_inbox_dead_events",
            "coinslot_webhook_signature_failures_total", "coinslot_outbound_deliveries_total"} <= used


def test_the_grafana_dashboard_loads_and_names_only_exported_metrics(exported: set[str]) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    assert exprs
    for expr in exprs:
        assert metric_names(expr), expr
        assert metric_names(expr) <= exported, expr


def test_the_deploy_guide_gives_the_commands_compose_and_the_topology_test_run() -> None:
    guide = (REPO / "docs" / "deploy.md").read_text()
    for command in (topology.MIGRATE, topology.SERVE, topology.WORKER, ["coinslot", "migrate", "--check"]):
        assert " ".join(command) in guide
    for variable in (*topology.API_ENV, *topology.WORKER_ENV):
        assert variable in guide, f"docs/deploy.md does not explain {variable}"
