"""The voice agent's server tools and the conversation-initiation webhook, through HTTP."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
from sqlmodel import func, select

from navaia_app.bookings.models import Booking
from navaia_app.conversations.models import Conversation
from navaia_app.customers.models import Customer
from navaia_app.tickets.models import Ticket

from .conftest import TOOLS_SECRET, booking_call, future_day, local_time, ticket_call

HEADERS = {"X-Agent-Tools-Secret": TOOLS_SECRET}
TOOLS = ("lookup-customer", "check-availability", "book-appointment", "raise-ticket")


@pytest.fixture
def tools(api_client, call_env):
    def _call(tool: str, body: dict, headers: dict | None = None):
        return api_client.post(f"/api/tools/{tool}", json=body, headers=HEADERS if headers is None else headers)

    return _call


def _customer(session, **fields) -> Customer:
    fields.setdefault("name", "Maria Lopez")
    fields.setdefault("phone", "+14155550123")
    customer = Customer(**fields)
    session.add(customer)
    session.commit()
    return customer


def _count(session, model) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model)).one()


@pytest.mark.parametrize("tool", [*TOOLS, "../webhooks/elevenlabs/initiation"])
def test_tools_need_the_shared_secret(tools, tool):
    path = tool if not tool.startswith("..") else "lookup-customer"
    assert tools(path, {"phone": "+14155550123"}, headers={}).status_code == 401
    assert tools(path, {"phone": "+14155550123"}, headers={"X-Agent-Tools-Secret": "wrong"}).status_code == 401


def test_initiation_webhook_needs_the_secret(api_client, call_env):
    url = "/api/webhooks/elevenlabs/initiation"
    assert api_client.post(url, json={"caller_id": "+14155550123"}).status_code == 401
    assert api_client.post(url, json={"caller_id": "+14155550123"},
                           headers={"X-Agent-Tools-Secret": "nope"}).status_code == 401


def test_without_a_configured_secret_the_tools_answer_503(tools, set_env):
    set_env(AGENT_TOOLS_SECRET="")
    response = tools("lookup-customer", {"phone": "+14155550123"})
    assert response.status_code == 503 and "AGENT_TOOLS_SECRET" in response.json()["detail"]


def test_unknown_tool_is_404(tools):
    response = tools("delete-everything", {})
    assert response.status_code == 404 and "lookup-customer" in response.json()["detail"]


def test_lookup_customer_by_phone_written_differently(tools, session):
    customer = _customer(session, email="maria@example.com", timezone="America/New_York")
    from navaia_app.bookings import service as bookings
    from navaia_app.tickets import service as tickets

    tickets.create_ticket(session=session, title="Printer jams", customer_id=customer.id)
    day = future_day()
    bookings.create_booking(session=session, customer_id=customer.id, service="Cleaning",
                            starts_at=datetime(day.year, day.month, day.day, 15, tzinfo=timezone.utc))
    session.commit()
    answer = tools("lookup-customer", {"phone": "(415) 555-0123"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["found"] is True and body["customer"]["id"] == customer.id
    assert body["customer"]["timezone"] == "America/New_York"
    assert body["open_ticket_count"] == 1 and body["open_tickets"][0]["title"] == "Printer jams"
    assert body["next_booking"]["service"] == "Cleaning"
    assert body["next_booking"]["starts_at"].endswith(("-05:00", "-04:00"))
    assert "Maria Lopez" in body["message"] and "Cleaning" in body["message"]

    assert tools("lookup-customer", {"email": "MARIA@example.com"}).json()["customer"]["id"] == customer.id
    missing = tools("lookup-customer", {"phone": "+14155550999"}).json()
    assert missing["found"] is False and missing["message"]


def test_lookup_customer_needs_something_to_look_up(tools):
    response = tools("lookup-customer", {})
    assert response.status_code == 422 and response.json()["detail"]


@pytest.mark.parametrize("customer_id", [2**31, -1.89e225, "9" * 5000, "\u00b2"])
def test_a_customer_id_that_names_no_row_is_no_customer_id(tools, customer_id):
    # Found by tests/api/test_fuzz_openapi.py: huge ids were a 500 ("integer out of range" on PostgreSQL,
    # OverflowError on SQLite), and int("9" * 5000) or int("\u00b2") raised: the tools read them as no id.
    response = tools("lookup-customer", {"customer_id": customer_id})
    assert response.status_code == 422, response.text  # nothing left to look the caller up by
    response = tools("raise-ticket", {"issue_summary": "Printer jams", "customer_id": customer_id})
    assert response.status_code == 200, response.text


def test_check_availability_lists_free_times_and_checks_one(tools, session, set_env):
    set_env(BUSINESS_HOURS="mon-fri 09:00-12:00")
    customer = _customer(session)
    day = future_day(weekday=2)
    from navaia_app.bookings import service as bookings

    bookings.create_booking(session=session, customer_id=customer.id, service="Cleaning",
                            starts_at=datetime(day.year, day.month, day.day, 10, tzinfo=timezone.utc),
                            duration_minutes=60)
    session.commit()
    listed = tools("check-availability", {"date": day.isoformat(), "duration_minutes": 30}).json()
    hours = [s[11:16] for s in listed["slots"]]
    assert hours == ["09:00", "09:30", "11:00", "11:30"]
    assert listed["available"] is True and listed["timezone"] == "UTC" and "Free times" in listed["message"]

    taken = tools("check-availability", {"appointment_datetime": local_time(day, 10, 30)}).json()
    assert taken["available"] is False and "not available" in taken["message"]
    assert taken["slots"] and all(s[11:16] in ("09:00", "09:30", "11:00", "11:30") for s in taken["slots"])
    free = tools("check-availability", {"appointment_datetime": local_time(day, 11), "duration_minutes": "30"}).json()
    assert free["available"] is True and "is free" in free["message"]

    upcoming = tools("check-availability", {}).json()
    assert 0 < len(upcoming["slots"]) <= 8

    bad = tools("check-availability", {"date": "next week"})
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.json()["detail"]


def test_book_appointment_books_a_free_time_and_says_when_it_cannot(tools, session):
    day = future_day()
    body = {"service": "Dental cleaning", "appointment_datetime": local_time(day, 15),
            "customer_phone": "(415) 555-0123", "customer_name": "Maria Lopez",
            "customer_email": "maria@example.com", "duration_minutes": "45"}
    booked = tools("book-appointment", body).json()
    assert booked["booked"] is True and "Dental cleaning" in booked["message"]
    booking = session.get(Booking, booked["booking_id"])
    assert (booking.duration_minutes, booking.source, booking.starts_at) == (
        45, "ai_call", datetime(day.year, day.month, day.day, 15, tzinfo=timezone.utc))
    assert session.get(Customer, booking.customer_id).phone == "+14155550123"

    again = tools("book-appointment", body)
    assert again.status_code == 200
    assert again.json()["booked"] is False and "overlaps" in again.json()["message"]
    assert _count(session, Booking) == 1

    shapeless = tools("book-appointment", {"service": "Cleaning"})
    assert shapeless.status_code == 422 and "appointment_datetime" in shapeless.json()["detail"]
    unreadable = tools("book-appointment", {**body, "appointment_datetime": "tomorrow-ish"})
    assert unreadable.status_code == 422


def test_raise_ticket_opens_a_ticket(tools, session):
    customer = _customer(session)
    answer = tools("raise-ticket", {"issue_summary": "Router keeps rebooting", "priority": "critical",
                                    "customer_id": str(customer.id), "category": "repair"}).json()
    ticket = session.get(Ticket, answer["ticket_id"])
    assert answer["created"] is True and str(ticket.id) in answer["message"]
    assert (ticket.title, ticket.priority, ticket.customer_id, ticket.source, ticket.category) == (
        "Router keeps rebooting", "urgent", customer.id, "ai_call", "repair")
    assert tools("raise-ticket", {"priority": "low"}).status_code == 422


def test_what_a_tool_made_during_the_call_is_not_made_again_by_the_post_call_webhook(tools, deliver, session):
    day = future_day()
    when = local_time(day, 16)
    made = tools("book-appointment", {"service": "Dental cleaning", "appointment_datetime": when,
                                      "customer_phone": "+14155550123", "conversation_id": "conv_tool_then_hook"})
    assert made.json()["booked"] is True
    deliver(booking_call("conv_tool_then_hook", when=when, phone="+14155550123"))
    call = session.exec(select(Conversation).where(Conversation.external_id == "conv_tool_then_hook")).one()
    assert (call.outcome, call.booking_id, call.needs_review) == ("booking_created", made.json()["booking_id"], False)
    assert _count(session, Booking) == 1

    raised = tools("raise-ticket", {"issue_summary": "Duplicate charge", "conversation_id": "conv_tool_ticket",
                                    "customer_phone": "+442071838750"}).json()
    deliver(ticket_call("conv_tool_ticket"))
    call = session.exec(select(Conversation).where(Conversation.external_id == "conv_tool_ticket")).one()
    assert (call.outcome, call.ticket_id) == ("ticket_created", raised["ticket_id"])
    assert _count(session, Ticket) == 1


def test_a_booking_made_by_the_tool_without_conversation_id_is_linked_not_doubled(tools, deliver, session):
    when = local_time(future_day(), 17)
    made = tools("book-appointment", {"service": "Dental cleaning", "appointment_datetime": when,
                                      "customer_phone": "+14155550123"}).json()
    deliver(booking_call("conv_tool_no_id", when=when, phone="+14155550123"))
    call = session.exec(select(Conversation).where(Conversation.external_id == "conv_tool_no_id")).one()
    assert (call.outcome, call.booking_id) == ("booking_created", made["booking_id"])
    assert session.get(Booking, made["booking_id"]).conversation_id == call.id


def test_tools_answer_within_300_ms(tools, session):
    customer = _customer(session)
    for i in range(30):  # some history, as a real business has
        session.add(Customer(name=f"Other {i}", phone=f"+1415555{1000 + i:04d}"))
    session.commit()
    day = future_day()
    calls = [
        ("lookup-customer", {"phone": "+14155550123"}),
        ("check-availability", {"date": day.isoformat()}),
        ("check-availability", {}),
        ("book-appointment", {"service": "Cleaning", "appointment_datetime": local_time(day, 9),
                              "customer_id": customer.id}),
        ("raise-ticket", {"issue_summary": "Question about the bill", "customer_id": customer.id}),
    ]
    tools(*calls[0])  # warm up (first request imports and compiles)
    for tool, body in calls:
        started = time.perf_counter()
        response = tools(tool, body)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.text
        assert elapsed < 0.3, f"{tool} took {elapsed * 1000:.0f} ms"


def test_initiation_webhook_returns_dynamic_variables_for_a_known_caller(api_client, call_env, session):
    customer = _customer(session)
    from navaia_app.tickets import service as tickets

    tickets.create_ticket(session=session, title="Printer jams", customer_id=customer.id)
    session.commit()
    url = "/api/webhooks/elevenlabs/initiation"
    known = api_client.post(url, headers=HEADERS, json={
        "caller_id": "+1 (415) 555-0123", "agent_id": "agent_1", "called_number": "+14155550100",
        "call_sid": "CA123"}).json()
    assert known["type"] == "conversation_initiation_client_data"
    variables = known["dynamic_variables"]
    assert variables["customer_id"] == str(customer.id) and variables["customer_name"] == "Maria Lopez"
    assert variables["customer_known"] is True and variables["open_tickets"] == 1
    assert variables["open_ticket_titles"] == "Printer jams" and variables["next_booking"] == "none"

    unknown = api_client.post(url, headers=HEADERS, json={"caller_id": "+14155550999"}).json()
    assert set(unknown["dynamic_variables"]) == set(variables)  # every variable, always
    assert unknown["dynamic_variables"]["customer_known"] is False
    anonymous = api_client.post(url, headers=HEADERS, json={"caller_id": "anonymous"})
    assert anonymous.status_code == 200 and anonymous.json()["dynamic_variables"]["customer_id"] == ""
