"""Ticket and booking actions from the pages record the person the session belongs to, not the
`user_id` the page state happens to hold (it is state the browser tab carries, set at page load:
another account signed in since, in the same browser, is the one acting)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.support import pagestate


def _tab_of(agent, stale_user_id: int, cls):
    root = pagestate.signed_in(agent)
    state = pagestate.substate(root, cls)
    state.user_id = stale_user_id  # what the page loaded for someone else
    return state


def test_ticket_actions_record_the_signed_in_person(session, make_user):
    from navaia_app.tickets import service
    from navaia_app.tickets.state import TicketsState

    admin = make_user(email="admin@example.com", role="admin")
    agent = make_user(email="agent@example.com", role="agent")
    ticket = service.create_ticket(session=session, title="Leaking tap")
    session.commit()
    state = _tab_of(agent, admin.id, TicketsState)
    pagestate.run(state, "load")

    assert [r.id for r in state.rows] == [ticket.id]
    pagestate.run(state, "change_status", ticket.id, "in_progress")
    state.detail.id = ticket.id
    pagestate.run(state, "add_comment", {"body": "On my way."})
    pagestate.run(state, "save_new", {"title": "Broken window", "description": "", "priority": "high"})

    with pagestate_session() as db:
        entries = [(v.entry.kind, v.entry.actor_id) for v in service.ticket_activity(session=db, ticket_id=ticket.id)]
        new = [t for t in service.list_tickets(session=db)[0] if t.title == "Broken window"]
        created = [(v.entry.kind, v.entry.actor_id) for v in service.ticket_activity(session=db, ticket_id=new[0].id)]
    assert ("status", agent.id) in entries and ("comment", agent.id) in entries
    assert created == [("created", agent.id)]
    assert all(actor_id != admin.id for _, actor_id in entries + created)


def test_booking_actions_record_the_signed_in_person(session, make_user):
    from navaia_app.bookings import service
    from navaia_app.bookings.state import BookingsState
    from navaia_app.customers.models import Customer

    admin = make_user(email="admin@example.com", role="admin")
    agent = make_user(email="agent@example.com", role="agent")
    customer = Customer(name="Ada Lovelace", phone="+14155550123")
    session.add(customer)
    session.commit()
    soon = (datetime.now(timezone.utc) + timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)
    booking = service.create_booking(session=session, customer_id=customer.id, service="Consultation",
                                     starts_at=soon, enforce_schedule=False)
    session.commit()
    state = _tab_of(agent, admin.id, BookingsState)
    state.view = "list"
    pagestate.run(state, "load")
    assert [r.id for r in state.rows] == [booking.id]

    pagestate.run(state, "change_status", booking.id, "confirmed")

    with pagestate_session() as db:
        entries = [(v.entry.kind, v.entry.actor_id) for v in service.booking_activity(session=db, booking_id=booking.id)]
    assert ("status", agent.id) in entries
    assert all(actor_id != admin.id for _, actor_id in entries)


def pagestate_session():
    from navaia_app.core.db import session_scope

    return session_scope()
