"""The voice agent's server tools and the conversation-initiation webhook, through HTTP."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
from sqlmodel import func, select

from navaia_app.bookings.models import Booking
from navaia_app.conversations.models import Conversation
from navaia_app.core.call_tokens import issue_call_token, read_call_token
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


def test_lookup_customer_by_caller_number_written_differently(tools, session):
    customer = _customer(session, email="maria@example.com", timezone="America/New_York")
    from navaia_app.bookings import service as bookings
    from navaia_app.tickets import service as tickets

    tickets.create_ticket(session=session, title="Printer jams", customer_id=customer.id)
    day = future_day()
    bookings.create_booking(session=session, customer_id=customer.id, service="Cleaning",
                            starts_at=datetime(day.year, day.month, day.day, 15, tzinfo=timezone.utc))
    session.commit()
    answer = tools("lookup-customer", {"caller_id": "(415) 555-0123"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["found"] is True and body["verified"] is True and body["customer"]["id"] == customer.id
    assert body["customer"]["timezone"] == "America/New_York"
    assert body["open_ticket_count"] == 1 and body["open_tickets"][0]["title"] == "Printer jams"
    assert body["next_booking"]["service"] == "Cleaning"
    assert body["next_booking"]["starts_at"].endswith(("-05:00", "-04:00"))
    assert "Maria Lopez" in body["message"] and "Cleaning" in body["message"]

    own = tools("lookup-customer", {"caller_id": "+14155550123", "email": "MARIA@example.com"}).json()
    assert own["customer"]["id"] == customer.id
    missing = tools("lookup-customer", {"phone": "+14155550999"}).json()
    assert missing["found"] is False and missing["message"] and "customer" not in missing


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
            "caller_id": "(415) 555-0123", "customer_name": "Maria Lopez",
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
                                    "call_token": issue_call_token({"customer_id": customer.id}),
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
    token = issue_call_token({"customer_id": customer.id})
    calls = [
        ("lookup-customer", {"call_token": token}),
        ("check-availability", {"date": day.isoformat(), "call_token": token}),
        ("check-availability", {}),
        ("book-appointment", {"service": "Cleaning", "appointment_datetime": local_time(day, 9), "call_token": token}),
        ("raise-ticket", {"issue_summary": "Question about the bill", "caller_id": customer.phone}),
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
    assert read_call_token(variables["call_token"])["customer_id"] == customer.id  # the tools' proof

    unknown = api_client.post(url, headers=HEADERS, json={"caller_id": "+14155550999"}).json()
    assert set(unknown["dynamic_variables"]) == set(variables)  # every variable, always
    assert unknown["dynamic_variables"]["customer_known"] is False
    assert unknown["dynamic_variables"]["call_token"] == ""
    anonymous = api_client.post(url, headers=HEADERS, json={"caller_id": "anonymous"})
    assert anonymous.status_code == 200 and anonymous.json()["dynamic_variables"]["customer_id"] == ""


# --- binding to the call: the model's word is not proof ---------------------------------------------


def _rich_customer(session, **fields) -> Customer:
    from navaia_app.tickets import service as tickets

    customer = _customer(session, **fields)
    tickets.create_ticket(session=session, title=f"Secret matter of {customer.name}", customer_id=customer.id)
    session.commit()
    return customer


def _no_personal_data(body: dict, *customers: Customer) -> None:
    text = str(body)
    for customer in customers:
        for value in (customer.name, customer.phone, customer.email, "Secret matter"):
            assert not value or value not in text, f"{value!r} leaked in {body}"


def test_a_model_supplied_id_of_someone_else_is_refused(tools, session):
    caller = _rich_customer(session, name="Ann Caller", phone="+14155550101", email="ann@example.com")
    victim = _rich_customer(session, name="Victor Victim", phone="+14155550202", email="victor@example.com")
    token = issue_call_token({"customer_id": caller.id})
    for proof in ({"call_token": token}, {"caller_id": caller.phone}):
        for said in ({"customer_id": victim.id}, {"customer_id": str(victim.id)}, {"email": victim.email},
                     {"phone": "(415) 555-0202"}):
            answer = tools("lookup-customer", {**proof, **said})
            assert answer.status_code == 200, answer.text
            assert answer.json()["refused"] is True
            _no_personal_data(answer.json(), victim)
        booked = tools("book-appointment", {**proof, "customer_id": victim.id, "service": "Cleaning",
                                            "appointment_datetime": local_time(future_day(), 10)}).json()
        assert booked["booked"] is False
        _no_personal_data(booked, victim)
        ticket = tools("raise-ticket", {**proof, "customer_email": victim.email, "issue_summary": "Cancel all"}).json()
        assert ticket["created"] is True and ticket["customer_id"] is None  # kept, linked to nobody
        stored = session.get(Ticket, ticket["ticket_id"])
        assert stored.customer_id is None and "could not be verified" in stored.description
    assert _count(session, Booking) == 0
    session.expire_all()
    assert [t.customer_id for t in session.exec(select(Ticket).where(Ticket.customer_id == victim.id))] == [victim.id]


def test_a_stranger_learns_only_whether_a_record_matches(tools, session):
    victim = _rich_customer(session, name="Victor Victim", phone="+14155550202", email="victor@example.com")
    for body in ({"customer_id": victim.id}, {"email": victim.email}, {"phone": victim.phone},
                 {"customer_id": victim.id, "caller_id": "+14155550999"}, {"customer_id": victim.id, "call_token": ""},
                 {"customer_id": victim.id, "call_token": "{{call_token}}"}):
        answer = tools("lookup-customer", body)
        assert answer.status_code == 200, answer.text
        assert answer.json()["found"] is True and answer.json()["verified"] is False
        _no_personal_data(answer.json(), victim)
    # and cannot book or raise tickets on that record
    booked = tools("book-appointment", {"customer_id": victim.id, "service": "Cleaning",
                                        "appointment_datetime": local_time(future_day(), 10)}).json()
    assert booked["booked"] is False and _count(session, Booking) == 0
    ticket = tools("raise-ticket", {"customer_phone": victim.phone, "issue_summary": "Close my account"}).json()
    assert session.get(Ticket, ticket["ticket_id"]).customer_id is None


def test_a_valid_call_token_binds_the_call(tools, session):
    customer = _rich_customer(session, name="Ann Caller", phone="+14155550101", email="ann@example.com",
                              timezone="America/New_York")
    token = issue_call_token({"customer_id": customer.id, "campaign_call_id": 5})
    # An outbound call: the caller id is our own number, the token says whom we called.
    found = tools("lookup-customer", {"call_token": token, "caller_id": "+12125550100"}).json()
    assert found["verified"] is True and found["customer"]["id"] == customer.id
    assert "Secret matter of Ann Caller" in str(found["open_tickets"])
    slots = tools("check-availability", {"call_token": token}).json()
    assert slots["timezone"] == "America/New_York"
    booked = tools("book-appointment", {"call_token": token, "service": "Cleaning", "customer_name": "Someone Else",
                                        "appointment_datetime": local_time(future_day(), 10)}).json()
    assert booked["booked"] is True and booked["customer_id"] == customer.id
    session.expire_all()
    assert session.get(Customer, customer.id).name == "Ann Caller"  # what the model said changed nothing


@pytest.mark.parametrize("kind", ["forged", "expired", "garbage"])
def test_a_forged_or_expired_call_token_is_refused(tools, session, kind):
    victim = _rich_customer(session, name="Victor Victim", phone="+14155550202", email="victor@example.com")
    if kind == "forged":
        genuine = issue_call_token({"customer_id": victim.id + 1})
        body, mac = issue_call_token({"customer_id": victim.id}).split(".")[0], genuine.split(".")[1]
        token = f"{body}.{mac}"
    elif kind == "expired":
        token = issue_call_token({"customer_id": victim.id}, ttl_seconds=60, now=time.time() - 3600)
    else:
        token = "not-a-token"
    for tool, body in (("lookup-customer", {}), ("check-availability", {}),
                       ("book-appointment", {"service": "Cleaning",
                                             "appointment_datetime": local_time(future_day(), 10)}),
                       ("raise-ticket", {"issue_summary": "Hello"})):
        answer = tools(tool, {**body, "call_token": token, "caller_id": victim.phone})
        assert answer.status_code == 403, (tool, answer.text)
        assert "token" in answer.json()["detail"]
        _no_personal_data(answer.json(), victim)
    assert _count(session, Booking) == 0 and _count(session, Ticket) == 1


def test_the_inbound_caller_number_binds_the_call(tools, api_client, session):
    customer = _rich_customer(session, name="Ann Caller", phone="+14155550101", email="ann@example.com")
    found = tools("lookup-customer", {"caller_id": "+1 415-555-0101"}).json()
    assert found["verified"] is True and found["customer"]["name"] == "Ann Caller"
    # the initiation webhook's token for that number works the same way
    variables = api_client.post("/api/webhooks/elevenlabs/initiation", headers=HEADERS,
                                json={"caller_id": "+14155550101"}).json()["dynamic_variables"]
    by_token = tools("lookup-customer", {"call_token": variables["call_token"]}).json()
    assert by_token["customer"]["id"] == customer.id
    ticket = tools("raise-ticket", {"caller_id": "+14155550101", "issue_summary": "Noisy line"}).json()
    assert session.get(Ticket, ticket["ticket_id"]).customer_id == customer.id


def test_a_new_inbound_caller_gets_a_record_of_their_own(tools, session):
    booked = tools("book-appointment", {"caller_id": "+14155550777", "customer_name": "New Person",
                                        "service": "Cleaning",
                                        "appointment_datetime": local_time(future_day(), 11)}).json()
    assert booked["booked"] is True
    assert session.get(Customer, booked["customer_id"]).phone == "+14155550777"


def test_the_token_an_outbound_call_carries_binds_its_tools(tools, session, set_env):
    """End to end with the real pipeline: "Call now" -> the call's dynamic variables -> the agent's tools."""
    from navaia_app.outreach import calls as outreach

    set_env(TELEPHONY_PROVIDER="simulated")
    called = _customer(session, name="Ann Called", phone="+14155550101")
    other = _customer(session, name="Otto Other", phone="+14155550202")
    call = outreach.call_customer_now(session=session, customer_id=called.id)
    session.commit()
    variables = outreach.call_variables(session=session, call=call, customer=called)
    bound = tools("lookup-customer", {"call_token": variables["call_token"], "caller_id": "+12125550100"}).json()
    assert bound["verified"] is True and bound["customer"]["name"] == "Ann Called"
    asked = tools("lookup-customer", {"call_token": variables["call_token"], "customer_id": other.id}).json()
    assert asked["refused"] is True and "Otto" not in str(asked)
