#!/usr/bin/env bash
# `make run`: migrate, seed an empty database, start the job worker and the web app; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PORT=${PORT:-3000}

# The voice agent's webhook and tools need shared secrets: unless given (environment or .env), use a
# random one per install, kept in a git-ignored file, so the Playground works out of the box.
for pair in ELEVENLABS_WEBHOOK_SECRET:.navaia-webhook-secret AGENT_TOOLS_SECRET:.navaia-tools-secret; do
  var=${pair%%:*} file=${pair#*:}
  if [ -z "${!var:-}" ] && ! grep -qs "^${var}=." .env; then
    [ -s "$file" ] || (umask 077 && $PY -c 'import secrets; print(secrets.token_urlsafe(32))' > "$file")
    export "$var=$(cat "$file")"
  fi
done

$PY -m navaia_app.cli migrate
$PY -m navaia_app.cli seed-demo --if-empty

$PY -m navaia_app.cli worker &
worker=$!
web=""
stop() {
  trap - INT TERM EXIT
  [ -n "$web" ] && kill -TERM "$web" 2>/dev/null || true
  kill -TERM "$worker" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

url=${PUBLIC_BASE_URL:-http://localhost:$PORT}
(
  for _ in $(seq 1 600); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/api/health" 2>/dev/null; then
      printf '\n  Navaia is running at %s\n  Demo login: %s / %s\n  (Ctrl-C stops the web app and the worker)\n\n' \
        "$url" "$($PY -c 'from navaia_app.demo import DEMO_EMAIL; print(DEMO_EMAIL)')" \
        "$($PY -c 'from navaia_app.demo import DEMO_PASSWORD; print(DEMO_PASSWORD)')"
      exit 0
    fi
    sleep 1
  done
) &
.venv/bin/reflex run --env prod --loglevel warning &
web=$!
wait "$web"
