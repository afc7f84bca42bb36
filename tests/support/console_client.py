"""A test client signed in to the admin console, on a given database and fixed time."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from fastapi.testclient import TestClient

from coinslot.app import create_app
from coinslot.clock import FixedClock
from coinslot.config import Settings
from coinslot.db import Database

CATALOGS = Path(__file__).resolve().parents[2] / "examples" / "catalogs"
OPERATOR_PASSWORD = "s3cret-operator"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def signed_in_console(db: Database, *, now: dt.datetime, session_secret: str) -> TestClient:
    """A client of a coinslot on `db` (the Patch Hive catalog, no Stripe) signed in as the operator."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=db.url, stripe_secret_key=None,
        catalog_path=CATALOGS / "patch_hive.toml", public_url="http://testserver",
        session_secret=session_secret, admin_password=OPERATOR_PASSWORD,
    )
    client = TestClient(create_app(settings, db=db, clock=FixedClock(now), configure_logs=False))
    form = client.get("/admin/login")
    signed_in = client.post("/admin/login", data={"csrf_token": csrf_of(form.text),
                                                  "password": OPERATOR_PASSWORD}, follow_redirects=False)
    assert signed_in.headers["location"] == "/admin"
    return client
