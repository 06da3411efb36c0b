"""The demo data set: complete (every status), believable (valid phones, business hours), consistent."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from sqlmodel import Session, select

from navaia_app.auth.models import User
from navaia_app.bookings.models import BOOKING_STATUSES, Booking
from navaia_app.core.db import engine_for
from navaia_app.core.migrations import upgrade_database
from navaia_app.core.settings import get_settings
from navaia_app.customers.models import Customer
from navaia_app.demo import DEMO_EMAIL, DEMO_PASSWORD, is_empty, seed_demo
from navaia_app.tickets.models import SOURCES, TICKET_PRIORITIES, TICKET_STATUSES, Ticket

NOW = datetime(2026, 3, 18, 15, 7, tzinfo=timezone.utc)  # a Wednesday


@pytest.fixture(params=["UTC", "America/New_York"])
def demo_db(request, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    upgrade_database(url)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("BUSINESS_TIMEZONE", request.param)
    get_settings.cache_clear()
    with Session(engine_for(url), expire_on_commit=False) as db:
        yield db
    engine_for(url).dispose()
    get_settings.cache_clear()


def test_seed_demo_creates_a_complete_believable_data_set(demo_db):
    assert is_empty(session=demo_db)
    report = seed_demo(demo_db, now=NOW)
    demo_db.commit()
    assert not is_empty(session=demo_db)

    [admin] = demo_db.exec(select(User)).all()
    assert (admin.email, admin.role, report.admin_created) == (DEMO_EMAIL, "admin", True)
    from navaia_app.auth.service import HASHER
    assert HASHER.verify(DEMO_PASSWORD, admin.password_hash)

    customers = demo_db.exec(select(Customer)).all()
    assert report.customers == 40 and len(customers) == 41  # and one new caller, whom the agent's call added
    countries = {phonenumbers.region_code_for_number(phonenumbers.parse(c.phone)) for c in customers}
    assert {"US", "GB", "FR", "DE", "IN", "AU", "JP", "BR", "AE"} <= countries
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(c.phone)) for c in customers)
    assert sum(c.do_not_call for c in customers) >= 2
    assert all(c.timezone is None or ZoneInfo(c.timezone) for c in customers)

    tickets = demo_db.exec(select(Ticket)).all()
    assert 25 <= len(tickets) == report.tickets
    assert {t.status for t in tickets} == set(TICKET_STATUSES)
    assert {t.priority for t in tickets} == set(TICKET_PRIORITIES)
    assert {t.source for t in tickets} == set(SOURCES)
    assert all(NOW - timedelta(days=30) <= t.created_at <= NOW for t in tickets)
    assert all(t.created_at <= t.updated_at <= NOW for t in tickets)
    assert all((t.resolved_at is not None) == (t.status in ("resolved", "closed")) for t in tickets)

    bookings = demo_db.exec(select(Booking).order_by(Booking.starts_at)).all()
    assert 25 <= len(bookings) == report.bookings
    assert {b.status for b in bookings} == set(BOOKING_STATUSES)
    zone = ZoneInfo(get_settings().business_timezone)
    for booking in bookings:
        local_start, local_end = booking.starts_at.astimezone(zone), booking.ends_at.astimezone(zone)
        assert local_start.weekday() < 5
        assert time(9) <= local_start.time() and local_end.time() <= time(17) and local_end.date() == local_start.date()
        assert booking.duration_minutes in (30, 45, 60)
        assert booking.ends_at - booking.starts_at == timedelta(minutes=booking.duration_minutes)
        if booking.ends_at <= NOW:
            assert booking.status in ("completed", "no_show", "cancelled")
        elif booking.starts_at >= NOW:
            assert booking.status in ("pending", "confirmed")
    for earlier, later in zip(bookings, bookings[1:]):
        assert earlier.ends_at <= later.starts_at, "bookings overlap"


def test_seeding_again_reuses_customers_and_keeps_bookings_apart(demo_db):
    seed_demo(demo_db, now=NOW)
    again = seed_demo(demo_db, now=NOW, seed=7)
    demo_db.commit()
    assert again.customers == 0 and again.customers_existing == 40 and not again.admin_created
    assert len(demo_db.exec(select(User)).all()) == 1
    held = demo_db.exec(select(Booking).where(Booking.status != "cancelled").order_by(Booking.starts_at)).all()
    for earlier, later in zip(held, held[1:]):
        assert earlier.ends_at <= later.starts_at, "bookings overlap"
    assert Counter(b.status for b in held)["pending"] >= 1


def test_demo_calls_tell_the_whole_story(demo_db):
    """A dozen conversations over two weeks (transcripts, summaries, what they made), one waiting for review,
    one failed, today's calls, and a completed campaign whose calls and outcomes agree with them."""
    from navaia_app.bookings.models import Booking
    from navaia_app.campaigns.models import Campaign, CampaignCall, CampaignCallAttempt
    from navaia_app.conversations.models import Conversation, WebhookEvent

    report = seed_demo(demo_db, now=NOW)
    demo_db.commit()
    conversations = demo_db.exec(select(Conversation).order_by(Conversation.started_at)).all()
    assert len(conversations) == report.conversations >= 12
    assert all(NOW - timedelta(days=14) <= c.started_at <= NOW for c in conversations)
    zone = ZoneInfo(get_settings().business_timezone)
    assert sum(c.started_at.astimezone(zone).date() == NOW.astimezone(zone).date() for c in conversations) >= 2
    # every webhook went through the inbox and was processed
    events = demo_db.exec(select(WebhookEvent)).all()
    assert len(events) == len(conversations) and {e.status for e in events} == {"processed"}

    review = [c for c in conversations if c.needs_review]
    assert len(review) == 1 and "outside opening hours" in review[0].review_reason
    failed = [c for c in conversations if c.status == "failed"]
    assert len(failed) == 1 and failed[0].outcome == "not_connected" and failed[0].campaign_call_id
    for c in conversations:
        if c.status == "failed":
            continue
        assert c.transcript and c.summary and c.customer_id, c.external_id
        if c.outcome == "booking_created":
            booking = demo_db.get(Booking, c.booking_id)
            assert booking.conversation_id == c.id and booking.source == "ai_call"
            assert booking.customer_id == c.customer_id and booking.starts_at > c.started_at
            assert booking.created_at == c.created_at  # made when the call ended
        elif c.outcome == "ticket_created":
            ticket = demo_db.get(Ticket, c.ticket_id)
            assert ticket.conversation_id == c.id and ticket.source == "ai_call" and ticket.customer_id == c.customer_id
        else:
            assert c is review[0]
    assert sum(c.outcome == "booking_created" for c in conversations) >= 4
    assert sum(c.outcome == "ticket_created" for c in conversations) >= 3

    [campaign] = demo_db.exec(select(Campaign)).all()
    assert campaign.status == "completed" and campaign.started_at < campaign.completed_at <= NOW
    calls = demo_db.exec(select(CampaignCall).where(CampaignCall.campaign_id == campaign.id)).all()
    outcomes = Counter(call.status for call in calls)
    assert outcomes["completed"] >= 2 and outcomes["skipped"] == 1 and outcomes["no_answer"] >= 1
    assert {"voicemail", "busy"} <= set(outcomes)
    for call in calls:
        attempts = demo_db.exec(select(CampaignCallAttempt).where(CampaignCallAttempt.campaign_call_id == call.id)).all()
        if call.status == "skipped":
            assert not attempts and call.skip_reason
            continue
        [attempt] = attempts
        assert attempt.outcome == call.status and campaign.started_at <= attempt.placed_at < attempt.ended_at
        assert attempt.ended_at <= campaign.completed_at
        if call.status == "completed":
            conversation = demo_db.get(Conversation, call.conversation_id)
            assert conversation.campaign_call_id == call.id and conversation.direction == "outbound"
            assert conversation.customer_id == call.customer_id
    assert report.campaign_calls == len(calls) - outcomes["skipped"]
