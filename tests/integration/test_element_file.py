"""coinslot serves the `<coinslot-pricing-table>` element's module to any site (`<script type="module"
src=".../static/elements/coinslot-pricing-table.js">` is fetched with CORS); its other static files keep
their same-origin answers."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from coinslot.app import create_app
from coinslot.config import Settings
from coinslot.db import Database

CATALOGS = Path(__file__).resolve().parents[2] / "examples" / "catalogs"


def test_the_element_module_may_be_loaded_from_any_origin(db: Database) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=db.url, stripe_secret_key=None,
        catalog_path=CATALOGS / "patch_hive.toml", session_secret="element-file-secret-element-file-secret",
    )
    client = TestClient(create_app(settings, db=db, configure_logs=False))
    element = client.get("/static/elements/coinslot-pricing-table.js", headers={"Origin": "https://app.example"})
    assert element.status_code == 200
    assert element.headers["access-control-allow-origin"] == "*"
    assert element.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert 'customElements.define("coinslot-pricing-table"' in element.text

    page_script = client.get("/static/app.js", headers={"Origin": "https://app.example"})
    assert page_script.status_code == 200
    assert "access-control-allow-origin" not in page_script.headers
    assert client.get("/static/elements/nothing.js").status_code == 404
