"""Throughput as deployed: post-call webhooks into `make run`'s app with its worker running, until every
accepted event has become a conversation.

    PYTHONPATH=. .venv/bin/python bench/throughput.py [--pg] [--workers N] [--seconds S] [--connections C]
    PYTHONPATH=. .venv/bin/python bench/throughput.py --pg --scaling 1,2,4 [--events N]

Default mode, on a fresh migrated database (SQLite file as `make run` makes it, or PostgreSQL with --pg) and a
Redis of its own: starts the web backend as `make run` does (`reflex run --env prod` serves it with Granian,
one process, the app's ASGI factory; APP_ENV=dev, LOG_LEVEL=INFO, logs to a file) and N workers
(`python -m navaia_app.cli worker`, 1 as in `make run`), and, for comparison in the same run, a bare Reflex
backend (an empty `rx.App()`, same Granian settings). Then wrk (C, 2 threads, C connections):
  1. GET /ping on the bare backend and on Navaia, S seconds each;
  2. S seconds of signed ~5 KB post_call_transcription webhooks, every one a distinct conversation,
     while the worker(s) process them;
  3. waits until every accepted event has become a conversation (and its inbox row is processed).
Prints ingest events/s, p50/p99, statuses, the ratio to Navaia's /ping and to the bare backend's in the
same run, and how long after the burst everything was processed (with the end-to-end rate).

--scaling mode (worker throughput alone): stores --events events with no worker running, then starts N
workers and times until all are processed, for each N given (a fresh database each).

Needs wrk (Debian package `wrk`; `make bench` installs it). Loopback only; every wait is bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from _shared import ROOT, postgres_database, sqlite_database
from _shared.cluster import WEBHOOK_PATH, WEBHOOK_SECRET, body_template

from navaia_app.core.signing import elevenlabs_mac
from tests.support.servers import AppProcess, OwnRedis, WorkerProcess, _Process, app_env, free_port

LUA = ROOT / "bench/_shared/wrk_webhooks.lua"
PROCESS_TIMEOUT = 900.0


def make_run_env() -> dict[str, str]:
    """What `make run` runs with by default: dev settings, INFO logs, page state in memory."""
    return {"APP_ENV": "dev", "LOG_LEVEL": "INFO", "REFLEX_REDIS_URL": "", "ELEVENLABS_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "AGENT_TOOLS_SECRET": "bench-tools-secret"}


class BareReflex(_Process):
    """An empty Reflex app (`rx.App()` and nothing else) served exactly like Navaia's backend."""

    name = "bare-reflex"

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="navaia-bare-reflex-"))
        (self.dir / "bare").mkdir()
        (self.dir / "rxconfig.py").write_text(
            "import reflex as rx\nconfig = rx.Config(app_name='bare', telemetry_enabled=False, "
            "disable_plugins=[rx.plugins.SitemapPlugin])\n")
        (self.dir / "bare/__init__.py").write_text("")
        (self.dir / "bare/bare.py").write_text("import reflex as rx\napp = rx.App()\n")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if k not in ("PORT", "PYTHONPATH")}
        env.update({"BACKEND_PORT": str(self.port), "REFLEX_ENV_MODE": "prod", "REFLEX_SKIP_COMPILE": "true",
                    "REFLEX_BACKEND_ONLY": "true", "REFLEX_TELEMETRY_ENABLED": "false", "REFLEX_USE_NPM": "1",
                    "PATH": f"{ROOT / '.tools/node_modules/.bin'}:{os.environ.get('PATH', '')}"})
        self.log_path = Path(tempfile.mkstemp(prefix="navaia-bare-", suffix=".log")[1])
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--host", "127.0.0.1",
                 "--port", str(self.port), "--workers", "1", "--log-level", "warning", "bare.bare:app"],
                cwd=self.dir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait(self, timeout: float = 120) -> BareReflex:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"the bare Reflex app exited:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/ping", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError("the bare Reflex app did not answer")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def wrk(url: str, *, seconds: float, connections: int, script_args: list[str] | None = None) -> dict:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk (make bench installs it)")
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds:.0f}s", "--timeout", "10s", "-s", str(LUA), url]
    if script_args:
        args += ["--", *script_args]
    out = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 120)
    line = next((x for x in out.stdout.splitlines() if x.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk said:\n{out.stdout}\n{out.stderr}")
    figures = json.loads(line[len("WRK_JSON "):])
    figures["per_second"] = figures["requests"] / (figures["duration_us"] / 1e6)
    return figures


class Events:
    """Distinct signed post_call_transcription events for wrk: the body around the id, and one line per
    event with its timestamp, signature and conversation id."""

    def __init__(self, count: int, run_id: str):
        self.dir = Path(tempfile.mkdtemp(prefix="navaia-bench-events-"))
        self.before, self.after = body_template()
        self.prefix = f"tp-{run_id}-"
        (self.dir / "before").write_bytes(self.before)
        (self.dir / "after").write_bytes(self.after)
        stamp = int(time.time())
        with open(self.dir / "ids", "w") as handle:
            for i in range(count):
                cid = f"{self.prefix}{i}"
                mac = elevenlabs_mac(self.before + cid.encode() + self.after, WEBHOOK_SECRET, stamp)
                handle.write(f"{stamp}\t{mac}\t{cid}\n")
        self.size = len(self.before) + len(self.after) + len(self.prefix) + 5

    def args(self) -> list[str]:
        return [str(self.dir / "ids"), str(self.dir / "before"), str(self.dir / "after"), "2"]

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def counts(database_url: str, prefix: str) -> tuple[int, int, int]:
    """(stored, processed, conversations) for this run's events."""
    import sqlalchemy as sa

    from navaia_app.core.db import engine_for

    with engine_for(database_url).connect() as conn:
        stored, processed = conn.execute(sa.text(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = 'processed' THEN 1 ELSE 0 END), 0) "
            "FROM webhook_events WHERE external_id LIKE :p"), {"p": prefix + "%"}).one()
        conversations = conn.execute(sa.text("SELECT COUNT(*) FROM conversations WHERE external_id LIKE :p"),
                                     {"p": prefix + "%"}).scalar_one()
    return int(stored), int(processed), int(conversations)


def processing_window(database_url: str, prefix: str):
    """When this run's first and last events were processed (the inbox rows' processed_at)."""
    import sqlalchemy as sa

    from navaia_app.conversations.models import WebhookEvent
    from navaia_app.core.db import engine_for

    with engine_for(database_url).connect() as conn:
        return conn.execute(sa.select(sa.func.min(WebhookEvent.processed_at), sa.func.max(WebhookEvent.processed_at))
                            .where(WebhookEvent.external_id.like(prefix + "%"))).one()


def wait_processed(database_url: str, prefix: str, expected: int, timeout: float = PROCESS_TIMEOUT,
                   poll: float = 0.25) -> float | None:
    """Monotonic time at which all `expected` events were processed into conversations, or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _stored, processed, conversations = counts(database_url, prefix)
        if processed >= expected and conversations >= expected:
            return time.monotonic()
        time.sleep(poll)
    return None


def line(label: str, f: dict) -> str:
    return (f"  {label:<30} {f['per_second']:8,.0f} /s   p50 {f['p50_us'] / 1000:7.1f} ms   "
            f"p99 {f['p99_us'] / 1000:7.1f} ms   statuses {f['statuses']}   socket errors "
            f"{sum(v for k, v in f['errors'].items() if k != 'status')}")


def as_deployed(database_url: str, args) -> None:
    run_id = os.urandom(3).hex()
    events = Events(int(args.seconds * 5000), run_id)
    with ExitStack() as stack:
        redis = OwnRedis().start()
        stack.callback(redis.remove)
        bare = BareReflex()
        stack.callback(bare.remove)
        app = AppProcess(database_url, redis.url, **make_run_env())
        stack.callback(app.stop)
        workers = [WorkerProcess(database_url, redis.url, **make_run_env()) for _ in range(args.workers)]
        for worker in workers:
            stack.callback(worker.stop)
        stack.callback(events.remove)
        app.wait()
        bare.wait()
        time.sleep(3)  # the workers' start-up jobs
        load = dict(seconds=args.seconds, connections=args.connections)
        wrk(f"{app.url}/ping", seconds=2, connections=args.connections)  # warm both
        wrk(f"{bare.url}/ping", seconds=2, connections=args.connections)
        ping = wrk(f"{app.url}/ping", **load)
        bare_ping = wrk(f"{bare.url}/ping", **load)
        bare.stop()  # idle from here on
        started = time.monotonic()
        hooks = wrk(f"{app.url}{WEBHOOK_PATH}", script_args=events.args(), **load)
        ended = time.monotonic()
        time.sleep(1)  # the requests wrk left in flight when it stopped are answered (and stored)
        stored, processed_at_end, _ = counts(database_url, events.prefix)
        accepted = hooks["statuses"].get("200", 0)
        # with no worker (the web tier alone, for comparison) nothing is processed: do not wait for it
        done_at = wait_processed(database_url, events.prefix, stored) if workers else None
        stored_after, processed, conversations = counts(database_url, events.prefix)
        alive = all(w.alive() for w in workers) and app.alive()

    print(f"  body {events.size:,} bytes; wrk 2 threads, {args.connections} connections, {args.seconds:.0f} s per "
          f"figure; {args.workers} worker(s) running throughout")
    print(line("bare Reflex GET /ping", bare_ping))
    print(line("Navaia GET /ping", ping))
    print(line("signed webhook -> inbox", hooks))
    print(f"  /ping: Navaia {ping['per_second'] / bare_ping['per_second']:.2f}x the bare backend; ingest "
          f"{hooks['per_second'] / ping['per_second']:.2f}x Navaia's /ping")
    print(f"  accepted {accepted:,} (200), stored {stored:,} events ({stored_after:,} after), "
          f"{processed_at_end:,} processed when the burst ended; ids reused: {hooks['exhausted']}")
    if not workers:
        print("  no worker ran: the web tier alone (nothing processed)")
        return
    if done_at is None:
        print(f"  NOT fully processed within {PROCESS_TIMEOUT:.0f} s: {processed:,} processed, "
              f"{conversations:,} conversations")
        raise SystemExit(1)
    total = done_at - started
    print(f"  all {stored:,} processed into conversations {done_at - ended:.1f} s after the burst ended "
          f"({stored / total:,.0f} events/s end to end over {total:.1f} s)")
    # every accepted event stored once; a request still in flight when wrk stopped is stored, not counted
    if not accepted <= stored <= accepted + args.connections or stored_after != stored \
            or conversations != stored or not alive:
        print(f"  MISMATCH: accepted {accepted}, stored {stored}/{stored_after}, conversations {conversations}, "
              f"processes alive {alive}")
        raise SystemExit(1)


def scaling(database_url: str, workers: int, args) -> None:
    run_id = os.urandom(3).hex()
    events = Events(args.events, run_id)
    with ExitStack() as stack:
        redis = OwnRedis().start()
        stack.callback(redis.remove)
        app = AppProcess(database_url, redis.url, **make_run_env())
        stack.callback(app.stop)
        stack.callback(events.remove)
        app.wait()
        # just enough seconds to store the events (wrk stops at the duration; reused ids are duplicates)
        wrk(f"{app.url}{WEBHOOK_PATH}", script_args=events.args(), connections=16,
            seconds=max(2, args.events / 500))
        stored, _, _ = counts(database_url, events.prefix)
        started = time.monotonic()
        pool = [WorkerProcess(database_url, redis.url, **make_run_env()) for _ in range(workers)]
        for worker in pool:
            stack.callback(worker.stop)
        done_at = wait_processed(database_url, events.prefix, stored)
        _, processed, conversations = counts(database_url, events.prefix)
        first, last = processing_window(database_url, events.prefix)
    if done_at is None:
        print(f"  {workers} worker(s): NOT done within {PROCESS_TIMEOUT:.0f} s ({processed:,} of {stored:,})")
        raise SystemExit(1)
    took = done_at - started
    window = (last - first).total_seconds()
    print(f"  {workers} worker(s): {stored:,} events processed, {stored / window:,.0f} events/s from the first "
          f"processed to the last ({window:.1f} s; {took:.1f} s with the workers' start); conversations "
          f"{conversations:,}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", action="store_true", help="PostgreSQL (BENCH_PG_URL) instead of SQLite")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--scaling", default="", help="e.g. 1,2,4: worker throughput alone, per worker count")
    parser.add_argument("--events", type=int, default=6000, help="events per --scaling run")
    args = parser.parse_args()
    args.seconds = min(args.seconds, 60.0)
    label = "PostgreSQL" if args.pg else "SQLite (WAL, as make run)"
    os.system("uptime")
    database = (lambda: postgres_database()) if args.pg else (lambda: sqlite_database())
    if args.scaling:
        print(f"== {label}: worker throughput, {args.events:,} stored events")
        for n in (int(x) for x in args.scaling.split(",")):
            with database() as url:
                scaling(url, n, args)
    else:
        print(f"== {label}: as deployed")
        with database() as url:
            as_deployed(url, args)
    os.system("uptime")
    return 0


if __name__ == "__main__":
    sys.exit(main())
