"""How many signed post-call webhooks per second does the running app take, and how fast does it answer?

    PYTHONPATH=. .venv/bin/python bench/webhooks.py [--pg] [--seconds S] [--concurrency N] [--max-requests N]

Starts the production backend the way `reflex run --env prod` does (Granian, one worker, the app's
ASGI factory; the page bundle, which plays no part in /api, is not built) on a free loopback port, against a fresh migrated database (SQLite, or PostgreSQL with --pg) and a private
redis-server of its own (no worker drains it, so the figures are the web path alone). Then 16
concurrent senders (aiohttp) post signed ~5 KB post_call_transcription webhooks, each a distinct
conversation, for a bounded time and count, and the same for a bare JSON echo route of the same
app in the same run (enabled by NAVAIA_BENCH_ECHO=1 for this process only). Prints events/s,
p50/p99 latency and errors for both, then checks that every accepted event is in the inbox.
Loopback only; every loop is bounded by count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _shared import ROOT, postgres_database, quiet_logs, sqlite_database
from _shared.cluster import WEBHOOK_SECRET, body_template, signed

SECRET = WEBHOOK_SECRET


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, database_url: str, redis_url: str, media: str):
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="navaia-bench-app-", suffix=".log", delete=False)
        env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "APP_ENV": "test",
               "ELEVENLABS_WEBHOOK_SECRET": SECRET, "NAVAIA_BENCH_ECHO": "1", "LOG_LEVEL": "WARNING",
               "MEDIA_DIR": media, "BACKEND_PORT": str(self.port),
               "PUBLIC_BASE_URL": f"http://127.0.0.1:{self.port}", "REFLEX_TELEMETRY_ENABLED": "false",
               "PYTHONPATH": str(ROOT), "GRANIAN_LOG_LEVEL": "warning",
               "PATH": f"{ROOT / '.tools/node_modules/.bin'}:{os.environ.get('PATH', '')}"}
        env.pop("PORT", None)
        # What `reflex run --env prod` runs for the backend: Granian, one worker, the app's ASGI factory,
        # compiled pages skipped. (`--backend-only` refuses to start while rxconfig sets frontend_port.)
        env.update(REFLEX_ENV_MODE="prod", REFLEX_SKIP_COMPILE="true", REFLEX_BACKEND_ONLY="true")
        self.proc = subprocess.Popen([sys.executable, "-m", "granian", "--interface", "asgi", "--factory",
                                      "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1",
                                      "--log-level", "warning", "navaia_app.navaia_app:app"], cwd=ROOT, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait(self, timeout: float = 180) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"the app exited:\n{Path(self.log.name).read_text()[-3000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/api/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise SystemExit("the app did not start in time")

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        os.unlink(self.log.name)


class RedisServer:
    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = subprocess.Popen([shutil.which("redis-server") or "redis-server", "--port", str(self.port),
                                      "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


async def run_load(url: str, *, make, seconds: float, concurrency: int, max_requests: int,
                   warmup: float = 1.5) -> dict:
    """`concurrency` senders post make(i) -> (body, headers) until the time or the count runs out."""
    import aiohttp

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    results: list[dict] = []
    counter = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as client:
        measuring_from = time.perf_counter() + warmup
        stop_at = measuring_from + seconds

        async def sender() -> None:
            nonlocal counter, errors
            while True:
                now = time.perf_counter()
                if now >= stop_at or counter >= max_requests:
                    return
                counter += 1
                body, headers = make(counter)
                started = time.perf_counter()
                try:
                    async with client.post(url, data=body, headers=headers) as response:
                        payload = await response.read()
                        status = response.status
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    errors += 1
                    continue
                ended = time.perf_counter()
                if started >= measuring_from:
                    latencies.append(ended - started)
                    statuses[status] = statuses.get(status, 0) + 1
                if status != 200:
                    errors += 1
                else:
                    results.append(json.loads(payload))

        began = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(concurrency)))
        elapsed = time.perf_counter() - max(began, measuring_from)
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

    return {"requests": len(latencies), "per_second": len(latencies) / elapsed if elapsed > 0 else 0.0,
            "p50": pct(0.50), "p99": pct(0.99), "errors": errors, "statuses": statuses, "results": results,
            "sent": counter}


def bench(database_url: str, args) -> None:
    from sqlmodel import Session, select

    from navaia_app.conversations.models import WebhookEvent
    from navaia_app.core.db import engine_for

    redis_server = RedisServer()
    media = tempfile.mkdtemp(prefix="navaia-bench-media-")
    server = Server(database_url, redis_server.url, media)
    try:
        server.wait()
        base = f"http://127.0.0.1:{server.port}"
        before, after = body_template()
        run_id = os.urandom(4).hex()

        def webhook(i: int):
            body, signature = signed(before, after, f"bench-{run_id}-{i}")
            return body, {"Content-Type": "application/json", "ElevenLabs-Signature": signature}

        def echo(i: int):
            return before + f"echo-{i}".encode() + after, {"Content-Type": "application/json"}

        size = len(webhook(1)[0])
        print(f"body {size:,} bytes, {args.concurrency} concurrent senders, {args.seconds:.0f} s per route "
              f"(after a 1.5 s warm-up), at most {args.max_requests:,} requests per route")
        load = dict(seconds=args.seconds, concurrency=args.concurrency, max_requests=args.max_requests)
        echo_figures = asyncio.run(run_load(f"{base}/api/bench/echo", make=echo, **load))
        hook_figures = asyncio.run(run_load(f"{base}/api/webhooks/elevenlabs", make=webhook, **load))

        for label, f in (("bare JSON echo route", echo_figures), ("signed webhook -> inbox", hook_figures)):
            print(f"  {label:<26} {f['per_second']:8,.0f} req/s   p50 {f['p50']:6.1f} ms   p99 {f['p99']:6.1f} ms"
                  f"   errors {f['errors']}   statuses {f['statuses']}")
        ratio = hook_figures["per_second"] / echo_figures["per_second"] if echo_figures["per_second"] else 0
        print(f"  the inbox keeps {ratio:.0%} of the echo route's throughput")

        accepted = {r["event_id"] for r in hook_figures["results"] if r.get("status") == "accepted"}
        with Session(engine_for(database_url)) as db:
            stored = set(db.exec(select(WebhookEvent.id).where(WebhookEvent.external_id.like(f"bench-{run_id}-%"))))
        verdict = "every accepted event is in the inbox" if accepted <= stored else \
            f"MISSING {len(accepted - stored)} accepted events"
        print(f"  accepted {len(accepted):,} events; the inbox holds {len(stored):,}: {verdict}")
        if not accepted <= stored:
            raise SystemExit(1)
    finally:
        server.stop()
        redis_server.stop()
        shutil.rmtree(media, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", action="store_true", help="PostgreSQL (BENCH_PG_URL) instead of SQLite")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--max-requests", type=int, default=60_000)
    args = parser.parse_args()
    args.seconds = min(args.seconds, 60.0)
    args.max_requests = min(args.max_requests, 200_000)
    quiet_logs()
    if args.pg:
        print("== PostgreSQL")
        with postgres_database() as url:
            bench(url, args)
    else:
        print("== SQLite (WAL, synchronous=NORMAL)")
        with sqlite_database() as url:
            bench(url, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
