#!/usr/bin/env bash
# Prints how many pairs of places in navaia_app/ share six or more lines (the `duplicates` tool's count;
# issue 9 keeps it at 15 or fewer). Usage: scripts/duplicates-count.sh [--list]
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v duplicates >/dev/null; then
  echo "the duplicates command is not on PATH" >&2
  exit 2
fi
report=$(duplicates --repo navaia_app --most 200 --seconds 120)
if [[ "${1:-}" == "--list" ]]; then
  echo "$report"
fi
count=$(head -1 <<<"$report" | grep -oE '^[0-9]+' || echo 0)
echo "$count"
