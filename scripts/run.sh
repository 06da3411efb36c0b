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

# A configuration the app would refuse (APP_ENV=prod without a real SECRET_KEY, ...) stops here, at once,
# with the reason, instead of a web app that never answers.
$PY -m navaia_app.cli check-config >/dev/null
$PY -m navaia_app.cli migrate
app_env=$($PY -c 'from navaia_app.core.settings import get_settings; print(get_settings().app_env)')
if [ "$app_env" != prod ]; then
  # The demo admin's password is public: never in production (seed_demo refuses it there too).
  $PY -m navaia_app.cli seed-demo --if-empty
fi

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
.venv/bin/reflex run --env prod --loglevel warning &
web=$!
(
  for _ in $(seq 1 600); do
    kill -0 "$web" 2>/dev/null || exit 0  # the web app exited: its own error says why
    if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/api/health" 2>/dev/null; then
      printf '\n  Navaia is running at %s\n' "$url"
      # the demo login only while the demo admin exists with its public password (never in production)
      $PY -m navaia_app.cli demo-admin 2>/dev/null | sed 's/^/  /' || true
      printf '  (Ctrl-C stops the web app and the worker)\n\n'
      exit 0
    fi
    sleep 1
  done
) &
wait "$web"
