"""Reminders on real Redis with a real RQ worker (`python -m navaia_app.cli worker`): the worker is killed
with SIGKILL while reminder texts are going out, then started again; every customer gets exactly one text.

The texts go through the official `twilio` library to a Twilio Messaging stand-in in this process, which
counts every message it is asked to send (per number) and can list them (what recovery asks after a crash)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import Session, func, select

from navaia_app.bookings import service as bookings
from navaia_app.core.db import engine_for
from navaia_app.core.migrations import upgrade_database
from navaia_app.core.settings import get_settings
from navaia_app.core.types import utcnow
from navaia_app.customers.models import Customer
from navaia_app.reminders import service
from navaia_app.reminders.models import BookingReminder
from tests.support.servers import OwnRedis, free_port
from tests.support.workers import start_worker, stop_worker, wait_until

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT_SID = "AC" + "2" * 32
AUTH_TOKEN = "reminder-crash-token-0123456789"
CUSTOMERS = 80

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")


class MessagingStandIn:
    """Twilio's Messages resource: POST creates (slowly, like a real API), GET lists what was sent."""

    def __init__(self):
        self.sent: list[dict[str, str]] = []
        self.lock = threading.Lock()
        server = ThreadingHTTPServer(("127.0.0.1", free_port()), self._handler())
        self.server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def per_number(self) -> dict[str, int]:
        with self.lock:
            counts: dict[str, int] = {}
            for message in self.sent:
                counts[message["to"]] = counts.get(message["to"], 0) + 1
            return counts

    def _handler(self):
        standin = self
        path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode())
                if urlsplit(self.path).path != path:
                    return self._json(404, {"message": "not here"})
                time.sleep(0.08)  # a real API takes a while: the kill lands among the sends
                message = {"sid": "SM" + uuid.uuid4().hex, "to": form["To"][0], "from": form["From"][0],
                           "body": form["Body"][0], "status": "queued", "account_sid": ACCOUNT_SID}
                with standin.lock:
                    standin.sent.append(message)
                return self._json(201, message)

            def do_GET(self):
                parts = urlsplit(self.path)
                if parts.path != path:
                    return self._json(404, {"message": "not here"})
                to = parse_qs(parts.query).get("To", [None])[0]
                with standin.lock:
                    found = [m for m in standin.sent if to is None or m["to"] == to]
                return self._json(200, {"messages": found, "next_page_uri": None, "page": 0, "page_size": 50,
                                        "uri": path, "first_page_uri": path})

        return Handler


@pytest.fixture
def crash_env(tmp_path, monkeypatch):
    redis_server = OwnRedis()
    redis_server.start()
    standin = MessagingStandIn()
    url = f"sqlite:///{tmp_path / 'reminders.db'}"
    upgrade_database(url)
    engine_for(url).dispose()
    env = {"DATABASE_URL": url, "REDIS_URL": redis_server.url, "APP_ENV": "test", "TELEPHONY_PROVIDER": "simulated",
           "SMS_PROVIDER": "twilio", "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
           "TWILIO_FROM_NUMBER": "+12125550100", "TWILIO_API_BASE_URL": standin.url,
           "REMINDERS_EVERY_SECONDS": "2", "REMINDERS_STUCK_SECONDS": "3", "BUSINESS_HOURS": "daily 00:00-24:00",
           "LOG_LEVEL": "INFO", "ELEVENLABS_WEBHOOK_SECRET": "", "ELEVENLABS_SYNC_SECONDS": "0"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield url, standin, {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    standin.server.shutdown()
    redis_server.remove()
    engine_for(url).dispose()
    get_settings.cache_clear()


def _book_everyone(url: str) -> None:
    """Customers whose bookings start in an hour: their reminder text is due at once."""
    with Session(engine_for(url)) as session:
        service.update_reminder_settings(session=session, actor=None, changes={
            "enabled": True, "call_lead_minutes": None, "sms_lead_minutes": 120, "window_start": "00:00",
            "window_end": "23:59"})
        starts = utcnow().replace(second=0, microsecond=0) + timedelta(hours=1)
        for i in range(CUSTOMERS):
            customer = Customer(name=f"Customer {i}", phone=f"+1212555{i:04d}", timezone="UTC")
            session.add(customer)
            session.flush()
            bookings.create_booking(session=session, customer_id=customer.id, service="Check-up",
                                    starts_at=starts, resource=f"room-{i}", enforce_schedule=False)
        session.commit()


def _count(url: str, status: str) -> int:
    with Session(engine_for(url)) as session:
        return session.exec(select(func.count()).select_from(BookingReminder)
                            .where(BookingReminder.status == status)).one()


def test_worker_killed_while_reminders_are_due_reminds_each_customer_exactly_once(crash_env, tmp_path):
    url, standin, env = crash_env
    log = tmp_path / "worker.log"
    _book_everyone(url)
    assert _count(url, "planned") == CUSTOMERS
    worker = start_worker(env, log)
    try:
        wait_until(lambda: len(standin.sent) >= 15, 120, "15 texts sent", log)
        os.killpg(worker.pid, signal.SIGKILL)  # the worker, its scheduler and the job sending the texts
        worker.wait()
        at_kill = len(standin.sent)
        assert at_kill < CUSTOMERS, "the texts must still be going out when the worker dies"
        time.sleep(1)
        worker = start_worker(env, log)
        wait_until(lambda: _count(url, "sent") == CUSTOMERS, 180, "every reminder sent", log)
    finally:
        stop_worker(worker)
    counts = standin.per_number()
    assert len(counts) == CUSTOMERS, "every customer got a text"
    assert max(counts.values()) == 1, f"nobody got two: {[n for n, c in counts.items() if c > 1]}"
    with Session(engine_for(url)) as session:
        rows = session.exec(select(BookingReminder)).all()
        assert all(r.provider_ref and r.provider_ref.startswith("SM") for r in rows)
        assert len({r.provider_ref for r in rows}) == CUSTOMERS
        assert all(r.status == "sent" for r in rows)
