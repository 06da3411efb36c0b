# Navaia: the web app (pages + /api on port 3000); the same image runs the worker
# (`python -m navaia_app.cli worker`, see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    APP_ENV=prod \
    PORT=3000 \
    REFLEX_USE_NPM=1 \
    REFLEX_TELEMETRY_ENABLED=false \
    PATH=/app/.venv/bin:/app/.tools/node_modules/.bin:$PATH

# curl: the health check. nodejs + npm: Debian's are older than Reflex needs, they only bootstrap
# Node.js 22 from the npm package node@22, exactly as `make run` does (scripts/ensure-node.sh).
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl nodejs npm unzip \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 navaia \
    && mkdir /app && chown navaia:navaia /app
USER navaia
WORKDIR /app

RUN npm install --prefix .tools --no-audit --no-fund --loglevel=error node@22 && node --version

COPY --chown=navaia:navaia requirements.txt ./
RUN python -m venv .venv && .venv/bin/pip install -r requirements.txt

COPY --chown=navaia:navaia . .

EXPOSE 3000
# The first start builds the frontend, hence the long start period.
HEALTHCHECK --interval=30s --timeout=5s --start-period=600s --retries=3 \
    CMD curl -fsS "http://127.0.0.1:${PORT}/api/health" || exit 1

# Migrate, then serve pages and API on one port (the same as `make run`, without demo data).
CMD ["sh", "-c", "python -m navaia_app.cli migrate && exec reflex run --env prod --single-port --backend-host 0.0.0.0 --loglevel warning"]
