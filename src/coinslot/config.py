"""One Settings object, read from the environment (prefix COINSLOT_) or a `.env` file.

Secrets come only from here; nothing else reads os.environ. See `.env.example`.
"""

from __future__ import annotations

import logging
import re
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from coinslot.errors import InvalidInput

__all__ = ["Settings", "StripeMode", "checked_secrets"]

log = logging.getLogger("coinslot.config")

StripeMode = Literal["test", "live"]


def _split_csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


class Settings(BaseSettings):
    """Everything an operator configures. Field names carry their unit (`_s`, `_days`, `_bytes`)."""

    model_config = SettingsConfigDict(env_prefix="COINSLOT_", env_file=".env", extra="ignore")

    # Storage
    database_url: str = "sqlite:///./coinslot.db"
    # PostgreSQL schema holding coinslot's tables (and its Alembic version table) when it shares a
    # host's database (library mode); None = the connection's default (public). SQLite: unsupported,
    # give coinslot its own file instead.
    database_schema: str | None = None
    # How long a write waits for a lock another process holds before the request answers 503
    # (SQLite's busy timeout); PostgreSQL waits for a server that is down at most `connect_timeout_s`.
    database_lock_timeout_s: float = 10.0
    database_connect_timeout_s: float = 5.0

    # Stripe
    stripe_secret_key: SecretStr | None = None
    stripe_api_base: str | None = None  # e.g. http://127.0.0.1:12111 for stripesim; None = real Stripe
    stripe_webhook_secrets: str = ""  # comma-separated whsec_... values; several allow rotation
    stripe_timeout_s: float = 20.0
    stripe_max_network_retries: int = 2

    # Customers: link a host user to an existing Stripe customer with the same email (one made by
    # hand or by another integration). Off by default: whoever registers a host account with
    # someone's email would otherwise take over that person's Stripe customer (payment methods,
    # invoices). Reusing by `metadata.coinslot_user_id` (customers coinslot made) is always on.
    reuse_stripe_customers_by_email: bool = False

    # Catalog
    catalog_path: Path = Path("catalog.toml")

    # Billing switch: when off, every billing route answers 503 with this reason.
    billing_enabled: bool = True
    billing_disabled_reason: str = "billing is switched off by the operator"

    # Where coinslot is reachable, and where it may send browsers back to. In library mode this is the
    # host app's address: the mount path (`library.mount(path=...)`) is added from each request.
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
    # A claimed event is leased this long; a live worker renews its leases every third of it, so a
    # worker that dies (SIGKILL, a lost host) leaves its events to the others after at most this.
    worker_lease_s: float = 30.0
    # `coinslot worker` backfills from Stripe's events list this often (one worker at a time); 0 = off.
    reconcile_interval_s: float = 3600.0
    # `coinslot worker` writes due expiries (lots, holds) this often, so a ledger shows them without
    # waiting for the customer's next write (reads apply them anyway); 0 = off.
    expiry_sweep_interval_s: float = 60.0
    # Prometheus metrics of `coinslot worker` (and `coinslot outbound send`) on this port; None = none.
    metrics_port: int | None = None

    # Orders
    order_payload_max_bytes: int = 64 * 1024

    # API keys: a verified key is trusted this long by the process that verified it, then read again, so a
    # revoked or expired key is refused everywhere within it. At most 1 s; 0 = read on every request
    # (docs/security.md gives the cost of each).
    api_key_cache_s: float = 1.0

    # Sessions for the pages (signed links) and the admin console
    session_secret: SecretStr | None = None
    signed_link_ttl_s: int = 300
    admin_password: SecretStr | None = None
    # The public /pricing page's buttons lead here, {plan} and {interval} filled in (empty for the free
    # plan), e.g. https://app.example.com/signup?plan={plan}&interval={interval}; unset = no buttons.
    public_pricing_cta_url: str | None = None

    # Rate limits per client address and process, on the public surfaces (coinslot/ratelimit.py); 0 = off.
    rate_limit_links_per_min: int = 60  # opening signed links (/billing/enter)
    rate_limit_public_per_min: int = 120  # the public pricing page and GET /v1/plans
    rate_limit_webhooks_per_min: int = 3000  # POST /webhooks/stripe, per source address

    # Outbound webhooks to the host app (Standard Webhooks signing); no URL = messages wait in the outbox
    host_webhook_url: str | None = None
    host_webhook_secret: SecretStr | None = None  # whsec_<base64>; required when a URL is set
    host_webhook_timeout_s: float = 10.0
    host_webhook_max_attempts: int = 14  # 13-26 h of tries with the defaults below, then dead + alert
    host_webhook_retry_base_s: float = 30.0
    host_webhook_retry_cap_s: float = 6 * 3600.0

    # Operations
    log_level: str = "INFO"
    log_json: bool = True
    access_log: bool = True  # one JSON line per request (request id, route, status, customer, duration)
    sentry_dsn: SecretStr | None = None
    # Test mode only: coinslot's "now" follows this Stripe test clock (clock_...), in every process,
    # so a host's CI can run coinslot as a service and test renewals by advancing the clock.
    stripe_test_clock: str | None = None
    stripe_test_clock_poll_s: float = 1.0

    @field_validator("database_url")
    @classmethod
    def _normalise_postgres_driver(cls, value: str) -> str:
        # Operators paste Heroku-style URLs; SQLAlchemy needs the driver named.
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    @field_validator(
        "database_schema", "stripe_secret_key", "stripe_api_base", "session_secret", "admin_password",
        "public_pricing_cta_url", "host_webhook_url", "host_webhook_secret", "sentry_dsn",
        "stripe_test_clock", "metrics_port", mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # compose and most orchestrators pass `${VAR:-}` as an empty string: that means "not set", never
        # "an admin password of zero characters".
        return None if value == "" else value

    @field_validator("api_key_cache_s")
    @classmethod
    def _at_most_a_second(cls, value: float) -> float:
        if not 0 <= value <= 1:
            raise ValueError("must be between 0 (read the key on every request) and 1 second")
        return value

    @field_validator("database_schema")
    @classmethod
    def _plain_schema_name(cls, value: str | None) -> str | None:
        # It is written into SET search_path and CREATE SCHEMA: a plain identifier only.
        if value is not None and not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", value):
            raise ValueError("must be a lower-case identifier (letters, digits, _), e.g. coinslot")
        return value or None

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
    def livemode(self) -> bool:
        """Whether the key is a live one: Stripe objects of the other mode are never used with it."""
        return self.stripe_mode == "live"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


# The placeholders `.env.example` ships: a deployment that copied the file and never filled them in.
SESSION_SECRET_PLACEHOLDER = "replace-with-32-random-bytes"
ADMIN_PASSWORD_PLACEHOLDER = "replace-me"
MIN_SESSION_SECRET_CHARS = 32  # it signs every link and session cookie: guessable = anyone's billing
MIN_ADMIN_PASSWORD_CHARS = 12


def _unsafe(variable: str, problem: str) -> InvalidInput:
    return InvalidInput(f"{variable} {problem}; coinslot will not start with a live Stripe key until it is "
                        "fixed", code="unsafe_settings", field=variable)


def checked_secrets(settings: Settings) -> Settings:
    """The settings to serve with: refuse weak page secrets with a live key, fill a missing one in test mode.

    Live mode: the session secret must be set, at least 32 characters and not the `.env.example`
    placeholder; an admin password, when set, at least 12 characters and not the placeholder
    (InvalidInput naming the variable). Test mode without a session secret: a random one for this
    process (a warning says so), so the pages work out of the box; links and sessions then do not
    survive a restart nor work across processes, so several test processes must share a set one.
    """
    session_secret = settings.session_secret.get_secret_value() if settings.session_secret else None
    admin_password = settings.admin_password.get_secret_value() if settings.admin_password else None
    if settings.stripe_mode == "live":
        if session_secret is None:
            raise _unsafe("COINSLOT_SESSION_SECRET", "is not set")
        if session_secret == SESSION_SECRET_PLACEHOLDER:
            raise _unsafe("COINSLOT_SESSION_SECRET", "is still the placeholder of .env.example")
        if len(session_secret) < MIN_SESSION_SECRET_CHARS:
            raise _unsafe("COINSLOT_SESSION_SECRET", f"is shorter than {MIN_SESSION_SECRET_CHARS} characters")
        if admin_password == ADMIN_PASSWORD_PLACEHOLDER:
            raise _unsafe("COINSLOT_ADMIN_PASSWORD", "is still the placeholder of .env.example")
        if admin_password is not None and len(admin_password) < MIN_ADMIN_PASSWORD_CHARS:
            raise _unsafe("COINSLOT_ADMIN_PASSWORD", f"is shorter than {MIN_ADMIN_PASSWORD_CHARS} characters")
        if settings.stripe_test_clock:
            raise _unsafe("COINSLOT_STRIPE_TEST_CLOCK", "is set (test clocks exist in test mode only)")
        return settings
    if session_secret is None:
        log.warning("COINSLOT_SESSION_SECRET is not set: using a random one for this process (links and "
                    "page sessions end at a restart and are not shared with other processes; set it to run "
                    "several)")
        return settings.model_copy(update={"session_secret": SecretStr(secrets.token_urlsafe(32))})
    return settings
