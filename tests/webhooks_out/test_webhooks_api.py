"""The webhook-endpoint routes over HTTP: admin-only, the secret shown once, bad input refused unchanged."""

from __future__ import annotations

from standardwebhooks import Webhook

from navaia_app.webhooks_out import service


def test_register_list_test_and_delete(hooks_env, api_client, auth_headers, receiver):
    created = api_client.post("/api/v1/webhook-endpoints", headers=auth_headers,
                              json={"url": receiver.url, "events": ["booking.created", "ticket.created"],
                                    "description": "CRM"})
    assert created.status_code == 201, created.text
    endpoint = created.json()
    assert endpoint["secret"].startswith("whsec_") and endpoint["status"] == "active"

    listed = api_client.get("/api/v1/webhook-endpoints", headers=auth_headers).json()
    assert listed["total"] == 1 and "secret" not in listed["items"][0]  # shown once, never again
    assert "secret" not in api_client.get(f"/api/v1/webhook-endpoints/{endpoint['id']}", headers=auth_headers).json()

    queued = api_client.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/test", headers=auth_headers)
    assert queued.status_code == 202
    service.run_endpoint(endpoint["id"])
    (got,) = receiver.snapshot()
    body = Webhook(endpoint["secret"]).verify(got.body, got.headers)
    assert body["type"] == "endpoint.test" and got.headers["webhook-id"] == queued.json()["message_id"]

    log = api_client.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/attempts", headers=auth_headers).json()
    assert log["total"] == 1 and log["items"][0]["status_code"] == 200 and log["items"][0]["latency_ms"] >= 0
    deliveries = api_client.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries", headers=auth_headers)
    assert deliveries.json()["items"][0]["status"] == "delivered"

    assert api_client.delete(f"/api/v1/webhook-endpoints/{endpoint['id']}", headers=auth_headers).status_code == 204
    assert api_client.get("/api/v1/webhook-endpoints", headers=auth_headers).json()["total"] == 0


def test_bad_input_is_refused_and_nothing_is_written(hooks_env, api_client, auth_headers, set_env):
    set_env(OUTGOING_WEBHOOKS_ALLOW_PRIVATE="false")
    for body in ({"url": "http://127.0.0.1:8000/x", "events": ["ticket.created"]},
                 {"url": "http://169.254.169.254/", "events": ["ticket.created"]},
                 {"url": "https://example.com/x", "events": ["ticket.exploded"]},
                 {"url": "https://example.com/x", "events": []},
                 {"url": "https://example.com/x"}):
        answer = api_client.post("/api/v1/webhook-endpoints", headers=auth_headers, json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["detail"]
    assert api_client.get("/api/v1/webhook-endpoints", headers=auth_headers).json()["total"] == 0


def test_agents_get_403(hooks_env, api_client, make_user, login):
    agent = make_user(email="agent-api@example.com", role="agent")
    headers = login(agent.email)
    assert api_client.get("/api/v1/webhook-endpoints", headers=headers).status_code == 403
    answer = api_client.post("/api/v1/webhook-endpoints", headers=headers,
                             json={"url": "http://127.0.0.1:9/x", "events": ["ticket.created"]})
    assert answer.status_code == 403
