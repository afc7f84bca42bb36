# One image for every coinslot process: the API (`coinslot serve`), the workers (`coinslot worker`),
# the one-shot `coinslot migrate`, every other CLI command, and stripesim for a staging stack.
#
#   docker build -t coinslot .
#   docker compose up -d          (see compose.yaml and docs/deploy.md)

# --- build: a virtualenv with coinslot and its dependencies (wheels only; no compiler needed) ---------
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/coinslot
WORKDIR /build
# Dependencies first, from pyproject alone: a source change does not reinstall them.
COPY pyproject.toml README.md LICENSE ./
RUN mkdir -p src/coinslot src/stripesim \
 && touch src/coinslot/__init__.py src/stripesim/__init__.py \
 && /opt/coinslot/bin/pip install '.[sentry]' \
 && /opt/coinslot/bin/pip uninstall -y coinslot
COPY src ./src
RUN /opt/coinslot/bin/pip install --no-deps '.[sentry]' \
 && find /opt/coinslot -name '__pycache__' -prune -exec rm -rf {} +

# --- run: the virtualenv on a slim Python, as an unprivileged user -------------------------------------
FROM python:3.11-slim-bookworm
RUN groupadd --system --gid 10001 coinslot \
 && useradd --system --uid 10001 --gid coinslot --home-dir /app --shell /usr/sbin/nologin coinslot \
 && mkdir -p /app /data && chown coinslot:coinslot /app /data
COPY --from=build /opt/coinslot /opt/coinslot
ENV PATH=/opt/coinslot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    COINSLOT_HOST=0.0.0.0 \
    COINSLOT_PORT=8000
WORKDIR /app
USER coinslot:coinslot
# 8000: the API, webhook receiver and pages; 9100: a worker's /metrics (COINSLOT_METRICS_PORT)
EXPOSE 8000 9100
# Health checks are per service in compose.yaml: the API answers /healthz, a worker its /metrics.
CMD ["coinslot", "serve", "--no-migrate"]
