# Navaia, production image. Three stages:
#   build   — installs Python deps and Node.js 22 (npm package node@22, as `make run` does) and
#             builds the frontend with `reflex export` against PUBLIC_BASE_URL;
#   runtime — slim, non-root: the backend (pages' state over the websocket + /api) and, with another
#             command, the worker (`python -m navaia_app.cli worker`) or the one-off migration;
#   proxy   — Caddy serving the exported frontend and routing /api/*, /_event, /_upload, /ping
#             to the backend (see Caddyfile and docker-compose.yml).
# No Docker engine runs on the development machine: keep this file simple and in step with `make run`.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 REFLEX_USE_NPM=1 REFLEX_TELEMETRY_ENABLED=false
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm unzip curl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
RUN npm install --prefix .tools --no-audit --no-fund --loglevel=error node@22
ENV PATH=/app/.tools/node_modules/.bin:/opt/venv/bin:$PATH
COPY requirements.txt ./
RUN python -m venv /opt/venv && /opt/venv/bin/pip install -r requirements.txt
COPY . .
# The browser talks to the public origin; it is baked into the frontend at build time.
ARG PUBLIC_BASE_URL=http://localhost
ENV PUBLIC_BASE_URL=${PUBLIC_BASE_URL} REFLEX_API_URL=${PUBLIC_BASE_URL} APP_ENV=dev
RUN reflex export --frontend-only --no-zip --env prod --loglevel warning \
    && test -f .web/build/client/index.html

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 APP_ENV=prod REFLEX_TELEMETRY_ENABLED=false \
    REFLEX_USE_NPM=1 PATH=/opt/venv/bin:$PATH
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 navaia
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=navaia:navaia . .
COPY --from=build --chown=navaia:navaia /app/.web /app/.web
# the recordings volume mounts here: created owned by the app user, so the volume is writable
RUN mkdir -p /app/data/media && chown -R navaia:navaia /app/data
USER navaia
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8000/api/health"]
CMD ["reflex", "run", "--env", "prod", "--backend-only", "--backend-host", "0.0.0.0", "--backend-port", "8000", \
     "--loglevel", "warning"]

FROM caddy:2-alpine AS proxy
COPY Caddyfile /etc/caddy/Caddyfile
COPY --from=build /app/.web/build/client /srv
