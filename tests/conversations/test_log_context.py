"""Log lines carry the ids of what they are about: request, user, job, webhook event, conversation,
customer, campaign and call (issue: observability). Asserted on what structlog really emits."""

from __future__ import annotations

import structlog
from structlog.contextvars import merge_contextvars
from structlog.testing import capture_logs

from .conftest import ticket_call


def test_a_webhook_job_logs_its_event_conversation_and_customer_then_forgets_them(post_webhook):
    from navaia_app.jobs.tasks import process_webhook_event

    response = post_webhook(ticket_call("conv_log_ctx_1"))
    assert response.status_code == 200
    event_id = response.json()["event_id"]
    with capture_logs(processors=[merge_contextvars]) as lines:
        assert process_webhook_event(event_id) == "processed"
    recorded = next(line for line in lines if line["event"] == "conversation.recorded")
    created = next(line for line in lines if line["event"] == "ticket.created")
    for line in (recorded, created):
        assert line["webhook_event_id"] == event_id
        assert line["conversation_id"] == recorded["conversation_id"] is not None
        assert line["customer_id"] == recorded["customer_id"] is not None
    # the next job starts clean: nothing of this one is left in the context
    left = structlog.contextvars.get_contextvars()
    assert not {"webhook_event_id", "conversation_id", "customer_id"} & set(left)


def test_rest_requests_log_their_request_id_and_user(api_client, auth_headers):
    headers = {**auth_headers, "X-Request-ID": "req-ctx-0001"}
    with capture_logs(processors=[merge_contextvars]) as lines:
        created = api_client.post("/api/v1/customers", headers=headers,
                                  json={"name": "Context Case", "phone": "+14155550188"})
    assert created.status_code == 201 and created.headers["X-Request-ID"] == "req-ctx-0001"
    line = next(line for line in lines if line["event"] == "customer.created")
    assert line["request_id"] == "req-ctx-0001" and isinstance(line["user_id"], int)


def test_a_job_queued_by_a_request_carries_its_request_and_user(monkeypatch):
    from navaia_app.core.logging import log_scope
    from navaia_app.core import queues

    seen = {}

    class FakeQueue:
        def enqueue(self, func_path, *args, **kwargs):
            seen.update(kwargs)
            return type("Job", (), {"id": "job-1"})()

    monkeypatch.setattr(queues, "get_queue", lambda name: FakeQueue())
    with log_scope(request_id="req-ctx-0002", user_id=7):
        queues.enqueue("navaia_app.jobs.tasks.sweep_webhook_inbox", job_id="x")
    assert seen["meta"] == {"request_id": "req-ctx-0002", "user_id": 7} and seen["job_id"] == "x"


def test_the_worker_binds_job_and_request_ids_around_each_job(monkeypatch):
    from rq.worker import BaseWorker

    from navaia_app.jobs.worker import NavaiaWorker

    inside = {}

    def fake_perform(self, job, queue, execution):
        inside.update(structlog.contextvars.get_contextvars())
        return True

    monkeypatch.setattr(BaseWorker, "perform_job", fake_perform)
    job = type("Job", (), {"id": "job-9", "func_name": "navaia_app.jobs.calls.run_dispatcher",
                           "meta": {"request_id": "req-ctx-0003", "user_id": 3}})()
    assert NavaiaWorker.perform_job(object.__new__(NavaiaWorker), job, None, None) is True
    assert inside == {**inside, "job_id": "job-9", "job": "run_dispatcher", "request_id": "req-ctx-0003",
                      "user_id": 3}
    assert "job_id" not in structlog.contextvars.get_contextvars()
