"""A minimal Django project with dj-stripe, for syncing stripesim's webhooks (run_stream.py).

Everything outside comes from the environment: STRIPESIM_URL (stripesim's base URL, used as
Stripe's API host) and DJSTRIPE_DB (the SQLite file).
"""

import os

SECRET_KEY = "djstripe-harness-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "djstripe",
]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "harness.urls"

def _database(value: str) -> dict[str, object]:
    """A SQLite file, or a postgresql://user@host:port/name URL (the webhook bench's PostgreSQL)."""
    if not value.startswith("postgresql://"):
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": value}
    from urllib.parse import unquote, urlsplit

    url = urlsplit(value)
    return {"ENGINE": "django.db.backends.postgresql", "NAME": url.path.lstrip("/"),
            "USER": unquote(url.username or ""), "PASSWORD": unquote(url.password or ""),
            "HOST": url.hostname or "", "PORT": str(url.port or "")}


DATABASES = {"default": _database(os.environ["DJSTRIPE_DB"])}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGGING = {"version": 1, "disable_existing_loggers": False,
           "handlers": {"console": {"class": "logging.StreamHandler"}},
           "loggers": {"djstripe": {"handlers": ["console"], "level": "ERROR"}}}

# dj-stripe: test mode against stripesim, in the API version of its stripe package (15.x:
# 2026-08-26.dahlia), the way a dj-stripe user configures it.
STRIPE_API_HOST = os.environ["STRIPESIM_URL"]
STRIPE_LIVE_MODE = False
STRIPE_TEST_SECRET_KEY = "sk_test_51DjstripeHarnessStripesimKey0000"
DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"
DJSTRIPE_USE_NATIVE_JSONFIELD = True
