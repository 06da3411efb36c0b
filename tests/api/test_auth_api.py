"""The REST API's authentication, through HTTP: every /api/v1 route needs a bearer token."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from navaia_app.auth import service as auth_service
from navaia_app.auth.models import AuthSession, LoginThrottle
from navaia_app.api_app import create_api
from navaia_app.core.types import utcnow
from tests.conftest import DEFAULT_PASSWORD

PUBLIC_V1 = {"/api/v1/auth/token"}
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def _v1_operations() -> list[tuple[str, str]]:
    """Every (method, path) of /api/v1 in the OpenAPI schema, whoever added the route."""
    schema = create_api().openapi()
    return sorted(
        (method.upper(), path)
        for path, item in schema["paths"].items()
        if path.startswith("/api/v1/") and path not in PUBLIC_V1
        for method in item
        if method in HTTP_METHODS
    )


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_the_schema_lists_the_protected_routes():
    operations = _v1_operations()
    assert ("GET", "/api/v1/customers") in operations
    assert ("GET", "/api/v1/auth/me") in operations
    assert ("POST", "/api/v1/auth/logout") in operations


@pytest.mark.parametrize(("method", "path"), _v1_operations())
def test_every_v1_route_answers_401_without_a_valid_token(api_client, auth_headers, method, path):
    url = _concrete(path)
    for headers in ({}, {"Authorization": "Bearer not-a-real-token"}, {"Authorization": "Basic YTpi"},
                    {"Authorization": auth_headers["Authorization"].replace("Bearer ", "Bearer x")}):
        response = api_client.request(method, url, headers=headers)
        assert response.status_code == 401, (method, url, headers, response.text)
        assert isinstance(response.json()["detail"], str) and response.json()["detail"]
        assert response.headers["www-authenticate"] == "Bearer"


def test_token_issue_answers_exactly_the_contract_shape(api_client, make_user):
    make_user(email="ada@example.com")
    response = api_client.post("/api/v1/auth/token", json={"email": "Ada@Example.com", "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type"}
    assert body["token_type"] == "bearer"
    assert isinstance(body["access_token"], str) and len(body["access_token"]) >= 40

    me = api_client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json() == {"id": me.json()["id"], "email": "ada@example.com", "name": "Test User", "role": "admin"}


def test_token_is_stored_hashed(api_client, make_user, session):
    make_user(email="ada@example.com")
    token = api_client.post("/api/v1/auth/token",
                            json={"email": "ada@example.com", "password": DEFAULT_PASSWORD}).json()["access_token"]
    rows = session.exec(select(AuthSession)).all()
    assert [(r.kind, r.token_hash == auth_service._token_hash(token)) for r in rows] == [("api", True)]


@pytest.mark.parametrize("credentials", [
    {"email": "ada@example.com", "password": "wrong password 1"},
    {"email": "nobody@example.com", "password": DEFAULT_PASSWORD},
    {"email": "", "password": ""},
])
def test_bad_credentials_answer_401_with_the_generic_detail(api_client, make_user, credentials):
    make_user(email="ada@example.com")
    response = api_client.post("/api/v1/auth/token", json=credentials)
    assert response.status_code == 401
    assert response.json()["detail"] == auth_service.GENERIC_LOGIN_ERROR
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("body", "detail"), [
    ('{"email": "ada@example.com", "password": ', "The request body is not valid JSON."),
    ("", "The request body is required."),
    ("[1, 2]", "The request body must be a JSON object."),
    ('{"email": "ada@example.com"}', "password: Field required"),
])
def test_malformed_token_requests_answer_422_with_a_clear_detail(api_client, body, detail):
    response = api_client.post("/api/v1/auth/token", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"] == detail


def test_repeated_failures_are_throttled_with_retry_after(api_client, make_user, session):
    make_user(email="ada@example.com")
    for _ in range(5):
        assert api_client.post("/api/v1/auth/token",
                               json={"email": "ada@example.com", "password": "wrong password 1"}).status_code == 401
    response = api_client.post("/api/v1/auth/token", json={"email": "ada@example.com", "password": DEFAULT_PASSWORD})
    assert response.status_code == 429
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 300
    assert "Too many" in response.json()["detail"]
    assert session.get(LoginThrottle, "acct:ada@example.com").failures == 5

    # Once the lock has passed (moved back in time here), the right password works again.
    session.exec(sa.update(LoginThrottle).values(locked_until=utcnow() - timedelta(seconds=1)))
    session.commit()
    response = api_client.post("/api/v1/auth/token", json={"email": "ada@example.com", "password": DEFAULT_PASSWORD})
    assert response.status_code == 200


def test_expired_token_answers_401(api_client, auth_headers, session):
    assert api_client.get("/api/v1/auth/me", headers=auth_headers).status_code == 200
    session.exec(sa.update(AuthSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    response = api_client.get("/api/v1/auth/me", headers=auth_headers)
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_logout_revokes_only_that_token(api_client, make_user, login, session):
    user = make_user(email="ada@example.com")
    first, second = login(user.email), login(user.email)
    response = api_client.post("/api/v1/auth/logout", headers=first)
    assert response.status_code == 204
    assert api_client.get("/api/v1/auth/me", headers=first).status_code == 401
    assert api_client.get("/api/v1/customers", headers=first).status_code == 401
    assert api_client.get("/api/v1/auth/me", headers=second).status_code == 200
    session.expire_all()
    assert sorted(r.revoked_at is None for r in session.exec(select(AuthSession)).all()) == [False, True]


def test_deactivated_users_token_stops_working(api_client, make_user, login):
    admin = make_user(email="boss@example.com", role="admin")
    agent = make_user(email="ada@example.com", role="agent")
    headers = login(agent.email)
    assert api_client.get("/api/v1/auth/me", headers=headers).json()["role"] == "agent"
    from navaia_app.core.db import session_scope

    with session_scope() as db:
        auth_service.update_user(session=db, actor=admin, user_id=agent.id, is_active=False)
    assert api_client.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_request_id_is_echoed(api_client):
    response = api_client.get("/api/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    generated = api_client.get("/api/health", headers={"X-Request-ID": "bad id;"}).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
