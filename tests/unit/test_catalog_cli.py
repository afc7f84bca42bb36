"""`coinslot catalog check`: exit 0 when good; else every problem with file, line and field, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from coinslot.cli import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "catalogs"


@pytest.fixture(autouse=True)
def no_stripe_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("COINSLOT_STRIPE_SECRET_KEY", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_a_good_catalog_exits_zero() -> None:
    result = CliRunner().invoke(app, ["catalog", "check", str(EXAMPLES / "quantipackai.toml")])
    assert result.exit_code == 0, result.output
    assert "ok - 3 plans, 0 products, 1 packs, 3 features" in result.output


def test_a_bad_catalog_lists_each_problem_and_exits_two(tmp_path: Path) -> None:
    bad = tmp_path / "catalog.toml"
    bad.write_text(
        '[plans.free]\ntype = "free"\n\n[plans.pro]\nprices = { monthly = "4.999" }\nfeatures = ["x"]\n'
    )
    result = CliRunner().invoke(app, ["catalog", "check", str(bad)])
    assert result.exit_code == 2
    assert f'{bad}:5: plans.pro.prices.monthly: "4.999" has more decimals than USD allows' in result.output
    assert f'{bad}:6: plans.pro.features: unknown feature "x"; declare it as [features.x]' in result.output
    assert "2 problems found" in result.output
    assert "Traceback" not in result.output


def test_a_live_key_with_test_only_price_ids_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pinned = tmp_path / "pinned.toml"
    pinned.write_text(
        '[plans.free]\ntype = "free"\n[plans.pro.prices.monthly]\namount = 5\nprice_id_test = "price_1"\n'
    )
    monkeypatch.setenv("COINSLOT_STRIPE_SECRET_KEY", "sk_live_not_real")
    result = CliRunner().invoke(app, ["catalog", "check", str(pinned)])
    assert result.exit_code == 2
    assert "pins only a test-mode price id" in result.output


@pytest.mark.parametrize("number", ['"1e999999999999"', '"1e999999"', "1" + "0" * 5000])
def test_catalog_check_reports_an_impossible_price_by_line_never_a_traceback(
    tmp_path: Path, number: str
) -> None:
    bad = tmp_path / "catalog.toml"
    bad.write_text('[catalog]\nname = "X"\n\n[plans.free]\ntype = "free"\n\n'
                   f"[products.report]\nprice = {number}\n")
    result = CliRunner().invoke(app, ["catalog", "check", str(bad)])
    assert result.exit_code == 2, result.output
    assert f"{bad}:8: products.report.price: " in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
