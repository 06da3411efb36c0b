"""Outgoing webhooks on real RQ workers and a real Redis: a receiver that is down for a while and a worker
killed with SIGKILL mid-delivery lose nothing, and what arrives twice carries the same id (receivers dedupe
on `webhook-id`). Signatures are checked with the `standardwebhooks` package, as a receiver would."""

from __future__ import annotations

import shutil
import time
from collections import Counter

import pytest
from sqlmodel import Session, select
from standardwebhooks import Webhook

from navaia_app.core.db import engine_for, session_scope
from navaia_app.core.migrations import upgrade_database
from navaia_app.core.settings import get_settings
from navaia_app.customers.models import CustomerIn
from navaia_app.customers.service import create_customer
from navaia_app.webhooks_out import service
from navaia_app.webhooks_out.models import OutgoingEvent, WebhookDelivery
from navaia_app.tickets.service import create_ticket
from tests.support.receiver import Receiver
from tests.support.servers import OwnRedis, WorkerProcess

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")

EVENTS = 60


def _wait(predicate, timeout: float, what: str, worker=None) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{worker.log_tail() if worker else ''}")
        time.sleep(0.2)


def _delivered(url: str) -> int:
    with Session(engine_for(url)) as session:
        return len(session.exec(select(WebhookDelivery.id).where(WebhookDelivery.status == "delivered")).all())


def test_receiver_down_then_worker_killed_loses_and_doubles_nothing(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'hooks.db'}"
    upgrade_database(url)
    redis_server = OwnRedis().start()
    receiver = Receiver(delay=0.05)  # not listening yet: the receiver is down
    env = {"DATABASE_URL": url, "REDIS_URL": redis_server.url, "APP_ENV": "test",
           "OUTGOING_WEBHOOKS_ALLOW_PRIVATE": "true", "LOG_LEVEL": "INFO"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    workers: list[WorkerProcess] = []
    try:
        admin = type("Admin", (), {"id": None, "role": "admin", "email": "root@example.com"})()
        with session_scope() as session:
            endpoint = service.create_endpoint(session=session, actor=admin, url=receiver.url,
                                               events=["ticket.created"])
            customer = create_customer(session=session, customer_in=CustomerIn(name="Grace Hopper",
                                                                               phone="+12125550199"))
        for i in range(EVENTS):  # each in its own transaction, each kicks the sender after its commit
            with session_scope() as session:
                create_ticket(session=session, title=f"Ticket {i}", customer_id=customer.id)

        workers.append(WorkerProcess(url, redis_server.url, **env))
        _wait(lambda: bool(_attempted(url)), 30, "a first (failed) attempt", workers[0])
        time.sleep(2)
        receiver.start()  # back up; the head event is retried 10 s after its first attempt
        _wait(lambda: len(receiver.snapshot()) >= 15, 60, "deliveries after the receiver came back", workers[0])
        workers[0].kill()  # SIGKILL mid-delivery: its lease, its job and one request in flight are lost
        in_flight_at_kill = len(receiver.snapshot())
        assert in_flight_at_kill < EVENTS, "the worker was killed before it finished"

        workers.append(WorkerProcess(url, redis_server.url, **env))  # takes over the dead worker's lease
        _wait(lambda: _delivered(url) == EVENTS, 90, "every event delivered", workers[1])

        with session_scope() as session:
            ids = [e.message_id for e in session.exec(select(OutgoingEvent).order_by(OutgoingEvent.id))]
        got = receiver.snapshot()
        hook = Webhook(endpoint.secret)
        bodies = [hook.verify(r.body, r.headers) for r in got]  # every request is signed right
        arrivals = Counter(r.headers["webhook-id"] for r in got)
        assert set(arrivals) == set(ids), "nothing lost, nothing invented"
        assert sum(n - 1 for n in arrivals.values()) <= 2, f"at most the request in flight came twice: {arrivals}"
        first_seen = list(dict.fromkeys(r.headers["webhook-id"] for r in got))
        assert first_seen == ids, "in order"
        titles = list(dict.fromkeys(b["data"]["title"] for b in bodies))
        assert titles == [f"Ticket {i}" for i in range(EVENTS)]
        for body, request in zip(bodies, got):  # the same id always carries the same event
            assert body["data"]["title"] == f"Ticket {ids.index(request.headers['webhook-id'])}"
    finally:
        for worker in workers:
            worker.stop()
        receiver.stop()
        redis_server.remove()
        engine_for(url).dispose()
        get_settings.cache_clear()


def _attempted(url: str) -> int:
    with Session(engine_for(url)) as session:
        return len(session.exec(select(WebhookDelivery.id).where(WebhookDelivery.attempts > 0)).all())
