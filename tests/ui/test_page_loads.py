"""Every page state's `load` runs for an admin and for an agent, on both databases: no exception, no
error toast, no trip to the sign-in page, and the page shows what the database holds.

A page registered without an entry in LOADED fails `test_every_page_load_is_checked_here`, so a new
page cannot ship without this test (the Campaigns pages once called a helper that no longer existed,
and 1,430 passing tests did not notice)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.support import pagestate


def _seed(session, admin) -> dict[str, int]:
    """One of each thing a page lists."""
    from navaia_app.bookings import service as bookings
    from navaia_app.campaigns import service as campaigns
    from navaia_app.campaigns.models import CampaignIn
    from navaia_app.conversations.models import Conversation
    from navaia_app.customers import service as customers
    from navaia_app.customers.models import CustomerIn
    from navaia_app.tickets import service as tickets

    customer = customers.create_customer(session=session, customer_in=CustomerIn(name="Ada Lovelace",
                                                                                 phone="+14155550123"))
    ticket = tickets.create_ticket(session=session, title="Leaking tap", customer_id=customer.id, actor_id=admin.id)
    soon = (datetime.now(timezone.utc) + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    booking = bookings.create_booking(session=session, customer_id=customer.id, service="Consultation",
                                      starts_at=soon, enforce_schedule=False, actor_id=admin.id)
    campaign = campaigns.create_campaign(session=session, campaign_in=CampaignIn(name="Spring check-up"),
                                         created_by_id=admin.id)
    conversation = Conversation(external_id="conv_page_loads", customer_id=customer.id, summary="Asked for a visit",
                                title="Visit request", outcome="ticket", needs_review=True, direction="inbound")
    session.add(conversation)
    session.flush()
    ticket.conversation_id = booking.conversation_id = conversation.id  # both came from that call
    session.add_all([ticket, booking])
    session.commit()
    return {"customer": customer.id, "ticket": ticket.id, "booking": booking.id, "campaign": campaign.id,
            "conversation": conversation.id, "booking_day": soon.date().isoformat()}


# state class name -> what the page shows once `load` ran (role: "admin" or "agent")
def _dashboard(s, ids, role):
    assert s.customers == 1 and s.open_tickets == 1 and s.upcoming_bookings >= 1


def _customers(s, ids, role):
    assert s.load_error == "" and [r.id for r in s.rows] == [ids["customer"]]


def _settings(s, ids, role):
    assert s.provider and s.business_timezone == "UTC"
    assert (len(s.users) == 2) if role == "admin" else (s.users == [])


def _agent_setup(s, ids, role):
    assert s.webhook_url.endswith("/api/webhooks/elevenlabs") and s.fields and s.tools


def _tickets(s, ids, role):
    assert s.load_error == "" and [r.id for r in s.rows] == [ids["ticket"]]
    assert pagestate.problems(pagestate.run(s, "open_detail", ids["ticket"])) == []
    assert (s.detail.id, s.detail.customer_name, s.detail.conversation_id, s.detail.conversation_summary) == (
        ids["ticket"], "Ada Lovelace", ids["conversation"], "Asked for a visit")


def _bookings(s, ids, role):  # the calendar of this week (the booking may fall in the next one)
    assert s.load_error == "" and len(s.days) == 7
    assert sum(d.count for d in s.days) == (1 if ids["booking_day"] in {d.key for d in s.days} else 0)
    assert pagestate.problems(pagestate.run(s, "open_detail", ids["booking"])) == []
    assert (s.detail.id, s.detail.customer_phone, s.detail.conversation_id) == (
        ids["booking"], "+1 415-555-0123", ids["conversation"])


def _campaigns(s, ids, role):
    assert s.load_error == "" and [r.id for r in s.rows] == [ids["campaign"]]


def _campaign(s, ids, role):
    assert s.found and s.campaign_id == ids["campaign"] and s.name == "Spring check-up" and s.status == "draft"


def _conversations(s, ids, role):
    assert [r.id for r in s.rows] == [ids["conversation"]] and s.review_count == 1


def _analytics(s, ids, role):
    assert s.error == "" and s.period_label and [o.value for o in s.campaigns] == ["all", str(ids["campaign"])]


def _support_agent(s, ids, role):
    assert s.webhook_url


def _playground(s, ids, role):
    assert s.webhook_url


def _system(s, ids, role):
    if role == "admin":
        assert s.audit_rows is not None and s.total >= 0
    else:  # the page shows "Administrators only"; loading it is not an error
        assert s.queues == [] and s.audit_rows == []


def _integrations(s, ids, role):
    assert (s.recordings_days, s.transcripts_days, s.payloads_days) == ("90", "365", "365")
    assert s.feeds == [] and s.services == ["Consultation"] and s.endpoints == []  # agents see no endpoints


def _reminder_settings(s, ids, role):  # the preview uses the next booking's values
    assert s.enabled is False and (s.call_lead, s.sms_lead) == ("1440", "120") and s.can_change == (role == "admin")
    assert "Ada Lovelace" in s.preview_sms and "Consultation" in s.preview_call
    assert f"#{ids['booking']}" in s.preview_source


LOADED = {
    "DashboardState.load": _dashboard,
    "CustomersState.load": _customers,
    "SettingsState.load": _settings,
    "AgentSetupState.load": _agent_setup,
    "TicketsState.load": _tickets,
    "BookingsState.load": _bookings,
    "CampaignsState.load": _campaigns,
    "CampaignDetailState.load": _campaign,
    "ConversationsState.load": _conversations,
    "AnalyticsState.load": _analytics,
    "SupportAgentState.load": _support_agent,
    "PlaygroundState.load": _playground,
    "SystemState.load": _system,
    "IntegrationsState.load": _integrations,
    "RemindersSettingsState.load": _reminder_settings,
}
PARAMS = {"campaigns/[campaign_id]": lambda ids: ({"campaign_id": str(ids["campaign"])},
                                                  f"/campaigns/{ids['campaign']}")}


def _page_loads():
    """(route, [(state class, handler name)]) of every page that checks the session on load."""
    from reflex.state import State

    app = pagestate.app()
    root = State(_reflex_internal_init=True)
    for route, handlers in sorted(app._load_events.items()):
        names = [h.fn.__name__ for h in handlers]
        if "require_login" not in names:
            continue  # a public page (sign in, register)
        loads = []
        for handler in handlers:
            if handler.fn.__name__ == "require_login":
                continue
            state = root.get_substate(handler.state_full_name.split(".")[1:])
            loads.append((type(state), handler.fn.__name__))
        yield route, loads


def test_every_page_load_is_checked_here():
    registered = {f"{cls.__name__}.{name}" for _, loads in _page_loads() for cls, name in loads}
    from tests.test_ui_handlers_authenticate import _all_states

    defined = {f"{cls.__name__}.load" for cls in _all_states() if "load" in cls.__dict__}
    assert registered | defined == set(LOADED), "add the new page's load handler to LOADED with what it shows"


@pytest.mark.parametrize("role", ["admin", "agent"])
def test_every_protected_page_loads(role, session, make_user):
    admin = make_user(email="admin@example.com", role="admin")
    agent = make_user(email="agent@example.com", role="agent")
    ids = _seed(session, admin)
    user = admin if role == "admin" else agent
    failures = []
    for route, loads in _page_loads():
        params, path = PARAMS[route](ids) if route in PARAMS else ({}, "/" + route.replace("index", ""))
        root = pagestate.signed_in(user, path=path, params=params)
        from navaia_app.auth.state import AuthState

        seen = pagestate.problems(pagestate.run(pagestate.substate(root, AuthState), "require_login"))
        for cls, name in loads:
            state = pagestate.substate(root, cls)
            try:
                events = pagestate.run(state, name)
                seen += pagestate.problems(events)
                LOADED[f"{cls.__name__}.{name}"](state, ids, role)
            except Exception as exc:  # noqa: BLE001 - every page is tried; all failures reported together
                failures.append(f"/{route} {cls.__name__}.{name}: {type(exc).__name__}: {exc}")
        failures += [f"/{route}: {problem}" for problem in seen]
    assert failures == []
