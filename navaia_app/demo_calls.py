"""The demo's calls: what the voice agent did over the last two weeks, made the way real calls are made.

Inbound calls arrive as ElevenLabs post-call webhooks: parsed by the webhook's own parser, stored in the
inbox and processed by the same service the worker runs, which books, raises tickets or asks for a review.
The campaign is created and run through the campaign services; its calls are claimed and placed by the
outbound dispatcher's own steps (outreach.dispatcher) against the simulated carrier, at the times they would have happened, and their
outcomes come back as the carrier or ElevenLabs report them. Afterwards each record's timestamps are set
to when it happened (the services stamp "now"), so the history reads as it would have.
"""

from __future__ import annotations

import json
import random
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from navaia_app.core.logging import get_logger, log_scope
from navaia_app.core.settings import get_settings
from navaia_app.customers.models import Customer

log = get_logger(__name__)

DEMO_AGENT = "agent_navaia_demo"


@dataclass(frozen=True)
class Booked:
    service: str
    days_ahead: int  # from today: the appointment is always upcoming, so the booking rules apply in full
    hour: int  # in the business's time zone (opening hours)
    minutes: int = 30


@dataclass(frozen=True)
class Ticketed:
    summary: str
    details: str
    priority: str
    category: str


@dataclass(frozen=True)
class InboundCall:
    customer: str | None  # a demo customer by name; None: a new caller (the call creates the customer)
    days_ago: int
    at: str | None  # business-zone wall clock "HH:MM"; None with minutes_ago for today's calls
    seconds: int
    ask: Booked | Ticketed | None  # None: asks for a time the business is closed (goes to review)
    caller: tuple[str, str] | None = None  # (name, phone) of a new caller
    minutes_ago: int | None = None


INBOUND: tuple[InboundCall, ...] = (
    InboundCall("Emily Carter", 13, "10:12", 148, Booked("Consultation", 2, 10)),
    InboundCall("Oliver Bennett", 12, "14:40", 201, Ticketed(
        "Laptop fan loud since repair", "The fan runs at full speed since the repair last month, even when idle.",
        "medium", "repair")),
    InboundCall("Priya Sharma", 10, "09:05", 97, Booked("Follow-up", 3, 11)),
    InboundCall("Lukas Schneider", 9, "16:22", 263, Ticketed(
        "Charged for a cancelled appointment", "A cancellation fee was charged although the appointment was "
        "cancelled two days ahead.", "high", "billing")),
    InboundCall(None, 7, "11:30", 176, Booked("Device repair", 4, 14, 60),
                caller=("Nadia Rahman", "+44 20 7946 0612")),
    InboundCall("Camille Dubois", 6, "15:10", 132, None),
    InboundCall("Jack Wilson", 4, "10:45", 188, Ticketed(
        "Wi-Fi printer offline after router change", "The office printer is not found since the new router "
        "was installed yesterday.", "medium", "network")),
    InboundCall("Haruto Sato", 2, "13:15", 121, Booked("Screen replacement", 5, 9, 60)),
    InboundCall("Sarah Mitchell", 0, None, 156, Booked("Annual check-up", 1, 15), minutes_ago=95),
    InboundCall("Amelia Clarke", 0, None, 212, Ticketed(
        "Prescription not ready at pickup", "Came to pick up the repeat prescription; the pharmacy had not "
        "received it.", "urgent", "clinical"), minutes_ago=47),
    InboundCall("David Kim", 0, None, 84, Booked("Consultation", 6, 16), minutes_ago=12),
)

CAMPAIGN = {
    "name": "Autumn check-in",
    "purpose": "how your last visit went, and whether you would like a follow-up appointment",
}
# In audience order: what happened on each campaign call.
CAMPAIGN_CALLS: tuple[tuple[str, str, Booked | Ticketed | None], ...] = (
    ("Michael Thompson", "answered", Booked("Follow-up", 3, 13)),
    ("Jessica Ramirez", "no_answer", None),
    ("Robert Williams", "do_not_call", None),  # on the do-not-call list: skipped, never rung
    ("Liam Tremblay", "answered", Ticketed(
        "Invoice shows the old address", "Asks for the last invoice to be reissued to the new postal address.",
        "low", "billing")),
    ("Grace Okafor", "voicemail", None),
    ("Ana Souza", "busy", None),  # the line never connected: ElevenLabs reports a failed initiation
    ("Aoife Murphy", "answered", Booked("Annual check-up", 4, 12, 45)),
    ("Daan de Vries", "no_answer", None),
)


@dataclass
class CallsReport:
    conversations: int = 0
    campaign_calls: int = 0
    bookings: int = 0
    tickets: int = 0


def _appointment(now: datetime, booked: Booked, zone: ZoneInfo) -> datetime:
    """The first opening day at least `days_ahead` from today, at `hour` (or the day's opening, if later)."""
    from navaia_app.core.zones import local_datetime

    hours = get_settings().opening_hours
    day = now.astimezone(zone).date() + timedelta(days=booked.days_ahead)
    for _ in range(14):
        for open_, close_ in hours.intervals(day):
            minutes = min(max(booked.hour * 60, open_), close_ - booked.minutes)
            if minutes >= open_:
                return local_datetime(day, minutes - minutes % 30, zone)
        day += timedelta(days=1)
    raise RuntimeError("BUSINESS_HOURS has no opening in the next two weeks")


def _closed_time(now: datetime, zone: ZoneInfo) -> datetime:
    """A time the business is closed (a day without opening hours, else three in the morning)."""
    from navaia_app.core.zones import local_datetime

    hours = get_settings().opening_hours
    today = now.astimezone(zone).date()
    for ahead in range(2, 9):
        if not hours.intervals(today + timedelta(days=ahead)):
            return local_datetime(today + timedelta(days=ahead), 11 * 60, zone)
    return local_datetime(today + timedelta(days=2), 3 * 60, zone)


def _spoken(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%A} {local.day} {local:%B} at {local:%H:%M}"


def _conversation(*, external_id: str, started: datetime, seconds: int, phone: str, direction: str,
                  name: str, ask: Booked | Ticketed | None, appointment: datetime | None, caller_zone: ZoneInfo,
                  call_sid: str | None = None, variables: dict[str, str] | None = None,
                  purpose: str | None = None) -> dict:
    """A post_call_transcription webhook as ElevenLabs sends it: transcript, summary, collected data."""
    first = name.split()[0]
    if direction == "outbound":
        turns = [("agent", f"Hi {first}, this is Navaia calling about {purpose}. Do you have a minute?"),
                 ("user", "Yes, sure.")]
    else:
        turns = [("agent", "Thank you for calling. This is Navaia, the virtual assistant. How can I help?")]
    results: dict[str, dict] = {"customer_name": {"value": name}}
    if isinstance(ask, Booked):
        when = _spoken(appointment, caller_zone)
        turns += [("user", f"I'd like to book a {ask.service.lower()}, {when} if you have it."),
                  ("agent", "Let me check... yes, that time is free.", "check_availability"),
                  ("agent", f"You're booked for a {ask.service.lower()} on {when}. We'll send a reminder.")]
        results.update({"intent": {"value": "book_appointment"}, "service": {"value": ask.service},
                        "appointment_datetime": {"value": appointment.isoformat()},
                        "duration_minutes": {"value": ask.minutes}})
        title = f"{ask.service} booked"
        summary = f"{name} booked a {ask.service.lower()} for {when}."
    elif isinstance(ask, Ticketed):
        turns += [("user", ask.details),
                  ("agent", "I'm sorry about that. I've passed it to the team; someone will get back to you."),
                  ("user", "Thanks, that's all.")]
        results.update({"intent": {"value": "raise_ticket"}, "issue_summary": {"value": ask.summary},
                        "issue_details": {"value": ask.details}, "priority": {"value": ask.priority},
                        "category": {"value": ask.category}})
        title = ask.summary
        summary = f"{name} reported: {ask.summary.lower()}. A ticket was requested."
    else:
        when = _spoken(appointment, caller_zone)
        turns += [("user", f"Could I come in on {when}?"),
                  ("agent", "I'll note that down; a colleague will confirm the time with you.")]
        results.update({"intent": {"value": "book_appointment"}, "service": {"value": "Consultation"},
                        "appointment_datetime": {"value": appointment.isoformat()}})
        title = "Appointment request"
        summary = f"{name} asked for a consultation on {when}."
    step = max(4, seconds // (len(turns) + 1))
    transcript = []
    for index, (role, message, *tool) in enumerate(turns):
        turn = {"role": role, "message": message, "time_in_call_secs": index * step}
        if tool:
            turn["tool_calls"] = [{"tool_name": tool[0]}]
        transcript.append(turn)
    phone_call = {"type": "twilio", "direction": direction, "external_number": phone}
    if call_sid:
        phone_call["call_sid"] = call_sid
    return {
        "type": "post_call_transcription",
        "event_timestamp": int(started.timestamp()) + seconds,
        "data": {
            "agent_id": DEMO_AGENT, "conversation_id": external_id, "status": "done", "transcript": transcript,
            "metadata": {"start_time_unix_secs": int(started.timestamp()), "call_duration_secs": seconds,
                         "termination_reason": "end_call tool was called.", "main_language": "en",
                         "cost": 40 * seconds // 60, "phone_call": phone_call},
            "analysis": {"call_successful": "success", "call_summary_title": title, "transcript_summary": summary,
                         "data_collection_results": results},
            "conversation_initiation_client_data": {"dynamic_variables": dict(variables or {})},
        },
    }


def _deliver(session: Session, payload: dict, at: datetime):
    """Receive a webhook as the route does (parse, store in the inbox) and process it as the worker does."""
    from navaia_app.conversations import service as conversations
    from navaia_app.conversations.models import Conversation, WebhookEvent
    from navaia_app.conversations.webhook import insert_events, parse_event

    event = parse_event(json.dumps(payload).encode())
    [event_id] = insert_events(session.connection(), [(event, None)])
    if event_id is None:  # delivered before (a second seed): nothing new
        return None
    with log_scope(webhook_event_id=event_id, conversation_id=None, customer_id=None):  # as the worker does
        conversations.process_inbox_event(session=session, event_id=event_id)
    stored = session.get(WebhookEvent, event_id)
    stored.received_at = stored.processed_at = stored.last_attempt_at = at
    conversation = session.exec(select(Conversation).where(Conversation.external_id == event.external_id)).one()
    conversation.created_at = conversation.updated_at = at
    if conversation.started_at is None:  # a call that never connected: it "started" when it failed
        conversation.started_at = at
    session.add_all([stored, conversation])
    _backdate_outcomes(session, conversation, at)
    return conversation


def _backdate_outcomes(session: Session, conversation, at: datetime) -> None:
    from navaia_app.bookings.models import Booking
    from navaia_app.tickets.models import Ticket

    for model, row_id in ((Booking, conversation.booking_id), (Ticket, conversation.ticket_id)):
        row = session.get(model, row_id) if row_id else None
        if row is not None:
            row.created_at = row.updated_at = at
            session.add(row)


def _customer(session: Session, name: str) -> Customer:
    return session.exec(select(Customer).where(Customer.name == name).order_by(Customer.id)).first()


def _zone_of(customer: Customer | None, fallback: ZoneInfo) -> ZoneInfo:
    return ZoneInfo(customer.timezone) if customer is not None and customer.timezone else fallback


def seed_calls(session: Session, *, now: datetime, rng: random.Random) -> CallsReport:
    """The inbound calls of the last two weeks (today's included) and one completed campaign.

    The appointments they book are upcoming by the real clock (the booking rules refuse the past), even when
    `now` is set back (tests)."""
    from navaia_app.core.types import utcnow
    from navaia_app.core.validation import normalize_phone

    report = CallsReport()
    zone = ZoneInfo(get_settings().business_timezone)
    today = now.astimezone(zone).date()
    upcoming_from = max(now, utcnow())
    for index, call in enumerate(INBOUND):
        if call.minutes_ago is not None:
            started = now - timedelta(minutes=call.minutes_ago, seconds=call.seconds)
        else:
            hour, minute = map(int, call.at.split(":"))
            day = today - timedelta(days=call.days_ago)
            started = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
        customer = _customer(session, call.customer) if call.customer else None
        name, phone = (customer.name, customer.phone) if customer is not None else \
            (call.caller[0], normalize_phone(call.caller[1]))
        caller_zone = _zone_of(customer, zone)
        appointment = _appointment(upcoming_from, call.ask, zone) if isinstance(call.ask, Booked) else \
            _closed_time(upcoming_from, zone) if call.ask is None else None
        payload = _conversation(external_id=f"conv_demo_in_{index:02d}", started=started, seconds=call.seconds,
                                phone=phone, direction="inbound", name=name, ask=call.ask, appointment=appointment,
                                caller_zone=caller_zone)
        _count(report, _deliver(session, payload, started + timedelta(seconds=call.seconds)))
    report.campaign_calls = _run_campaign(session, now=now, upcoming_from=upcoming_from, zone=zone, rng=rng,
                                          report=report)
    return report


def _count(report: CallsReport, conversation) -> None:
    if conversation is not None:
        report.conversations += 1
        report.bookings += conversation.booking_id is not None
        report.tickets += conversation.ticket_id is not None


def _run_campaign(session: Session, *, now: datetime, upcoming_from: datetime, zone: ZoneInfo, rng: random.Random,
                  report: CallsReport) -> int:
    """Create the campaign, run it from four days ago to the end, one call at a time as the dispatcher does."""
    from navaia_app.campaigns import service as campaigns
    from navaia_app.campaigns.models import Campaign, CampaignCall, CampaignCallAttempt, CampaignIn
    from navaia_app.outreach import calls as outreach
    from navaia_app.outreach import dispatcher
    from navaia_app.telephony import simulated

    if session.exec(select(Campaign.id).where(Campaign.name == CAMPAIGN["name"])).first() is not None:
        return 0
    audience = [_customer(session, name) for name, _, _ in CAMPAIGN_CALLS]
    plan = {customer.id: (outcome, ask) for customer, (_, outcome, ask) in zip(audience, CAMPAIGN_CALLS)}
    campaign = campaigns.create_campaign(session=session, campaign_in=CampaignIn(
        name=CAMPAIGN["name"], purpose=CAMPAIGN["purpose"], customer_ids=[c.id for c in audience],
        max_attempts=1, calls_per_second=1.0, max_concurrent_calls=2))
    started = now - timedelta(days=4)
    campaign.created_at = campaign.updated_at = started - timedelta(hours=3)
    campaigns.start_campaign(session=session, campaign_id=campaign.id, now=started)

    placed = 0
    clock = started
    ended_at: list[datetime] = []
    for _ in range(200):  # every call is due within the next calling windows; a bound, never reached
        due = dispatcher._due_ids(session, campaign.id, clock, 50)
        if not due:
            waiting = session.exec(select(CampaignCall.next_attempt_at).where(
                CampaignCall.campaign_id == campaign.id, CampaignCall.status == "pending")
                .order_by(CampaignCall.next_attempt_at)).first()
            if waiting is None or waiting > now:
                break
            clock = max(clock, waiting)
            continue
        for call_id in due:
            if dispatcher.claim_next(session, campaign.id, clock, deque([call_id])) is None:
                continue
            claim = dispatcher.prepare_attempt(session, call_id, clock, "simulated")
            if claim is None:  # skipped (do not call) or put back until its window opens
                continue
            outcome, ask = plan[claim.customer_id]
            provider_call_id = simulated.call_id_for(claim.key)
            external_id = f"conv_demo_campaign_{claim.call_id}"
            dispatcher.store_placed(session, claim, provider_call_id, external_id, clock)
            customer = session.get(Customer, claim.customer_id)
            seconds = {"answered": rng.randint(95, 190), "voicemail": 31}.get(outcome, 0)
            end = clock + timedelta(seconds=seconds or 28)
            if outcome == "answered":
                appointment = _appointment(upcoming_from, ask, zone) if isinstance(ask, Booked) else None
                payload = _conversation(
                    external_id=external_id, started=clock, seconds=seconds, phone=customer.phone,
                    direction="outbound", name=customer.name, ask=ask, appointment=appointment,
                    caller_zone=_zone_of(customer, zone), call_sid=provider_call_id, variables=claim.variables,
                    purpose=CAMPAIGN["purpose"])
                _count(report, _deliver(session, payload, end))
            elif outcome == "busy":  # ElevenLabs could not start the call: a failed conversation
                payload = {"type": "call_initiation_failure", "event_timestamp": int(end.timestamp()), "data": {
                    "agent_id": DEMO_AGENT, "conversation_id": external_id, "failure_reason": "busy",
                    "metadata": {"type": "twilio", "body": {"CallSid": provider_call_id, "To": customer.phone,
                                                            "CallStatus": "busy"}},
                    "conversation_initiation_client_data": {"dynamic_variables": claim.variables}}}
                _count(report, _deliver(session, payload, end))
            else:  # the carrier's status report: no answer, or the answering machine took it
                outreach.report_call_update(session=session, provider_call_id=provider_call_id, status=outcome,
                                            duration_seconds=seconds or None)
            attempt = session.get(CampaignCallAttempt, claim.attempt_id)
            attempt.placed_at, attempt.ended_at, attempt.updated_at = clock, end, end
            if attempt.answered_at is not None:
                attempt.answered_at = clock + timedelta(seconds=6)
            call = session.get(CampaignCall, claim.call_id)
            call.updated_at = end
            session.add_all([attempt, call])
            ended_at.append(end)
            placed += 1
            clock = end + timedelta(seconds=rng.randint(20, 60))
    session.flush()
    session.refresh(campaign)
    finished = max(ended_at, default=started) + timedelta(minutes=1)
    for call in session.exec(select(CampaignCall).where(CampaignCall.campaign_id == campaign.id,
                                                        CampaignCall.status == "skipped")):
        call.updated_at = started
        session.add(call)
    if campaign.status == "completed":
        campaign.completed_at = campaign.updated_at = finished
        session.add(campaign)
    log.info("demo.campaign_run", campaign_id=campaign.id, status=campaign.status, calls=placed)
    return placed
