"""What every request pays before its own work: the edge layers (request id, security checks and headers,
metrics) and the way to Reflex's own routes, measured in process (CPU time per request, no network).

    PYTHONPATH=. .venv/bin/python bench/request_overhead.py [--requests N]

Prints, in microseconds of CPU per request (median of 5 rounds of N requests each):
  - a trivial ASGI app alone and behind `api_app.edge_layers` (the fixed overhead the app adds to any request);
  - GET /ping through the whole backend that `reflex run` serves, beside an empty `rx.App()` served the same
    way (a bare Reflex backend; both include Reflex's own /ping handler, which is sync and runs in a thread);
  - GET /api/health through the whole backend.
CPU time (not wall time), so other load on the machine moves these figures less than it moves throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time

from _shared import ROOT, quiet_logs


def scope(path: str) -> dict:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
            "headers": [(b"host", b"127.0.0.1:3000"), (b"user-agent", b"bench")], "client": ("127.0.0.1", 5555),
            "server": ("127.0.0.1", 3000), "state": {}}


async def per_request(app, path: str, requests: int) -> float:
    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    statuses = []

    async def send(message):
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    for _ in range(200):  # warm
        await app(scope(path), receive, send)
    if statuses[0] != 200:
        raise SystemExit(f"{path} answered {statuses[0]}")
    rounds = []
    for _ in range(5):
        started = time.process_time()
        for _ in range(requests):
            await app(scope(path), receive, send)
        rounds.append((time.process_time() - started) / requests * 1e6)
    return statistics.median(rounds)


async def trivial(scope_, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"pong"})


async def main(requests: int) -> None:
    from navaia_app.api_app import edge_layers
    from navaia_app.core.settings import get_settings

    edged = trivial
    for layer, options in reversed(edge_layers(get_settings(), rate_limits={})):
        edged = layer(edged, **options)
    alone = await per_request(trivial, "/ping", requests * 5)
    behind = await per_request(edged, "/ping", requests * 5)
    print(f"  trivial ASGI app                 {alone:7.1f} us/request")
    print(f"  behind the edge layers           {behind:7.1f} us/request  -> fixed overhead {behind - alone:.1f} us")

    from navaia_app.navaia_app import app

    import reflex as rx
    from reflex_base.registry import RegistrationContext

    backend = app()  # what Granian serves
    token = RegistrationContext.set(RegistrationContext.get().fork())  # a second App needs its own context
    try:
        bare = rx.App()()  # an empty Reflex app, served the same way
    finally:
        RegistrationContext.reset(token)
    bare_ping = await per_request(bare, "/ping", requests)
    full = await per_request(backend, "/ping", requests)
    health = await per_request(backend, "/api/health", requests)
    print(f"  GET /ping, a bare Reflex app     {bare_ping:7.1f} us/request")
    print(f"  GET /ping, Navaia's backend      {full:7.1f} us/request  (+{full - bare_ping:.1f} us: the edge layers "
          f"and the /api split)")
    print(f"  GET /api/health, Navaia          {health:7.1f} us/request")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    os.chdir(ROOT)
    os.environ.update(REFLEX_SKIP_COMPILE="true", REFLEX_ENV_MODE="prod", REFLEX_BACKEND_ONLY="true")
    os.environ["PATH"] = f"{ROOT / '.tools/node_modules/.bin'}:{os.environ.get('PATH', '')}"
    quiet_logs()
    os.system("uptime")
    asyncio.run(main(args.requests))
    sys.exit(0)
