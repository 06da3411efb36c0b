"""Do a few parallel 60 MB bogus post-call webhooks starve page events and other requests? (issue 10, item 2)

    PYTHONPATH=. .venv/bin/python bench/body_flood.py [--flooders 4] [--seconds 20] [--mb 60]

Starts the production backend (Granian, one worker, the app's ASGI factory: what `reflex run --env prod`
runs) on a free loopback port with a fresh SQLite database and a redis-server of its own. Then, for a
bounded time, measures three probes one after another in a loop:
  - a page event over Reflex's websocket (`AuthState.open_public_page`, which reads the session and the
    users table) and the state update it sends back;
  - a socket.io ping over the same websocket;
  - `GET /api/health` over HTTP (database and Redis checks);
first alone (baseline), then while `--flooders` senders each post 60 MB bodies in a loop to
`/api/webhooks/elevenlabs` with a well-formed, current but wrong signature: the cheap checks pass, so the
server reads each body and hashes it (in a thread) before answering 401. Prints p50/p99/max per probe,
with and without the flood, and how many floods were answered. Loopback only; bounded by time.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from _shared.reflex_client import PageEvents  # noqa: E402
from tests.support.servers import AppProcess, OwnRedis, app_env  # noqa: E402

SECRET = "flood-webhook-secret-0123456789"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


def _describe(values: list[float]) -> str:
    if not values:
        return "no answers"
    return (f"n={len(values):5d}  p50 {statistics.median(values) * 1000:7.1f} ms  p99 "
            f"{_percentile(values, 0.99) * 1000:7.1f} ms  max {max(values) * 1000:7.1f} ms")


async def _probe(base_url: str, seconds: float) -> dict[str, list[float]]:
    import logging

    import httpx

    logging.getLogger("httpx").setLevel(logging.WARNING)

    client = PageEvents(base_url)
    await client.connect()
    handler = client.handler("AuthState", "open_public_page")
    results: dict[str, list[float]] = {"page event": [], "websocket ping": [], "GET /api/health": []}
    async with httpx.AsyncClient(timeout=30) as http:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.perf_counter()
            await client.event(handler, {}, path="/login")
            results["page event"].append(time.perf_counter() - started)
            results["websocket ping"].append(await client.ping())
            started = time.perf_counter()
            assert (await http.get(f"{base_url}/api/health")).status_code == 200
            results["GET /api/health"].append(time.perf_counter() - started)
            await asyncio.sleep(0.02)
    await client.close()
    return results


def _flood(base_url: str, mb: int, stop, answers) -> None:
    """In a process of its own (so the probes' timings are the server's, not this client's): one thread per
    sender, each posting bogus bodies until told to stop."""
    import threading

    import httpx

    body = (b'{"type": "post_call_audio", "data": {"conversation_id": "x", "full_audio": "'
            + b"A" * (mb * 1024 * 1024) + b'"}}')

    def send() -> None:
        with httpx.Client(timeout=120) as http:
            while not stop.is_set():
                header = f"t={int(time.time())},v0={'0' * 64}"
                response = http.post(f"{base_url}/api/webhooks/elevenlabs", content=body,
                                     headers={"ElevenLabs-Signature": header, "Content-Type": "application/json"})
                answers.append(response.status_code)

    threads = [threading.Thread(target=send) for _ in range(_flood.senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _flood_process(base_url: str, mb: int, senders: int, stop, answers) -> None:
    _flood.senders = senders
    _flood(base_url, mb, stop, answers)


async def run(base_url: str, flooders: int, seconds: float, mb: int) -> None:
    import multiprocessing

    baseline = await _probe(base_url, seconds / 2)
    context = multiprocessing.get_context("spawn")
    manager = context.Manager()
    stop, answers = manager.Event(), manager.list()
    flood = context.Process(target=_flood_process, args=(base_url, mb, flooders, stop, answers))
    flood.start()
    await asyncio.sleep(1.5)  # the floods are under way
    flooded = await _probe(base_url, seconds)
    stop.set()
    flood.join(180)
    answers = list(answers)
    manager.shutdown()
    print(f"\n{flooders} parallel senders (another process) of {mb} MB bogus post-call bodies: {len(answers)} "
          f"answered ({', '.join(f'{answers.count(c)} x {c}' for c in sorted(set(answers)))}), "
          f"{len(answers) * mb / (seconds + 1.5):.0f} MB/s read, hashed and refused")
    for name in baseline:
        print(f"  {name:17s} alone:        {_describe(baseline[name])}")
        print(f"  {name:17s} under flood:  {_describe(flooded[name])}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flooders", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--mb", type=int, default=60)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="navaia-flood-"))
    database_url = f"sqlite:///{tmp / 'navaia.db'}"
    redis = OwnRedis().start()
    app = None
    try:
        subprocess.run([sys.executable, "-m", "navaia_app.cli", "migrate"], cwd=ROOT, check=True,
                       env=app_env(database_url, redis.url), capture_output=True, timeout=300)
        app = AppProcess(database_url, redis.url, ELEVENLABS_WEBHOOK_SECRET=SECRET, LOG_LEVEL="WARNING",
                         MEDIA_DIR=str(tmp / "media")).wait()
        print(f"production backend (Granian, 1 worker) at {app.url}, SQLite, own Redis; probes run one after "
              f"another (page event, websocket ping, GET /api/health) for {args.seconds:.0f} s")
        asyncio.run(run(app.url, args.flooders, args.seconds, args.mb))
    except Exception:
        if app is not None:
            print(app.log_tail(4000), file=sys.stderr)
        raise
    finally:
        if app is not None:
            app.stop()
        redis.remove()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
