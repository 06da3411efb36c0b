"""Fixtures of the call-automation tests: signed webhooks, samples, and servers of our own to break."""

from __future__ import annotations

import copy
import json
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from navaia_app.core.signing import sign_elevenlabs as sign
from tests.support.servers import OwnRedis, free_port  # noqa: F401 - free_port is used by test modules

SAMPLES = Path(__file__).parent / "samples"  # copies of shared/samples (the contract's examples)
SECRET = "whsec_test_3f9a1c"
TOOLS_SECRET = "tools_test_7b2e"
DEAD_REDIS_URL = "redis://127.0.0.1:6390/0"  # nothing listens there
WEBHOOK = "/api/webhooks/elevenlabs"


def sample(name: str) -> dict:
    return copy.deepcopy(json.loads((SAMPLES / f"{name}.json").read_text()))


def future_day(days: int = 7, weekday: int | None = 1) -> date:
    """A day `days` or more ahead (on `weekday`, 0 = Monday, when given): bookings refuse the past."""
    day = date.today() + timedelta(days=days)
    if weekday is not None:
        day += timedelta(days=(weekday - day.weekday()) % 7)
    return day


def local_time(day: date, hour: int, minute: int = 0) -> str:
    """A naive ISO 8601 date and time (what an agent often collects)."""
    return datetime(day.year, day.month, day.day, hour, minute).isoformat()


def booking_call(conversation_id: str, *, when: str, service: str = "Dental cleaning", phone: str | None = None,
                 **slots) -> dict:
    doc = sample("post_call_book_appointment")
    doc["data"]["conversation_id"] = conversation_id
    results = doc["data"]["analysis"]["data_collection_results"]
    results["appointment_datetime"] = {"value": when}
    results["service"] = {"value": service}
    if phone is not None:
        doc["data"]["metadata"]["phone_call"]["external_number"] = phone
        doc["data"]["conversation_initiation_client_data"]["dynamic_variables"]["system__caller_id"] = phone
    for key, value in slots.items():
        if value is None:
            results.pop(key, None)
        else:
            results[key] = {"value": value}
    return doc


def ticket_call(conversation_id: str, **slots) -> dict:
    doc = sample("post_call_raise_ticket")
    doc["data"]["conversation_id"] = conversation_id
    doc["data"]["conversation_initiation_client_data"]["dynamic_variables"] = {}
    results = doc["data"]["analysis"]["data_collection_results"]
    for key, value in slots.items():
        if value is None:
            results.pop(key, None)
        else:
            results[key] = {"value": value}
    return doc


def signed_headers(body: bytes, *, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    return {"ElevenLabs-Signature": sign(body, secret, timestamp or int(time.time())),
            "Content-Type": "application/json"}


@pytest.fixture
def call_env(app_env, set_env, tmp_path):
    """Secrets set, recordings in a temporary folder, Redis pointing nowhere (tests run the jobs inline),
    opening hours every day 08:00-20:00 in UTC unless a test says otherwise."""
    set_env(ELEVENLABS_WEBHOOK_SECRET=SECRET, AGENT_TOOLS_SECRET=TOOLS_SECRET, MEDIA_DIR=str(tmp_path / "media"),
            REDIS_URL=DEAD_REDIS_URL, BUSINESS_HOURS="mon-sun 08:00-20:00", BOOKING_SLOT_MINUTES="30")
    from navaia_app.core.settings import get_settings

    return get_settings()


@pytest.fixture
def post_webhook(api_client, call_env) -> Callable[..., object]:
    """post_webhook(doc or bytes, secret=..., timestamp=..., headers=...) -> the response."""

    def _post(doc, *, secret: str = SECRET, timestamp: int | None = None, headers: dict | None = None):
        body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
        sent = signed_headers(body, secret=secret, timestamp=timestamp) if headers is None else headers
        return api_client.post(WEBHOOK, content=body, headers=sent)

    return _post


@pytest.fixture
def deliver(post_webhook) -> Callable[[dict], int]:
    """Send a signed webhook and run its job at once, as the worker would; returns the inbox row id."""
    from navaia_app.jobs.tasks import process_webhook_event

    def _deliver(doc: dict) -> int:
        response = post_webhook(doc)
        assert response.status_code == 200, response.text
        event_id = response.json()["event_id"]
        assert process_webhook_event(event_id) == "processed"
        return event_id

    return _deliver


# --- servers of our own, to stop and start (tests/support/servers.py) ---------------------------

RedisServer = OwnRedis  # a redis-server on a port of its own (never the shared one), in memory only


@pytest.fixture
def own_redis(monkeypatch) -> Iterator[OwnRedis]:
    """A private Redis that REDIS_URL points at (here and in subprocesses); stopped afterwards."""
    from navaia_app.core.settings import get_settings

    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = OwnRedis()
    server.start()
    monkeypatch.setenv("REDIS_URL", server.url)
    get_settings.cache_clear()
    yield server
    server.remove()
    get_settings.cache_clear()
