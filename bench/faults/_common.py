"""What the fault scripts share: their own servers, signed webhook senders that retry like ElevenLabs,
campaign set-up and the checks they print.

Every server a fault script breaks is its own (tests/support/servers.py: a throw-away PostgreSQL
cluster and a redis-server on free loopback ports, the production web backend and real workers);
the machine's PostgreSQL and Redis are never touched. Everything is stopped and removed on exit.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.servers import (  # noqa: E402
    AppProcess,
    OwnPostgres,
    OwnRedis,
    WorkerProcess,
    postgres_available,
)

SECRET = "fault-webhook-secret"
WEBHOOK = "/api/webhooks/elevenlabs"
ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
T0 = time.monotonic()


def say(message: str = "") -> None:
    """One line of the narrative, stamped with the seconds since the script started."""
    print(f"[{time.monotonic() - T0:6.1f} s] {message}", flush=True)


def heading(title: str) -> None:
    print(f"\n== {title}", flush=True)


class Verdict:
    """Collects the properties checked; the script exits 1 when any failed."""

    def __init__(self) -> None:
        self.results: list[tuple[bool, str]] = []

    def check(self, ok: bool, what: str) -> bool:
        self.results.append((bool(ok), what))
        print(f"  [{'PASS' if ok else 'FAIL'}] {what}", flush=True)
        return bool(ok)

    def exit_code(self) -> int:
        failed = [w for ok, w in self.results if not ok]
        heading("verdict")
        if failed:
            print(f"FAILED: {len(failed)} of {len(self.results)} properties", flush=True)
            for what in failed:
                print(f"  - {what}", flush=True)
            return 1
        print(f"OK: all {len(self.results)} properties hold (total {time.monotonic() - T0:.0f} s)", flush=True)
        return 0


def wait_for(predicate, timeout: float, interval: float = 0.25) -> float | None:
    """Seconds until predicate() is true, or None after `timeout`."""
    started = time.monotonic()
    while True:
        try:
            if predicate():
                return time.monotonic() - started
        except Exception:  # noqa: BLE001 - a server we broke may make the probe fail: keep probing
            pass
        if time.monotonic() - started > timeout:
            return None
        time.sleep(interval)


# --- the servers -------------------------------------------------------------------------------


class Stack:
    """Own PostgreSQL + own Redis + the web app (+ workers on demand), all removed by close()."""

    def __init__(self, *, app: bool = True, app_env: dict[str, str] | None = None,
                 worker_env: dict[str, str] | None = None):
        self.want_app = app
        self.app_env = app_env or {}
        self.worker_env = worker_env or {}
        self.pg: OwnPostgres | None = None
        self.redis: OwnRedis | None = None
        self.app: AppProcess | None = None
        self.workers: list[WorkerProcess] = []
        self.media = tempfile.mkdtemp(prefix="navaia-fault-media-")

    def start(self) -> Stack:
        if not postgres_available():
            raise SystemExit("the PostgreSQL server binaries are not installed (initdb not found)")
        began = time.monotonic()
        self.pg = OwnPostgres().init()
        self.redis = OwnRedis(persistence=False).start()
        say(f"own PostgreSQL on port {self.pg.port} and own Redis (no persistence) on port {self.redis.port} "
            f"in {time.monotonic() - began:.1f} s")
        from navaia_app.core.db import engine_for
        from navaia_app.core.migrations import upgrade_database
        from navaia_app.core.settings import get_settings

        upgrade_database(self.pg.url)
        engine_for(self.pg.url).dispose()
        # This process (campaign set-up, checks) uses the same database and Redis.
        os.environ.update(DATABASE_URL=self.pg.url, REDIS_URL=self.redis.url, APP_ENV="test",
                          ELEVENLABS_WEBHOOK_SECRET=SECRET, MEDIA_DIR=self.media)
        get_settings.cache_clear()
        if self.want_app:
            began = time.monotonic()
            self.app = AppProcess(self.pg.url, self.redis.url, **self._common_env(), **self.app_env)
            self.app.wait()
            say(f"web app (Granian, production backend) answering at {self.app.url} after "
                f"{time.monotonic() - began:.1f} s")
        return self

    def _common_env(self) -> dict[str, str]:
        return {"ELEVENLABS_WEBHOOK_SECRET": SECRET, "MEDIA_DIR": self.media, "LOG_LEVEL": "WARNING",
                "BUSINESS_HOURS": "mon-sun 00:00-23:59", "TELEPHONY_PROVIDER": "simulated"}

    def new_worker(self) -> WorkerProcess:
        extra = {**self._common_env(), "LOG_LEVEL": "INFO", **self.worker_env}
        if self.app is not None:  # the simulated carrier posts answered calls' webhooks to the app
            extra["PUBLIC_BASE_URL"] = self.app.url
        worker = WorkerProcess(self.pg.url, self.redis.url, **extra)
        self.workers.append(worker)
        return worker

    @property
    def webhook_url(self) -> str:
        return f"{self.app.url}{WEBHOOK}"

    def close(self) -> None:
        for worker in self.workers:
            try:
                worker.stop()
            except Exception:  # noqa: BLE001 - best effort: keep cleaning up
                pass
        if self.app is not None:
            try:
                self.app.stop()
            except Exception:  # noqa: BLE001
                pass
        try:
            from navaia_app.core.db import engine_for

            if self.pg is not None:
                engine_for(self.pg.url).dispose()
        except Exception:  # noqa: BLE001
            pass
        if self.redis is not None:
            self.redis.remove()
        if self.pg is not None:
            self.pg.remove()
        import shutil

        shutil.rmtree(self.media, ignore_errors=True)

    def __enter__(self) -> Stack:
        # SIGTERM (make, CI) must still remove our servers: turn it into SystemExit.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc) -> None:
        self.close()


# --- signed webhooks and senders that retry like ElevenLabs -------------------------------------


def _template() -> dict:
    doc = json.loads((ROOT / "tests/conversations/samples/post_call_raise_ticket.json").read_text())
    doc["data"]["conversation_initiation_client_data"]["dynamic_variables"] = {}
    return doc


_TEMPLATE = _template()


def webhook_body(conversation_id: str) -> bytes:
    doc = json.loads(json.dumps(_TEMPLATE))
    doc["data"]["conversation_id"] = conversation_id
    return json.dumps(doc).encode()


def signature(body: bytes, secret: str = SECRET) -> str:
    from navaia_app.core.signing import sign_elevenlabs as sign

    return sign(body, secret, int(time.time()))


@dataclass
class Delivery:
    """One event's delivery: every try (time since start, status or error name, Retry-After)."""

    conversation_id: str
    created: float
    tries: list[tuple[float, str, str | None]] = field(default_factory=list)
    answer: str | None = None  # "accepted" / "duplicate" from the 200 body
    event_id: int | None = None
    delivered_at: float | None = None
    gave_up: bool = False


class Senders:
    """Posts one new signed post-call webhook every 1/rate s, each a distinct conversation, in the
    background. Each event is delivered on its own: on a 5xx, a 429 or a connection error it is sent
    again (same body, fresh signature) after 0.5, 1, 2, 2, ... s, as ElevenLabs retries, until a
    200 or `give_up_after` seconds. stop() stops making new events and waits for the ones in flight."""

    def __init__(self, url: str, *, rate: float = 10.0, prefix: str | None = None, give_up_after: float = 120.0):
        self.url = url
        self.rate = rate
        self.prefix = prefix or f"fault-{uuid.uuid4().hex[:8]}-"
        self.give_up_after = give_up_after
        self.deliveries: dict[str, Delivery] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def start(self) -> Senders:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="fault-senders", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 150) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    async def _main(self) -> None:
        import aiohttp

        timeout = aiohttp.ClientTimeout(total=15)
        async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=64)) as client:
            tasks = []
            n = 0
            next_at = time.monotonic()
            while not self._stop.is_set():
                n += 1
                delivery = Delivery(f"{self.prefix}{n:05d}", time.monotonic() - T0)
                with self.lock:
                    self.deliveries[delivery.conversation_id] = delivery
                tasks.append(asyncio.create_task(self._deliver(client, delivery)))
                next_at += 1 / self.rate
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            await asyncio.gather(*tasks)

    async def _deliver(self, client, delivery: Delivery) -> None:
        import aiohttp

        body = webhook_body(delivery.conversation_id)
        backoff = [0.5, 1.0, 2.0]
        began = time.monotonic()
        while True:
            headers = {"Content-Type": "application/json", "ElevenLabs-Signature": signature(body)}
            at = time.monotonic() - T0
            try:
                async with client.post(self.url, data=body, headers=headers) as response:
                    payload = await response.read()
                    status, retry_after = response.status, response.headers.get("Retry-After")
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                status, retry_after, payload = type(exc).__name__, None, b""
            delivery.tries.append((at, str(status), retry_after))
            if status == 200:
                doc = json.loads(payload)
                delivery.answer, delivery.event_id = doc.get("status"), doc.get("event_id")
                delivery.delivered_at = time.monotonic() - T0
                return
            if isinstance(status, int) and status < 500 and status != 429:
                return  # refused for good (4xx): ElevenLabs does not retry those either
            if time.monotonic() - began > self.give_up_after:
                delivery.gave_up = True
                return
            await asyncio.sleep(backoff[min(len(delivery.tries) - 1, len(backoff) - 1)])

    # --- what happened ---

    def snapshot(self) -> list[Delivery]:
        with self.lock:
            return list(self.deliveries.values())

    def accepted_ids(self) -> set[str]:
        return {d.conversation_id for d in self.snapshot() if d.delivered_at is not None}

    def summary(self) -> dict[str, Any]:
        deliveries = self.snapshot()
        statuses = Counter(status for d in deliveries for _, status, _ in d.tries)
        retry_after = Counter(ra for d in deliveries for _, status, ra in d.tries if status != "200" and ra)
        return {
            "events": len(deliveries),
            "delivered": sum(d.delivered_at is not None for d in deliveries),
            "accepted": sum(d.answer == "accepted" for d in deliveries),
            "duplicate": sum(d.answer == "duplicate" for d in deliveries),
            "retried": sum(len(d.tries) > 1 for d in deliveries),
            "gave_up": sum(d.gave_up for d in deliveries),
            "undelivered": [d.conversation_id for d in deliveries if d.delivered_at is None],
            "posts": sum(statuses.values()),
            "statuses": dict(sorted(statuses.items())),
            "retry_after": dict(retry_after),
            "max_tries": max((len(d.tries) for d in deliveries), default=0),
        }


def print_sender_summary(senders: Senders) -> dict[str, Any]:
    s = senders.summary()
    say(f"senders: {s['events']} events, {s['posts']} POSTs; {s['delivered']} answered 200 "
        f"({s['accepted']} accepted, {s['duplicate']} duplicate on a retry), {s['retried']} needed retries "
        f"(at most {s['max_tries']} tries), {s['gave_up']} gave up")
    say(f"         every answer: {s['statuses']}; Retry-After on errors: {s['retry_after'] or 'none'}")
    return s


# --- the database: inbox and campaign checks ----------------------------------------------------


def _engine():
    from navaia_app.core.db import engine_for

    return engine_for(os.environ["DATABASE_URL"])


def inbox_by_external_id(prefix: str | None = None) -> dict[str, list[tuple[int, str, int]]]:
    """external_id -> [(row id, status, attempts)] of the webhook inbox (only ids starting with prefix)."""
    from sqlmodel import Session, select

    from navaia_app.conversations.models import WebhookEvent

    query = select(WebhookEvent.external_id, WebhookEvent.id, WebhookEvent.status, WebhookEvent.attempts)
    if prefix:
        query = query.where(WebhookEvent.external_id.like(f"{prefix}%"))
    rows: dict[str, list[tuple[int, str, int]]] = {}
    with Session(_engine()) as db:
        for external_id, event_id, status, attempts in db.exec(query):
            rows.setdefault(external_id, []).append((event_id, status, attempts))
    return rows


def inbox_status_counts() -> Counter:
    from sqlmodel import Session, func, select

    from navaia_app.conversations.models import WebhookEvent

    with Session(_engine()) as db:
        return Counter(dict(db.exec(select(WebhookEvent.status, func.count()).group_by(WebhookEvent.status)).all()))


def inbox_all_processed() -> bool:
    counts = inbox_status_counts()
    return sum(counts.values()) > 0 and set(counts) == {"processed"}


def create_campaign(customers: int, **fields) -> int:
    """`customers` new customers and a running campaign calling all of them (any day, any hour)."""
    from sqlmodel import Session

    from navaia_app.campaigns import service
    from navaia_app.campaigns.models import CampaignIn
    from navaia_app.customers.models import Customer

    fields = {"name": "Fault test", "calling_window_start": "00:00", "calling_window_end": "00:00",
              "calling_days": ALL_DAYS, "calls_per_second": 20, "max_concurrent_calls": 40, "max_attempts": 1,
              **fields}
    with Session(_engine()) as session:
        session.add_all([Customer(name=f"Customer {i}", phone=f"+1212555{i:04d}", timezone="America/New_York")
                         for i in range(customers)])
        campaign = service.create_campaign(session=session, campaign_in=CampaignIn(**fields))
        session.commit()
        service.start_campaign(session=session, campaign_id=campaign.id)  # queues the dispatcher after commit
        session.commit()
        return campaign.id


def placed_calls(cid: int) -> int:
    from sqlmodel import Session, func, select

    from navaia_app.campaigns.models import CampaignCallAttempt

    with Session(_engine()) as db:
        return db.exec(select(func.count()).select_from(CampaignCallAttempt).where(
            CampaignCallAttempt.campaign_id == cid, CampaignCallAttempt.provider_call_id.is_not(None))).one()


def campaign_status(cid: int) -> str:
    from sqlmodel import Session

    from navaia_app.campaigns.models import Campaign

    with Session(_engine()) as db:
        return db.get(Campaign, cid).status


def campaign_report(cid: int) -> dict[str, Any]:
    """The figures that show each customer was called once: per call, its attempts and provider calls."""
    from sqlmodel import Session, func, select

    from navaia_app.campaigns.models import Campaign, CampaignCall, CampaignCallAttempt

    with Session(_engine()) as db:
        campaign = db.get(Campaign, cid)
        calls = db.exec(select(CampaignCall).where(CampaignCall.campaign_id == cid)).all()
        attempts = db.exec(select(CampaignCallAttempt).where(CampaignCallAttempt.campaign_id == cid)).all()
        per_call = Counter(a.campaign_call_id for a in attempts if a.provider_call_id)
        provider_ids = [a.provider_call_id for a in attempts if a.provider_call_id]
        customers = Counter(c.customer_id for c in calls)
        return {
            "status": campaign.status,
            "started_at": campaign.started_at,
            "completed_at": campaign.completed_at,
            "calls": len(calls),
            "customers": len(customers),
            "call_status": dict(Counter(c.status for c in calls)),
            "attempts_per_call": dict(Counter(c.attempts for c in calls)),
            "provider_calls_per_call": dict(Counter(per_call.get(c.id, 0) for c in calls)),
            "attempt_rows": len(attempts),
            "provider_calls": len(provider_ids),
            "distinct_provider_calls": len(set(provider_ids)),
            "placing_left": sum(a.status == "placing" for a in attempts),
            "answered": sum(c.status == "completed" for c in calls),
            "max_calls_per_customer": max(customers.values(), default=0),
            "conversations": db.exec(select(func.count()).select_from(CampaignCall).where(
                CampaignCall.campaign_id == cid, CampaignCall.conversation_id.is_not(None))).one(),
        }


def check_each_customer_called_once(verdict: Verdict, cid: int, customers: int) -> dict[str, Any]:
    r = campaign_report(cid)
    say(f"campaign {cid}: status {r['status']}; {r['calls']} calls for {r['customers']} customers; "
        f"call outcomes {r['call_status']}")
    say(f"  attempts per call {r['attempts_per_call']}; provider calls per call {r['provider_calls_per_call']}; "
        f"{r['provider_calls']} provider calls, {r['distinct_provider_calls']} distinct; "
        f"{r['placing_left']} attempts left 'placing'")
    verdict.check(r["status"] == "completed", f"the campaign completed (status {r['status']})")
    verdict.check(r["calls"] == customers and r["max_calls_per_customer"] == 1,
                  f"one call row per customer ({r['calls']} rows, {customers} customers)")
    verdict.check(r["provider_calls_per_call"] == {1: customers},
                  f"every customer called exactly once by the provider ({r['provider_calls_per_call']})")
    verdict.check(r["provider_calls"] == r["distinct_provider_calls"] == customers,
                  f"no duplicate provider calls ({r['provider_calls']} placed, {r['distinct_provider_calls']} distinct)")
    verdict.check(r["attempts_per_call"] == {1: customers}, f"attempt count 1 on every call ({r['attempts_per_call']})")
    verdict.check(r["placing_left"] == 0, "no attempt stuck in 'placing'")
    return r


def wait_inbox_drained(timeout: float, stall: float = 75.0) -> float | None:
    """Seconds until every inbox row is processed, or None when `timeout` passes or nothing moved for
    `stall` seconds (stuck, as opposed to slow: this machine's 2 cores are shared)."""
    started = last_move = time.monotonic()
    last = None
    while True:
        try:
            counts = inbox_status_counts()
        except Exception:  # noqa: BLE001 - the database may still be coming back
            counts = None
        if counts is not None:
            if sum(counts.values()) > 0 and set(counts) == {"processed"}:
                return time.monotonic() - started
            if counts != last:
                last, last_move = counts, time.monotonic()
        now = time.monotonic()
        if now - started > timeout or now - last_move > stall:
            return None
        time.sleep(1.0)


def kill_tree(pid: int) -> list[int]:
    """SIGKILL a process and every descendant (RQ's work horse runs in a process group of its own,
    so killing the worker's group would leave the job running): what a crashed machine looks like."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    doomed, todo = [], [pid]
    while todo:
        current = todo.pop()
        doomed.append(current)
        todo.extend(children.get(current, []))
    for victim in doomed:
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return doomed


def check_inbox_drained(verdict: Verdict, *, timeout: float, since: float | None = None) -> float | None:
    """Waits until every inbox row is processed (the worker and its sweeper); prints the counts."""
    took = wait_inbox_drained(timeout)
    counts = inbox_status_counts()
    extra = f" ({time.monotonic() - since:.1f} s after the fault ended)" if since is not None and took is not None else ""
    say(f"webhook inbox: {dict(counts)}" + (f"; drained{extra}" if took is not None else f"; NOT drained (stalled, "
                                                                                          f"or over {timeout:.0f} s)"))
    verdict.check(took is not None and counts.get("pending", 0) == 0 and counts.get("failed", 0) == 0,
                  f"every webhook inbox event processed, none stuck or failed ({dict(counts)})")
    return took


class HealthProbe:
    """Polls GET /api/health in the background; keeps the transitions of (status code, database, redis)."""

    def __init__(self, base_url: str, interval: float = 0.5):
        self.url = f"{base_url}/api/health"
        self.interval = interval
        self.transitions: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="fault-health")

    def start(self) -> HealthProbe:
        self._thread.start()
        return self

    def _run(self) -> None:
        import httpx

        last = None
        with httpx.Client(timeout=5) as client:
            while not self._stop.is_set():
                try:
                    r = client.get(self.url)
                    doc = r.json()
                    state = f"{r.status_code} database={doc.get('database')} redis={doc.get('redis')}"
                except Exception as exc:  # noqa: BLE001
                    state = f"no answer ({type(exc).__name__})"
                if state != last:
                    self.transitions.append((time.monotonic() - T0, state))
                    last = state
                self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def print(self) -> None:
        say("/api/health over time:")
        for at, state in self.transitions:
            print(f"           {at:6.1f} s  {state}", flush=True)


def check_accepted_in_inbox(verdict: Verdict, senders: Senders) -> dict[str, list[tuple[int, str, int]]]:
    """Every conversation id the app answered 200 is in the inbox exactly once (and nothing else is)."""
    accepted = senders.accepted_ids()
    inbox = inbox_by_external_id(senders.prefix)
    missing = sorted(accepted - set(inbox))
    doubled = sorted(k for k, rows in inbox.items() if len(rows) > 1)
    say(f"inbox holds {len(inbox)} of the senders' events; {len(accepted)} were answered 200; "
        f"missing {len(missing)}, stored twice {len(doubled)}")
    verdict.check(not missing, f"no event answered 200 is lost ({len(missing)} missing"
                               + (f": {missing[:5]}" if missing else "") + ")")
    verdict.check(not doubled, f"each event stored exactly once ({len(doubled)} stored twice)")
    undelivered = set(inbox) - accepted
    if undelivered:  # stored, but the sender never heard the 200 (it gave up or the answer was lost)
        say(f"  {len(undelivered)} events are stored although their sender never got a 200 (harmless: "
            f"a retry would have been answered 'duplicate')")
    return inbox


def rq_failed_jobs() -> dict[str, int]:
    """Jobs in RQ's failed registries, per queue (a killed work horse's job lands there)."""
    import redis
    from rq import Queue
    from rq.registry import FailedJobRegistry

    from navaia_app.core.queues import QUEUE_NAMES

    connection = redis.Redis.from_url(os.environ["REDIS_URL"])
    try:
        return {name: len(FailedJobRegistry(queue=Queue(name, connection=connection))) for name in QUEUE_NAMES}
    finally:
        connection.close()
