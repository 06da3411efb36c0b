#!/usr/bin/env bash
# Reflex needs Node.js >= 22.22. Use the system one when it is new enough, else install the npm
# package node@22 (a Node 22 binary) into .tools/ and let the Makefile put it first on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
need_major=22; need_minor=22
ok() { # $1 = node binary
  local v; v=$("$1" --version 2>/dev/null | sed 's/^v//') || return 1
  local major=${v%%.*}; local rest=${v#*.}; local minor=${rest%%.*}
  [ "$major" -gt "$need_major" ] || { [ "$major" -eq "$need_major" ] && [ "$minor" -ge "$need_minor" ]; }
}
if [ -x .tools/node_modules/.bin/node ] && ok .tools/node_modules/.bin/node; then exit 0; fi
if command -v node >/dev/null && ok "$(command -v node)"; then exit 0; fi
command -v npm >/dev/null || { echo "npm is required (Node.js and npm must be installed)" >&2; exit 1; }
echo "Installing Node.js 22 into .tools/ (the system Node.js is older than 22.22)..."
npm install --prefix .tools --no-audit --no-fund --loglevel=error node@22 >/dev/null
ok .tools/node_modules/.bin/node || { echo "could not install Node.js 22 into .tools/" >&2; exit 1; }
