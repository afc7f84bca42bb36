"""One Settings object, read from the environment (prefix COINSLOT_) or a `.env` file.

Secrets come only from here; nothing else reads os.environ. See `.env.example`.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "StripeMode"]

StripeMode = Literal["test", "live"]


def _split_csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


class Settings(BaseSettings):
    """Everything an operator configures. Field names carry their unit (`_s`, `_days`, `_bytes`)."""

    model_config = SettingsConfigDict(env_prefix="COINSLOT_", env_file=".env", extra="ignore")

    # Storage
    database_url: str = "sqlite:///./coinslot.db"

    # Stripe
    stripe_secret_key: SecretStr | None = None
    stripe_api_base: str | None = None  # e.g. http://127.0.0.1:12111 for stripesim; None = real Stripe
    stripe_webhook_secrets: str = ""  # comma-separated whsec_... values; several allow rotation
    stripe_timeout_s: float = 20.0
    stripe_max_network_retries: int = 2

    # Catalog
    catalog_path: Path = Path("catalog.toml")

    # Billing switch: when off, every billing route answers 503 with this reason.
    billing_enabled: bool = True
    billing_disabled_reason: str = "billing is switched off by the operator"

    # Where coinslot is reachable, and where it may send browsers back to.
    public_url: str = "http://127.0.0.1:8000"
    allowed_redirect_origins: str = ""  # comma-separated origins of the host app

    # Access policy
    past_due_grace_days: int = 3

    # Credits ledger
    low_balance_pct: int = 20  # "credits.low" when a spend leaves at most this share of the period's grant
    downgrade_policy: Literal["cap", "keep"] = "cap"  # mid-period downgrade: cap what is left, or keep it

    # Webhook pipeline
    webhook_max_body_bytes: int = 512 * 1024
    webhook_max_attempts: int = 8
    webhook_retry_base_s: float = 10.0
    webhook_retry_cap_s: float = 3600.0
    worker_poll_interval_s: float = 0.5
    run_worker_in_process: bool = False  # the SQLite demo runs one worker inside `serve`

    # Orders
    order_payload_max_bytes: int = 64 * 1024

    # Sessions for the pages (signed links) and the admin console
    session_secret: SecretStr | None = None
    signed_link_ttl_s: int = 300
    admin_password: SecretStr | None = None

    # Outbound webhooks to the host app (Standard Webhooks signing)
    host_webhook_url: str | None = None
    host_webhook_secret: SecretStr | None = None

    # Operations
    log_level: str = "INFO"
    log_json: bool = True
    sentry_dsn: SecretStr | None = None

    @field_validator("database_url")
    @classmethod
    def _normalise_postgres_driver(cls, value: str) -> str:
        # Operators paste Heroku-style URLs; SQLAlchemy needs the driver named.
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    @cached_property
    def webhook_secrets(self) -> list[str]:
        return _split_csv(self.stripe_webhook_secrets)

    @cached_property
    def redirect_origins(self) -> list[str]:
        origins = _split_csv(self.allowed_redirect_origins)
        return [origin.rstrip("/") for origin in origins]

    @property
    def stripe_mode(self) -> StripeMode | None:
        """test or live, read from the key's prefix (sk_test_/rk_test_ vs sk_live_/rk_live_)."""
        if self.stripe_secret_key is None:
            return None
        key = self.stripe_secret_key.get_secret_value()
        if key.startswith(("sk_live_", "rk_live_")):
            return "live"
        return "test"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
