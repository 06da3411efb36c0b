"""Deeper API fuzzing than the test suite's: schemathesis against /api/openapi.json, in process, signed in.

The same fuzzer as tests/api/test_fuzz_openapi.py (tests/api/openapi_fuzz.py), with more examples per
operation, on a fresh SQLite database (or PostgreSQL with --pg). Prints, for each operation, the
requests sent, the status codes met and the failures found by check, then the totals and every
distinct failure with an example. Exits 1 when a failure was found.

    PYTHONPATH=. .venv/bin/python bench/fuzz_api.py [--examples 200] [--pg] [--all-checks]

The default (40 examples of each mode per operation, SQLite: about 3,500 requests) stays well within
`make bench`'s budget; --examples 200 is the deep run (several minutes). --all-checks adds
negative_data_rejection, which on this API mostly flags ignored unknown query parameters (see
openapi_fuzz.CHECKS).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _shared import ROOT, postgres_database, quiet_logs, sqlite_database, use_database  # noqa: E402

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=40,
                        help="examples per operation and generation mode (positive, negative); default 40")
    parser.add_argument("--pg", action="store_true",
                        help="PostgreSQL (BENCH_PG_URL or 127.0.0.1:5432) instead of SQLite")
    parser.add_argument("--all-checks", action="store_true", help="also run negative_data_rejection")
    args = parser.parse_args()

    from tests.api import openapi_fuzz

    os.environ.update(openapi_fuzz.FUZZ_ENV)
    quiet_logs()
    # Figures only: the app logs each refused webhook, failed enqueue and 5xx; the report below says what matters.
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    logging.disable(logging.ERROR)
    checks = openapi_fuzz.CHECKS + (openapi_fuzz.EXTRA_CHECKS if args.all_checks else [])
    check_names = [c.__name__ for c in checks]

    database = postgres_database() if args.pg else sqlite_database()
    print(f"fuzz_api: {'PostgreSQL' if args.pg else 'SQLite'}, {args.examples} examples per operation and mode, "
          f"checks: {', '.join(check_names)}")
    print("  excluded: " + "; ".join(f"{op} ({why})" for op, why in openapi_fuzz.EXCLUDED.items()))
    print(f"{'operation':58s} {'requests':>8s} {'failures':>8s}  statuses / failures by check")

    def progress(op, report) -> None:
        stats = report.stats[op.label]
        statuses = " ".join(f"{code}:{n}" for code, n in sorted(stats.statuses.items()))
        failures = " ".join(f"{name}:{n}" for name, n in sorted(stats.failures.items()))
        print(f"{op.label:58s} {stats.requests:8d} {sum(stats.failures.values()):8d}  {statuses}"
              + (f"  | {failures}" if failures else ""), flush=True)

    started = time.perf_counter()
    with database as url:
        use_database(url)
        target = openapi_fuzz.prepare()
        report = openapi_fuzz.fuzz(target, max_examples=args.examples, checks=checks, on_operation=progress)
    elapsed = time.perf_counter() - started

    by_check = report.failures_by_check()
    print(f"{'total':58s} {report.requests:8d} {sum(by_check.values()):8d}  "
          f"{len(report.stats)} operations in {elapsed:.1f} s ({report.requests / elapsed:.0f} requests/s)")
    for name in check_names:
        print(f"  {name:38s} {by_check.get(name, 0):6d} failing responses")
    if report.findings:
        print(f"\n{len(report.findings)} distinct failure(s):\n{report.describe_findings()}")
        return 1
    print("no failure found")
    return 0


if __name__ == "__main__":
    sys.exit(main())
