"""`coinslot openapi` prints, without a server or a database, the document a running coinslot serves at
/openapi.json: the one the TypeScript client's types are generated from (clients/typescript)."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from coinslot.app import create_app
from coinslot.cli import app as cli
from coinslot.config import Settings
from coinslot.db import Database

CATALOGS = Path(__file__).resolve().parents[2] / "examples" / "catalogs"


def test_the_printed_document_is_the_one_a_configured_server_serves(db: Database, tmp_path: Path) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=db.url, stripe_secret_key=None,
        catalog_path=CATALOGS / "patch_hive.toml", session_secret="openapi-cli-secret-openapi-cli-secret",
    )
    served = TestClient(create_app(settings, db=db, configure_logs=False)).get("/openapi.json").json()

    printed = CliRunner().invoke(cli, ["openapi"], env={"COINSLOT_DATABASE_URL": "sqlite:////nonexistent/x.db"})
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.stdout) == served
    assert {op["operationId"] for ops in served["paths"].values() for op in ops.values()} >= {
        "check", "consume", "createHold", "startCheckout", "fulfilCheckout", "getCustomerState", "listPlans"}

    target = tmp_path / "openapi.json"
    written = CliRunner().invoke(cli, ["openapi", "--output", str(target)])
    assert written.exit_code == 0, written.output
    assert written.stdout == ""
    assert json.loads(target.read_text(encoding="utf-8")) == served
