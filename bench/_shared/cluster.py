"""A scaled deployment of our own for the load and fault scripts: one PostgreSQL and one Redis of this run's
own (tests/support/servers.py, on free loopback ports, removed at the end), migrated by Alembic, and
several web processes against them, as `docker compose up --scale web=N` runs. Also: ElevenLabs-style
webhook signing and a latency recorder, shared by bench/webhooks.py, bench/load_mixed.py and bench/faults/.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from collections.abc import Iterator

from _shared import ROOT

from tests.support.servers import AppProcess, OwnPostgres, OwnRedis, WorkerProcess

WEBHOOK_SECRET = "bench-webhook-secret"
WEBHOOK_PATH = "/api/webhooks/elevenlabs"
ADMIN_EMAIL = "bench-admin@example.com"
ADMIN_PASSWORD = "quiet harbour lantern 42"
TARGET_BODY = 5 * 1024


# ----- ElevenLabs post-call webhooks ------------------------------------------------------------------

def body_template(target: int = TARGET_BODY) -> tuple[bytes, bytes]:
    """A realistic post_call_transcription of about `target` bytes, split around its conversation id."""
    sample = json.loads((ROOT / "tests/conversations/samples/post_call_raise_ticket.json").read_text())
    turns = sample["data"]["transcript"]
    filler = "I was charged twice for the same month and I would like one of the payments refunded please. "
    while len(json.dumps(sample)) < target - 200:
        turns.append({"role": "user" if len(turns) % 2 else "agent", "message": filler,
                      "time_in_call_secs": 10 + len(turns)})
    sample["data"]["conversation_id"] = "@@ID@@"
    text = json.dumps(sample)
    pad = target - len(text) - 24
    sample["data"]["analysis"]["transcript_summary"] += " " * max(0, pad)
    before, after = json.dumps(sample).encode().split(b"@@ID@@")
    return before, after


def signed(before: bytes, after: bytes, conversation_id: str, secret: str = WEBHOOK_SECRET) -> tuple[bytes, str]:
    """The body for `conversation_id` and its `ElevenLabs-Signature` header (t=<unix s>,v0=<HMAC-SHA256>)."""
    from navaia_app.core.signing import sign_elevenlabs as sign

    body = before + conversation_id.encode() + after
    return body, sign(body, secret, int(time.time()))


def webhook_request(before: bytes, after: bytes, conversation_id: str) -> tuple[bytes, dict[str, str]]:
    """Signed afresh at each call, as ElevenLabs does for each delivery attempt."""
    body, signature = signed(before, after, conversation_id)
    return body, {"Content-Type": "application/json", "ElevenLabs-Signature": signature}


# ----- figures ----------------------------------------------------------------------------------------

def percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list (in the list's unit); nan when empty."""
    if not ordered:
        return float("nan")
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


@dataclass
class Recorder:
    """Latencies (ms) and errors per kind of request."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def ok(self, kind: str, ms: float) -> None:
        self.latencies[kind].append(ms)

    def error(self, kind: str, what: str) -> None:
        self.errors[kind].append(what)

    def line(self, kind: str, seconds: float, times: list[float] | None = None) -> str:
        times = sorted(self.latencies[kind] if times is None else times)
        errors = len(self.errors[kind]) if kind in self.errors else 0
        return (f"{kind:<28} {len(times):8,} ok  {len(times) / seconds:8,.1f} req/s   "
                f"p50 {percentile(times, 0.50):7.1f} ms   p99 {percentile(times, 0.99):7.1f} ms   errors {errors}")

    def report(self, seconds: float) -> list[str]:
        kinds = sorted(set(self.latencies) | set(self.errors))
        lines = [self.line(kind, seconds) for kind in kinds]
        everything = [t for kind in kinds for t in self.latencies[kind]]
        total_errors = self.error_count
        ordered = sorted(everything)
        lines.append(f"{'TOTAL':<28} {len(ordered):8,} ok  {len(ordered) / seconds:8,.1f} req/s   "
                     f"p50 {percentile(ordered, 0.50):7.1f} ms   p99 {percentile(ordered, 0.99):7.1f} ms   "
                     f"errors {total_errors}")
        return lines

    @property
    def error_count(self) -> int:
        return sum(len(v) for v in self.errors.values())


# ----- the deployment ---------------------------------------------------------------------------------

@dataclass
class Cluster:
    postgres: OwnPostgres
    redis: OwnRedis
    web: list[AppProcess]
    workers: list[WorkerProcess]
    media: str

    @property
    def database_url(self) -> str:
        return self.postgres.url


def create_admin(database_url: str) -> None:
    """The admin whose API token the scripts use (created in the database directly, as the CLI does)."""
    import os

    from navaia_app.auth.service import create_user
    from navaia_app.core.db import session_scope
    from navaia_app.core.settings import get_settings

    os.environ["DATABASE_URL"] = database_url
    get_settings.cache_clear()
    with session_scope() as session:
        create_user(session=session, email=ADMIN_EMAIL, password=ADMIN_PASSWORD, name="Bench Admin", role="admin")


def api_token(base_url: str, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> str:
    import httpx

    response = httpx.post(f"{base_url}/api/v1/auth/token", json={"email": email, "password": password}, timeout=30)
    response.raise_for_status()
    return response.json()["access_token"]


@contextmanager
def cluster(*, web: int = 2, workers: int = 0, redis_persistence: bool = False,
            prepare=None, **env: str) -> Iterator[Cluster]:
    """Own PostgreSQL + Redis, migrated; `prepare(database_url)` runs before the processes start; then
    `web` web processes (started together, waited for) and `workers` workers. Everything is removed after."""
    from navaia_app.core.migrations import upgrade_database

    postgres = OwnPostgres().init()
    redis = OwnRedis(persistence=redis_persistence).start()
    media = tempfile.mkdtemp(prefix="navaia-bench-media-")
    processes: list[AppProcess] = []
    worker_processes: list[WorkerProcess] = []
    try:
        upgrade_database(postgres.url)
        if prepare is not None:
            prepare(postgres.url)
        settings = {"ELEVENLABS_WEBHOOK_SECRET": WEBHOOK_SECRET, "MEDIA_DIR": media, "LOG_LEVEL": "WARNING", **env}
        processes = [AppProcess(postgres.url, redis.url, **settings) for _ in range(web)]
        for process in processes:
            process.wait()
        worker_processes = [WorkerProcess(postgres.url, redis.url, **settings) for _ in range(workers)]
        yield Cluster(postgres, redis, processes, worker_processes, media)
    finally:
        for process in [*processes, *worker_processes]:
            process.stop()
        from navaia_app.core.db import engine_for

        engine_for(postgres.url).dispose()
        redis.remove()
        postgres.remove()
        shutil.rmtree(media, ignore_errors=True)
