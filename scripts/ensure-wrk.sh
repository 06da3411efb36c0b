#!/usr/bin/env bash
# bench/throughput.py drives the app with wrk (a C load generator); install it when it is missing.
set -euo pipefail
command -v wrk >/dev/null && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing wrk for the benchmarks (apt-get)..."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then
  sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
else
  echo "wrk is needed for bench/throughput.py: install it (e.g. apt-get install wrk)." >&2
  exit 1
fi
