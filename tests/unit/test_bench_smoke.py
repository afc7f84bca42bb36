"""The benchmark harness keeps working: `python -m bench --quick` runs every scenario in a tiny
configuration and writes a JSON file naming each one (figures, or n/a with a reason). Never timed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.scenarios import SCENARIOS

REPO = Path(__file__).resolve().parents[2]


# ~25 s of CPU (mostly the servers' and workers' imports): about 30 s on an idle 2-core machine,
# under a minute while other suites share it, so it runs with the unit tests (not marked slow).
@pytest.mark.timeout(300)
def test_quick_run_writes_every_scenario(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "bench", "--quick", "--json-out", str(tmp_path)], cwd=REPO,
                          capture_output=True, text=True, timeout=280, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (written,) = tmp_path.glob("*.json")
    document = json.loads(written.read_text())
    assert set(document["scenarios"]) == set(SCENARIOS)
    assert {"cores", "memory_bytes", "python", "sqlite", "postgresql"} <= set(document["machine"])
    for name, scenario in document["scenarios"].items():
        if scenario["status"] == "n/a":
            assert scenario["na_reason"], f"{name} is n/a without a reason"
            continue
        assert scenario["rows"], f"{name} has no figures"
        for key, row in scenario["rows"].items():
            assert row["sample"] is not None or row["na_reason"], f"{name}.{key}: no figure and no reason"
