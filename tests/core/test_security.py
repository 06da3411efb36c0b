"""Hardening in front of every route: headers, body limits, rate limits, metrics access, secrets."""

from __future__ import annotations

import pytest

from navaia_app.core.settings import ConfigError, Settings


def test_every_response_carries_security_headers(api_client):
    response = api_client.get("/api/health")
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "strict-transport-security" not in response.headers  # only behind https


def test_hsts_when_the_public_origin_is_https(set_env, app_env):
    from fastapi.testclient import TestClient

    from navaia_app.api_app import create_api

    set_env(PUBLIC_BASE_URL="https://navaia.example.com")
    with TestClient(create_api()) as client:
        assert "max-age=" in client.get("/api/health").headers["strict-transport-security"]


def test_oversized_body_is_refused_before_it_is_read(api_client, auth_headers, session):
    from sqlmodel import func, select

    from navaia_app.customers.models import Customer

    response = api_client.post("/api/v1/customers", headers={**auth_headers, "content-type": "application/json"},
                               content=b" " * (2 * 1024 * 1024 + 1))
    assert response.status_code == 413
    assert "larger than 2 MB" in response.json()["detail"]

    def chunks():  # no Content-Length: counted while streaming
        for _ in range(3):
            yield b" " * (1024 * 1024)

    response = api_client.post("/api/v1/customers", headers={**auth_headers, "content-type": "application/json"},
                               content=chunks())
    assert response.status_code == 413
    assert session.exec(select(func.count()).select_from(Customer)).one() == 0


def test_an_unreadable_content_length_is_no_undocumented_error(api_client, auth_headers):
    # Schemathesis sends an empty Content-Length; the route answers as documented, not with a bare 400.
    response = api_client.get("/api/v1/customers", headers={**auth_headers, "content-length": ""})
    assert response.status_code == 200


def test_token_route_is_rate_limited_per_client(api_client):
    codes = [api_client.post("/api/v1/auth/token", json={"email": f"u{i}@example.com", "password": "whatever1"})
             .status_code for i in range(14)]
    # Distinct accounts, so the per-account lock never trips: the per-client bucket does (burst of 10).
    assert codes[:10] == [401] * 10
    assert 429 in codes[10:]
    limited = api_client.post("/api/v1/auth/token", json={"email": "x@example.com", "password": "whatever1"})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1


def test_metrics_need_a_token_and_show_routes(api_client, set_env, make_user, login):
    assert api_client.get("/api/metrics").status_code == 401
    agent = make_user(email="agent@example.com", role="agent")
    assert api_client.get("/api/metrics", headers=login(agent.email)).status_code == 401
    admin = make_user(email="boss@example.com", role="admin")
    response = api_client.get("/api/metrics", headers=login(admin.email))
    assert response.status_code == 200
    assert "navaia_http_requests_total" in response.text
    assert "navaia_webhook_events" in response.text and "navaia_redis_up" in response.text


def test_metrics_token_setting(set_env, app_env):
    from fastapi.testclient import TestClient

    from navaia_app.api_app import create_api

    set_env(METRICS_TOKEN="scrape-me-0123456789")
    with TestClient(create_api()) as client:
        assert client.get("/api/metrics", headers={"Authorization": "Bearer scrape-me-0123456789"}).status_code == 200
        assert client.get("/api/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_secrets_can_come_from_mounted_files(tmp_path, monkeypatch):
    secret = tmp_path / "secret_key"
    secret.write_text("from-a-file-" + "x" * 40 + "\n")
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("SECRET_KEY_FILE", str(secret))
    assert Settings().secret_key == "from-a-file-" + "x" * 40
    monkeypatch.setenv("SECRET_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="SECRET_KEY_FILE"):
        Settings()


@pytest.mark.parametrize(("overrides", "message"), [
    ({"secret_key": "short"}, "SECRET_KEY"),
    ({"database_url": "sqlite:///navaia.db"}, "PostgreSQL"),
    ({"allowed_origins": ""}, "ALLOWED_ORIGINS"),
    ({"allowed_origins": "*"}, "ALLOWED_ORIGINS"),
    ({"allowed_call_countries": ""}, "ALLOWED_CALL_COUNTRIES"),
    ({"public_base_url": "http://navaia.example.com"}, "PUBLIC_BASE_URL must be the https"),
    ({"elevenlabs_webhook_secret": None}, "ELEVENLABS_WEBHOOK_SECRET"),
    ({"elevenlabs_webhook_secret": "secret"}, "ELEVENLABS_WEBHOOK_SECRET"),
    ({"agent_tools_secret": None}, "AGENT_TOOLS_SECRET"),
    ({"agent_tools_secret": "short"}, "AGENT_TOOLS_SECRET"),
    ({"test_clock_file": "/tmp/clock"}, "TEST_CLOCK_FILE"),
])
def test_production_refuses_unsafe_configuration(overrides, message):
    good = {"app_env": "prod", "secret_key": "k" * 48, "database_url": "postgresql+psycopg://u@h/db",
            "allowed_origins": "https://navaia.example.com", "allowed_call_countries": "US,CA",
            "public_base_url": "https://navaia.example.com", "elevenlabs_webhook_secret": "w" * 32,
            "agent_tools_secret": "t" * 32}
    Settings(**good).check_production()  # the good one passes
    with pytest.raises(ConfigError, match=message):
        Settings(**{**good, **overrides}).check_production()


def test_allowed_call_countries_are_iso_codes():
    assert Settings(allowed_call_countries=" us, ca,US ").call_countries == frozenset({"US", "CA"})
    assert Settings(allowed_call_countries="").call_countries is None  # every country (dev and test)
    with pytest.raises(ValueError, match="XX"):
        Settings(allowed_call_countries="US,XX")


@pytest.mark.parametrize("app_env", ["test", "dev", "prod", None])
def test_the_test_clock_moves_now_only_under_app_env_test(app_env, tmp_path, monkeypatch):
    """TEST_CLOCK_FILE (seconds added to the clock, for browser tests) is honoured with APP_ENV=test only."""
    from datetime import datetime, timedelta, timezone

    from navaia_app.core.types import utcnow

    clock = tmp_path / "clock"
    monkeypatch.setenv("TEST_CLOCK_FILE", str(clock))
    if app_env is None:
        monkeypatch.delenv("APP_ENV", raising=False)
    else:
        monkeypatch.setenv("APP_ENV", app_env)
    moved = timedelta(days=1) if app_env == "test" else timedelta(0)
    assert abs(utcnow() - datetime.now(timezone.utc)) < timedelta(seconds=5)  # no file yet: the real time
    clock.write_text("86400")
    assert abs(utcnow() - datetime.now(timezone.utc) - moved) < timedelta(seconds=5)
    import os

    clock.write_text("not a number")
    os.utime(clock, ns=(1, 1))  # a new stamp even within the file system's clock resolution
    assert abs(utcnow() - datetime.now(timezone.utc)) < timedelta(seconds=5)
