"""Outgoing webhooks through the services, on SQLite and PostgreSQL: the outbox is written with the change,
deliveries are signed (verified here with the `standardwebhooks` package), in order, retried, and paused."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select
from standardwebhooks import Webhook

from navaia_app.core.db import session_scope
from navaia_app.core.errors import PermissionDenied, ValidationFailed
from navaia_app.webhooks_out import service
from navaia_app.webhooks_out.models import OutgoingEvent, WebhookDelivery, WebhookDeliveryAttempt, WebhookEndpoint
from navaia_app.tickets.service import create_ticket, update_ticket

ALL = ["booking.created", "booking.updated", "booking.cancelled", "ticket.created", "ticket.updated"]


def _endpoint(admin, url, events=ALL) -> WebhookEndpoint:
    with session_scope() as session:
        return service.create_endpoint(session=session, actor=admin, url=url, events=events, description="CRM")


def _verified(endpoint: WebhookEndpoint, received) -> list[dict]:
    hook = Webhook(endpoint.secret)
    return [hook.verify(r.body, r.headers) for r in received]


def _pending(endpoint_id: int) -> list[WebhookDelivery]:
    with session_scope() as session:
        return list(session.exec(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
                                 .order_by(WebhookDelivery.event_id)))


def test_secret_is_standard_and_internal_addresses_are_refused(hooks_env, admin, set_env):
    endpoint = _endpoint(admin, "http://127.0.0.1:9/hooks")
    assert endpoint.secret.startswith("whsec_") and len(endpoint.secret) > 40
    Webhook(endpoint.secret)  # the package accepts it
    set_env(OUTGOING_WEBHOOKS_ALLOW_PRIVATE="false")
    for url in ("http://127.0.0.1/x", "http://localhost:8000/x", "http://10.0.0.5/x", "http://169.254.169.254/latest",
                "http://[::1]/x", "http://192.168.1.1/x", "http://[::ffff:10.0.0.1]/x", "ftp://example.com/x",
                "http://user:pw@example.com/x", "not a url"):
        with pytest.raises(ValidationFailed) as caught, session_scope() as session:
            service.create_endpoint(session=session, actor=admin, url=url, events=["ticket.created"])
        assert caught.value.field == "url", url
    with pytest.raises(ValidationFailed), session_scope() as session:
        service.create_endpoint(session=session, actor=admin, url="http://8.8.8.8/x", events=["nope"])


def test_only_admins_manage_endpoints(hooks_env, make_user):
    agent = make_user(email="agent-hooks@example.com", role="agent")
    with pytest.raises(PermissionDenied), session_scope() as session:
        service.create_endpoint(session=session, actor=agent, url="http://127.0.0.1:9/x", events=["ticket.created"])


def test_events_are_written_with_the_change_and_not_without_it(hooks_env, admin, customer_id):
    endpoint = _endpoint(admin, "http://127.0.0.1:9/hooks", events=["ticket.created"])
    with pytest.raises(RuntimeError), session_scope() as session:
        create_ticket(session=session, title="Rolled back", customer_id=customer_id)
        raise RuntimeError("the unit of work fails after the change")
    with session_scope() as session:
        assert session.exec(select(OutgoingEvent)).all() == []
        ticket = create_ticket(session=session, title="Printer on fire", customer_id=customer_id)
    with session_scope() as session:
        update_ticket(session=session, ticket_id=ticket.id, patch={"status": "in_progress"})  # not subscribed
    with session_scope() as session:
        events = session.exec(select(OutgoingEvent)).all()
    assert [e.event_type for e in events] == ["ticket.created"]
    body = json.loads(events[0].payload)
    assert body["type"] == "ticket.created" and body["data"]["id"] == ticket.id and body["timestamp"]
    assert [d.status for d in _pending(endpoint.id)] == ["pending"]


def test_deliveries_are_signed_in_order_and_logged(hooks_env, admin, customer_id, receiver):
    from navaia_app.bookings.service import create_booking, update_booking

    endpoint = _endpoint(admin, receiver.url)
    starts = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=3)
    with session_scope() as session:
        ticket = create_ticket(session=session, title="Broken tap", customer_id=customer_id)
        booking = create_booking(session=session, customer_id=customer_id, service="Checkup", starts_at=starts,
                                 enforce_schedule=False)
    with session_scope() as session:
        update_ticket(session=session, ticket_id=ticket.id, patch={"priority": "high"})
        update_booking(session=session, booking_id=booking.id, patch={"status": "cancelled"},
                       enforce_schedule=False)

    report = service.run_endpoint(endpoint.id)
    assert report.delivered == 4 and report.failed_attempts == 0
    bodies = _verified(endpoint, receiver.snapshot())
    assert [(b["type"], b["data"]["id"]) for b in bodies] == [
        ("ticket.created", ticket.id), ("booking.created", booking.id), ("ticket.updated", ticket.id),
        ("booking.cancelled", booking.id)]
    assert bodies[3]["data"]["status"] == "cancelled"
    with session_scope() as session:
        ids = [e.message_id for e in session.exec(select(OutgoingEvent).order_by(OutgoingEvent.id))]
        attempts = session.exec(select(WebhookDeliveryAttempt)).all()
    assert [r.headers["webhook-id"] for r in receiver.snapshot()] == ids
    assert all(a.ok and a.status_code == 200 and a.latency_ms is not None and a.response_excerpt == "ok"
               for a in attempts)
    assert {d.status for d in _pending(endpoint.id)} == {"delivered"}


def test_a_failing_receiver_is_retried_with_the_same_id_then_the_endpoint_pauses(hooks_env, admin, customer_id,
                                                                                    receiver):
    endpoint = _endpoint(admin, receiver.url, events=["ticket.created"])
    with session_scope() as session:
        first = create_ticket(session=session, title="First", customer_id=customer_id)
        create_ticket(session=session, title="Second", customer_id=customer_id)
    receiver.status = 500
    t0 = datetime.now(timezone.utc)
    service.run_endpoint(endpoint.id)
    head, second = _pending(endpoint.id)
    assert head.attempts == 1 and head.status == "pending" and second.attempts == 0  # in order: the second waits
    assert head.next_attempt_at - t0 < timedelta(seconds=15)
    # the contract: the first three attempts within three minutes
    assert sum(service.RETRY_DELAYS[:2]) < 180
    assert sum(service.RETRY_DELAYS) > 20 * 3600  # retried over about a day

    for _ in range(service.MAX_ATTEMPTS - 1):  # let every retry come due at once
        with session_scope() as session:
            session.get(WebhookDelivery, head.id).next_attempt_at = t0
        service.run_endpoint(endpoint.id)
    head, second = _pending(endpoint.id)
    assert head.status == "failed" and head.attempts == service.MAX_ATTEMPTS and second.status == "pending"
    with session_scope() as session:
        paused = session.get(WebhookEndpoint, endpoint.id)
    assert paused.status == "paused" and "failed 9 times" in paused.paused_reason
    ids = {r.headers["webhook-id"] for r in receiver.snapshot()}
    assert len(ids) == 1 and len(receiver.snapshot()) == service.MAX_ATTEMPTS  # the same id every time

    receiver.status = 200
    with session_scope() as session:
        service.resend_delivery(session=session, actor=admin, endpoint_id=endpoint.id, delivery_id=head.id)
        service.resume_endpoint(session=session, actor=admin, endpoint_id=endpoint.id)
    service.run_endpoint(endpoint.id)
    assert [d.status for d in _pending(endpoint.id)] == ["delivered", "delivered"]
    bodies = _verified(endpoint, receiver.snapshot()[-2:])
    assert [b["data"]["title"] for b in bodies] == ["First", "Second"] and bodies[0]["data"]["id"] == first.id


def test_the_address_is_checked_again_at_delivery(hooks_env, admin, customer_id, receiver, set_env):
    endpoint = _endpoint(admin, receiver.url, events=["ticket.created"])
    with session_scope() as session:
        create_ticket(session=session, title="Sneaky", customer_id=customer_id)
    set_env(OUTGOING_WEBHOOKS_ALLOW_PRIVATE="false")  # as if the name now pointed inside
    service.run_endpoint(endpoint.id)
    assert receiver.snapshot() == []
    with session_scope() as session:
        attempt = session.exec(select(WebhookDeliveryAttempt)).one()
    assert not attempt.ok and attempt.error.startswith("refused:") and "loopback" in attempt.error


def test_test_event_reaches_only_its_endpoint(hooks_env, admin, receiver):
    one, two = _endpoint(admin, receiver.url), _endpoint(admin, receiver.url)
    with session_scope() as session:
        event = service.send_test_event(session=session, actor=admin, endpoint_id=one.id)
    service.run_endpoint(one.id)
    service.run_endpoint(two.id)
    (body,) = _verified(one, receiver.snapshot())
    assert body["type"] == "endpoint.test" and receiver.snapshot()[0].headers["webhook-id"] == event.message_id


def test_a_sender_killed_mid_delivery_leaves_the_lease_to_the_next(hooks_env, admin):
    endpoint = _endpoint(admin, "http://127.0.0.1:9/hooks")
    assert service.take_lease(endpoint.id, "webhooks:elsewhere:1:x")
    assert not service.take_lease(endpoint.id, "webhooks:elsewhere:2:y")  # a live lease elsewhere: wait
    from navaia_app.core import leases

    dead = f"webhooks:{leases.host()}:999999:z"  # a process of this machine that does not exist
    service.release_lease(endpoint.id, "webhooks:elsewhere:1:x")
    assert service.take_lease(endpoint.id, dead)
    assert service.take_lease(endpoint.id, "webhooks:elsewhere:3:w")  # its holder died: taken over at once
