"""The backend's front door (api_app.mount_api): /api/* reaches the REST API, everything else goes straight
to Reflex's own app, and both pass through the same edge layers (request id, security headers and body
limits, metrics)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from starlette.websockets import WebSocket


async def fake_reflex(scope, receive, send):
    """Stands in for Reflex's app: answers what it was asked, so the test sees who answered."""
    if scope["type"] == "lifespan":
        while (message := await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["type"] == "websocket":
        socket = WebSocket(scope, receive, send)
        await socket.accept()
        await socket.send_text(f"reflex {scope['path']}")
        await socket.close()
        return
    body = f"reflex {scope['path']}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})


def backend():
    from navaia_app.api_app import create_api, mount_api

    return mount_api(create_api())(fake_reflex)


def test_api_paths_reach_the_rest_api_and_the_rest_reaches_reflex(app_env):
    with TestClient(backend()) as client:
        health = client.get("/api/health")
        assert health.headers["content-type"].startswith("application/json")
        assert "status" in health.json()
        assert client.get("/api/no-such-route").status_code == 404  # the API's 404, not Reflex's page
        for path in ("/ping", "/customers", "/_upload", "/apis-are-not-the-api"):
            response = client.get(path)
            assert (response.status_code, response.text) == (200, f"reflex {path}")
        with client.websocket_connect("/_event") as socket:
            assert socket.receive_text() == "reflex /_event"


def test_reflex_routes_carry_the_same_edge_layers(app_env):
    with TestClient(backend()) as client:
        response = client.get("/ping", headers={"X-Request-ID": "abc123"})
        assert response.headers["x-request-id"] == "abc123"
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert client.get("/customers").headers["x-request-id"]  # a fresh id when none was sent
        too_big = client.post("/_upload", content=b"x" * (20 * 1024 * 1024 + 1))
        assert too_big.status_code == 413


def test_reflex_routes_are_counted_in_the_metrics(app_env):
    from navaia_app.system.metrics import REQUESTS

    def pings() -> float:
        return REQUESTS.labels("GET", "(pages)", "200")._value.get()

    before = pings()
    with TestClient(backend()) as client:
        client.get("/dashboard")
    assert pings() == before + 1


def test_the_api_docs_oauth_redirect_lives_under_api(app_env):
    with TestClient(backend()) as client:
        assert client.get("/api/docs/oauth2-redirect").status_code == 200
