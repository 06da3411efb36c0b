"""Hand-off to a human: staffed hours in the business zone (DST included), the request-handoff tool inside
and outside them, the call-back ticket, and the admin-only settings."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from navaia_app.core.call_tokens import issue_call_token
from navaia_app.core.errors import PermissionDenied, ValidationFailed
from navaia_app.customers.models import Customer
from navaia_app.handoff import service
from navaia_app.handoff.models import HandoffNumberIn
from navaia_app.tickets.models import Ticket
from tests.conversations.conftest import TOOLS_SECRET, call_env  # noqa: F401 - fixture

HEADERS = {"X-Agent-Tools-Secret": TOOLS_SECRET}
NY = ZoneInfo("America/New_York")
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _numbers(session, *numbers: HandoffNumberIn):
    service.replace_numbers(session=session, actor=None, numbers=list(numbers))
    session.commit()


@pytest.fixture
def new_york(app_env, set_env):
    set_env(BUSINESS_TIMEZONE="America/New_York")


def test_staffed_hours_are_business_zone_wall_clock_across_dst(session, new_york):
    _numbers(session, HandoffNumberIn(label="Front desk", phone="(212) 555-0100", days=["mon", "tue", "wed", "thu",
                                                                                     "fri"], start="09:00", end="17:00"))
    # Friday 30 Oct 2026 (EDT, UTC-4) and Monday 2 Nov 2026 (EST, UTC-5): 09:00 local is 13:00 then 14:00 UTC
    assert service.staffed_now(session=session, now=datetime(2026, 10, 30, 13, 0, tzinfo=timezone.utc)).phone \
        == "+12125550100"
    assert service.staffed_now(session=session, now=datetime(2026, 10, 30, 12, 59, tzinfo=timezone.utc)) is None
    assert service.staffed_now(session=session, now=datetime(2026, 11, 2, 13, 30, tzinfo=timezone.utc)) is None
    assert service.staffed_now(session=session, now=datetime(2026, 11, 2, 14, 0, tzinfo=timezone.utc)) is not None
    # Friday 17:30 EDT -> next staffed Monday 09:00 EST (after the clocks went back on Sunday 1 Nov)
    opening, number = service.next_staffed(session=session, now=datetime(2026, 10, 30, 21, 30, tzinfo=timezone.utc))
    assert opening == datetime(2026, 11, 2, 14, 0, tzinfo=timezone.utc)
    assert opening.astimezone(NY).hour == 9 and number.label == "Front desk"


def test_first_staffed_number_in_order_and_overnight_hours(session, new_york):
    _numbers(session,
             HandoffNumberIn(label="Day", phone="+12125550100", days=WEEKDAYS, start="08:00", end="20:00"),
             HandoffNumberIn(label="Night", phone="+12125550111", days=WEEKDAYS, start="20:00", end="08:00"),
             HandoffNumberIn(label="Backup", phone="+12125550122", days=WEEKDAYS, start="00:00", end="00:00"))
    at = lambda h: datetime(2026, 11, 4, h, tzinfo=NY).astimezone(timezone.utc)  # noqa: E731
    assert service.staffed_now(session=session, now=at(12)).label == "Day"
    assert service.staffed_now(session=session, now=at(23)).label == "Night"
    assert service.staffed_now(session=session, now=at(3)).label == "Night"


def test_settings_are_validated_whole_and_admin_only(session, new_york, make_user):
    with pytest.raises(ValidationFailed) as refused:
        service.replace_numbers(session=session, actor=None, numbers=[
            HandoffNumberIn(phone="+12125550100"), HandoffNumberIn(phone="not a phone", start="25:00", days=["xyz"])])
    assert set(refused.value.errors) == {"numbers.1.phone", "numbers.1.start", "numbers.1.days"}
    assert service.list_numbers(session=session) == []
    agent = make_user(role="agent")
    with pytest.raises(PermissionDenied):
        service.replace_numbers(session=session, actor=agent, numbers=[HandoffNumberIn(phone="+12125550100")])


def test_settings_rest_api(api_client, make_user, login, new_york):
    admin, agent = make_user(role="admin"), make_user(role="agent")
    admin_headers, agent_headers = login(admin.email), login(agent.email)
    body = {"numbers": [{"label": "Desk", "phone": "212 555 0100", "days": ["sat", "mon"], "start": "09:00",
                         "end": "17:30"}]}
    assert api_client.put("/api/v1/settings/handoff", json=body, headers=agent_headers).status_code == 403
    saved = api_client.put("/api/v1/settings/handoff", json=body, headers=admin_headers)
    assert saved.status_code == 200, saved.text
    assert saved.json()["numbers"][0] | {} == {"id": saved.json()["numbers"][0]["id"], "label": "Desk",
                                               "phone": "+12125550100", "days": ["mon", "sat"], "start": "09:00",
                                               "end": "17:30"}
    assert saved.json()["timezone"] == "America/New_York" and saved.json()["next_staffed_at"]
    bad = api_client.put("/api/v1/settings/handoff", json={"numbers": [{"phone": "x"}]}, headers=admin_headers)
    assert bad.status_code == 422
    listed = api_client.get("/api/v1/settings/handoff", headers=agent_headers).json()
    assert [n["label"] for n in listed["numbers"]] == ["Desk"]  # the refused PUT changed nothing
    assert api_client.get("/api/v1/settings/handoff").status_code == 401


def _hours_around_now(staffed: bool) -> HandoffNumberIn:
    """A number staffed every day in a 2-hour window that does (or does not) include the real now (UTC zone)."""
    now = datetime.now(timezone.utc)
    start = now - timedelta(hours=1) if staffed else now + timedelta(hours=2)
    end = start + timedelta(hours=2)
    return HandoffNumberIn(label="Desk", phone="+12125550100", days=WEEKDAYS, start=f"{start:%H:%M}",
                           end=f"{end:%H:%M}")


def test_tool_inside_staffed_hours_answers_the_number(api_client, session, call_env):
    _numbers(session, _hours_around_now(staffed=True))
    response = api_client.post("/api/tools/request-handoff", json={"reason": "wants a person"}, headers=HEADERS)
    assert response.status_code == 200, response.text
    assert response.json()["transfer"] is True and response.json()["transfer_number"] == "+12125550100"
    assert session.exec(select(Ticket)).all() == []
    assert api_client.post("/api/tools/request-handoff", json={}, headers={}).status_code == 401
    assert api_client.post("/api/tools/request-handoff", json={},
                           headers={**HEADERS}).status_code == 200  # every field is optional


def test_tool_outside_staffed_hours_raises_one_call_back_ticket(api_client, session, call_env):
    _numbers(session, _hours_around_now(staffed=False))
    customer = Customer(name="Ana Ruiz", phone="+14155550123", timezone="Europe/Madrid")
    session.add(customer)
    session.commit()
    body = {"reason": "billing dispute", "summary": "Caller disputes the November invoice.",
            "phone": "+1 415 555 0177", "conversation_id": "conv-handoff-1",
            "call_token": issue_call_token({"customer_id": customer.id})}
    response = api_client.post("/api/tools/request-handoff", json=body, headers=HEADERS)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["transfer"] is False and answer["timezone"] == "Europe/Madrid"
    callback = datetime.fromisoformat(answer["callback_at"])
    assert callback.utcoffset() == ZoneInfo("Europe/Madrid").utcoffset(callback.replace(tzinfo=None))
    assert 0 < (callback - datetime.now(timezone.utc)).total_seconds() <= 2 * 3600 + 60
    assert "call you" in answer["message"]
    ticket = session.get(Ticket, answer["ticket_id"])
    assert ticket.category == "call_back" and ticket.customer_id == customer.id and ticket.priority == "high"
    assert "billing dispute" in ticket.title and "November invoice" in ticket.description
    assert "(415) 555-0177" in ticket.description or "+1 415-555-0177" in ticket.description
    again = api_client.post("/api/tools/request-handoff", json=body, headers=HEADERS).json()
    assert again["ticket_id"] == answer["ticket_id"]  # the agent asking twice on one call makes one ticket
    session.expire_all()
    assert len(session.exec(select(Ticket)).all()) == 1


def test_tool_with_a_forged_token_changes_nothing(api_client, session, call_env):
    _numbers(session, _hours_around_now(staffed=False))
    response = api_client.post("/api/tools/request-handoff", json={"call_token": "abc.def", "reason": "x"},
                               headers=HEADERS)
    assert response.status_code == 403
    assert session.exec(select(Ticket)).all() == []


def test_no_numbers_at_all_still_leaves_a_call_back(api_client, session, call_env):
    response = api_client.post("/api/tools/request-handoff", json={"reason": "complaint"}, headers=HEADERS)
    assert response.status_code == 200
    assert response.json()["callback_at"] is None and "as soon as someone is available" in response.json()["message"]
