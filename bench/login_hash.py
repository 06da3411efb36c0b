"""What does a sign-in cost? Prints the argon2id parameters and median times of hash, verify, authenticate.

    PYTHONPATH=. .venv/bin/python bench/login_hash.py [--pg] [--runs N]

`authenticate` is the whole sign-in of `auth.service` (throttle check, user lookup, verify,
bookkeeping, commit) on a throw-away SQLite database migrated by Alembic; `--pg` adds a
fresh PostgreSQL database (dropped at the end). The failure rows show that an unknown email
costs what a wrong password costs, so timing does not reveal which accounts exist.
"""

from __future__ import annotations

import argparse
import os
import uuid

from _shared import measure, median_p95, postgres_database, quiet_logs, sqlite_database, use_database

PASSWORD = "quiet harbour lantern 42"


def hasher_parameters() -> str:
    import argon2

    from navaia_app.auth.service import HASHER

    params = argon2.extract_parameters(HASHER.hash(PASSWORD))
    return (f"argon2{params.type.name.lower()} v={params.version}: memory {params.memory_cost} KiB "
            f"({params.memory_cost / 1024:.0f} MiB), {params.time_cost} iterations, {params.parallelism} lane(s), "
            f"{params.hash_len}-byte hash, {params.salt_len}-byte salt")


def authenticate_times(url: str, runs: int) -> dict[str, float]:
    from navaia_app.auth.service import authenticate, create_user
    from navaia_app.core.db import session_scope
    from navaia_app.core.errors import AuthenticationFailed

    use_database(url)
    with session_scope() as session:
        create_user(session=session, email="bench@example.com", password=PASSWORD, name="Bench", role="agent")

    def sign_in():
        with session_scope() as session:
            authenticate(session=session, email="bench@example.com", password=PASSWORD, client="bench")

    def failed(email: str):
        # A new client and account key each time, so throttling never kicks in and skews the figure.
        try:
            with session_scope() as session:
                authenticate(session=session, email=email, password="wrong password 1",
                             client=f"bench-{uuid.uuid4().hex[:8]}")
        except AuthenticationFailed:
            pass

    results = {"authenticate (success)": median_p95(measure(sign_in, runs=runs))[0]}
    results["authenticate (wrong password)"] = median_p95(measure(lambda: failed("bench@example.com"),
                                                                  runs=min(runs, 5), warmup=0))[0]
    results["authenticate (unknown email)"] = median_p95(measure(
        lambda: failed(f"nobody-{uuid.uuid4().hex[:8]}@example.com"), runs=runs))[0]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", action="store_true", help="also on a fresh PostgreSQL database")
    parser.add_argument("--pg-url", help="PostgreSQL server URL (default: BENCH_PG_URL or local postgres)")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("APP_ENV", "test")
    quiet_logs()

    from navaia_app.auth.service import HASHER

    stored = HASHER.hash(PASSWORD)
    hash_ms = median_p95(measure(lambda: HASHER.hash(PASSWORD), runs=args.runs))[0]
    verify_ms = median_p95(measure(lambda: HASHER.verify(PASSWORD, stored), runs=args.runs))[0]

    columns: dict[str, dict[str, float]] = {}
    with sqlite_database() as url:
        columns["SQLite"] = authenticate_times(url, args.runs)
    if args.pg:
        with postgres_database(args.pg_url) as url:
            columns["PostgreSQL"] = authenticate_times(url, args.runs)

    print(f"auth.service.HASHER: {hasher_parameters()}")
    print(f"median of {args.runs} runs, ms (wrong password: 5 runs, below the lock-out threshold)")
    print(f"{'hash a password':36}{hash_ms:10.1f}")
    print(f"{'verify a password':36}{verify_ms:10.1f}")
    header = f"{'':36}" + "".join(f"{db:>12}" for db in columns)
    print(header)
    for label in next(iter(columns.values())):
        print(f"{label:36}" + "".join(f"{columns[db][label]:12.1f}" for db in columns))


if __name__ == "__main__":
    main()
