"""`coinslot openapi`: the REST API's OpenAPI document, without a running server or a database.

Code generators read it (`npm run generate` in clients/typescript makes the TypeScript client's types
from it), so the document printed here must be the one a server serves at /openapi.json: it is built
by the same `create_app`, only with settings that touch nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from coinslot.cli.common import shows_errors

app = typer.Typer()

# Nothing is opened: the engine of an in-memory SQLite is created lazily and no request is served. No
# Stripe key (test mode, no catalog check at start-up) and a fixed session secret (no warning printed).
_OFFLINE = {"database_url": "sqlite:///:memory:", "stripe_secret_key": None,
            "session_secret": "openapi-export-only-openapi-export-only", "host_webhook_url": None}


def openapi_document() -> dict[str, Any]:
    """The document `/openapi.json` serves; the routes do not depend on settings, so any will do."""
    from coinslot.app import create_app
    from coinslot.config import Settings

    settings = Settings(_env_file=None, **_OFFLINE)  # type: ignore[arg-type]
    application = create_app(settings, configure_logs=False)
    try:
        return application.openapi()
    finally:
        application.state.container.db.dispose()


@app.command("openapi")
@shows_errors
def openapi(
    output: Path | None = typer.Option(None, "--output", "-o", help="write the document to this file "
                                       "instead of stdout"),
) -> None:
    """Print the REST API's OpenAPI document (JSON), as a running server serves it at /openapi.json."""
    text = json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
