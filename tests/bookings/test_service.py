"""Booking rules: opening hours, the past, no double booking (also under a race), the workflow, rescheduling,
free slots, time zones and DST, activity entries."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from itertools import permutations
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, func, select

from navaia_app.bookings import service
from navaia_app.bookings.models import BOOKING_STATUSES, Booking, BookingPatch
from navaia_app.activity.models import ActivityEntry
from navaia_app.core.db import engine_for
from navaia_app.core.errors import Conflict, NotFound, ValidationFailed
from navaia_app.core.live import bump
from navaia_app.customers.models import Customer

UTC = timezone.utc
NOW = datetime(2026, 3, 16, 8, 0, tzinfo=UTC)  # a Monday, before opening (09:00-17:00 UTC by default)
MON = datetime(2026, 3, 16, tzinfo=UTC)

ALLOWED = {("pending", "confirmed"), ("pending", "cancelled"), ("confirmed", "completed"), ("confirmed", "no_show"),
           ("confirmed", "cancelled")}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A time in the week of NOW: day 0 is Monday 16 March 2026 (UTC)."""
    return MON + timedelta(days=day, hours=hour, minutes=minute)


@pytest.fixture
def customer(session) -> Customer:
    row = Customer(name="Ada Lovelace", phone="+14155550123", timezone="Europe/Paris")
    session.add(row)
    session.commit()
    return row


def _book(session, customer, starts_at, **fields) -> Booking:
    fields.setdefault("service", "Consultation")
    fields.setdefault("now", NOW)
    booking = service.create_booking(session=session, customer_id=customer.id, starts_at=starts_at, **fields)
    session.commit()
    return booking


def _count(session) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(Booking)).one()


def _activity(session, booking_id) -> list[ActivityEntry]:
    session.expire_all()
    return list(session.exec(select(ActivityEntry).where(ActivityEntry.subject_type == "booking",
                                                         ActivityEntry.subject_id == booking_id)
                             .order_by(ActivityEntry.id)))


# --- create ----------------------------------------------------------------------------------------


def test_create_stores_utc_to_the_minute_with_default_duration(session, customer, make_user):
    user = make_user()
    paris = ZoneInfo("Europe/Paris")
    booking = _book(session, customer, datetime(2026, 3, 16, 11, 30, 42, tzinfo=paris), actor_id=user.id)
    session.expire_all()
    row = session.get(Booking, booking.id)
    assert row.starts_at == datetime(2026, 3, 16, 10, 30, tzinfo=UTC)  # 11:30 in Paris (CET) is 10:30 UTC
    assert row.ends_at == row.starts_at + timedelta(minutes=30)  # BOOKING_SLOT_MINUTES
    assert (row.duration_minutes, row.status, row.source, row.resource) == (30, "pending", "manual", "business")
    [entry] = _activity(session, booking.id)
    assert (entry.kind, entry.actor_id, entry.to_value) == ("created", user.id, "pending")


def test_slot_length_comes_from_settings(session, customer, set_env):
    set_env(BOOKING_SLOT_MINUTES="45")
    booking = _book(session, customer, at(0, 9))
    assert booking.duration_minutes == 45


@pytest.mark.parametrize(("starts_at", "minutes", "reason"), [
    (at(0, 7, 59), 30, "in the past"),
    (at(-3, 10), 30, "in the past"),
    (at(0, 8, 30), 60, "outside opening hours"),      # starts before 09:00
    (at(0, 16, 45), 30, "outside opening hours"),     # ends after 17:00
    (at(0, 17), 30, "outside opening hours"),
    (at(5, 10), 30, "outside opening hours"),         # Saturday
    (at(6, 10), 30, "outside opening hours"),         # Sunday
    (at(0, 23, 30), 60, "outside opening hours"),     # crosses midnight
])
def test_times_in_the_past_or_outside_opening_hours_are_refused_with_the_reason(session, customer, starts_at,
                                                                                minutes, reason):
    with pytest.raises(ValidationFailed) as caught:
        service.create_booking(session=session, customer_id=customer.id, service="Consultation",
                               starts_at=starts_at, duration_minutes=minutes, now=NOW)
    assert reason in caught.value.message and caught.value.field == "starts_at"
    session.rollback()
    assert _count(session) == 0


def test_outside_hours_message_says_when_the_business_is_open(session, customer):
    with pytest.raises(ValidationFailed) as caught:
        service.create_booking(session=session, customer_id=customer.id, service="X", starts_at=at(5, 10), now=NOW)
    assert "closed on Saturdays" in caught.value.message
    assert "Mon–Fri 09:00–17:00" in caught.value.message
    with pytest.raises(ValidationFailed) as caught:
        service.create_booking(session=session, customer_id=customer.id, service="X", starts_at=at(0, 18), now=NOW)
    assert "on Mondays the business is open 09:00-17:00" in caught.value.message


def test_exact_opening_and_closing_times_are_bookable(session, customer):
    _book(session, customer, at(0, 9))
    _book(session, customer, at(0, 16, 30))
    assert _count(session) == 2


def test_several_ranges_and_weekend_hours_from_settings(session, customer, set_env):
    set_env(BUSINESS_HOURS="mon-fri 09:00-12:00,13:00-17:00; sat 10:00-14:00")
    _book(session, customer, at(5, 10))  # Saturday morning is open now
    with pytest.raises(ValidationFailed, match="outside opening hours"):
        service.create_booking(session=session, customer_id=customer.id, service="X", starts_at=at(0, 12), now=NOW)
    with pytest.raises(ValidationFailed, match="outside opening hours"):
        service.create_booking(session=session, customer_id=customer.id, service="X", starts_at=at(0, 11, 45),
                               now=NOW)


@pytest.mark.parametrize(("fields", "errors"), [
    ({"service": " "}, {"service"}),
    ({"duration_minutes": 0}, {"duration_minutes"}),
    ({"duration_minutes": 481}, {"duration_minutes"}),
    ({"duration_minutes": "30"}, {"duration_minutes"}),
    ({"status": "done"}, {"status"}),
    ({"status": "completed"}, {"status"}),  # a new booking is pending or confirmed
    ({"source": "fax"}, {"source"}),
    ({"notes": "x" * 4001}, {"notes"}),
    ({"resource": ""}, {"resource"}),
    ({"starts_at": datetime(2026, 3, 16, 10)}, {"starts_at"}),  # naive
    ({"service": "", "status": "x"}, {"service", "status"}),
])
def test_bad_fields_are_refused_naming_each(session, customer, fields, errors):
    fields = {"service": "Consultation", "starts_at": at(0, 10), **fields}
    with pytest.raises(ValidationFailed) as caught:
        service.create_booking(session=session, customer_id=customer.id, now=NOW, **fields)
    assert set(caught.value.errors) == errors


def test_unknown_customer_or_conversation_is_refused(session, customer):
    with pytest.raises(ValidationFailed, match="Customer 999 does not exist"):
        service.create_booking(session=session, customer_id=999, service="X", starts_at=at(0, 10), now=NOW)
    with pytest.raises(ValidationFailed, match="Conversation 5 does not exist"):
        service.create_booking(session=session, customer_id=customer.id, service="X", starts_at=at(0, 10),
                               conversation_id=5, now=NOW)


def test_history_goes_in_only_when_asked_explicitly(session, customer):
    past = at(-7, 10)
    with pytest.raises(ValidationFailed, match="in the past"):
        service.create_booking(session=session, customer_id=customer.id, service="X", starts_at=past, now=NOW)
    booking = _book(session, customer, past, status="completed", enforce_schedule=False)
    assert booking.status == "completed"
    # Even history cannot double-book.
    with pytest.raises(Conflict):
        service.create_booking(session=session, customer_id=customer.id, service="X", starts_at=past,
                               status="completed", enforce_schedule=False, now=NOW)


# --- overlaps --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "minutes"), [
    (at(0, 10), 30), (at(0, 10, 15), 30), (at(0, 9, 45), 30), (at(0, 9, 30), 120), (at(0, 10, 10), 5),
])
def test_overlapping_times_of_the_same_resource_are_refused(session, customer, start, minutes):
    _book(session, customer, at(0, 10), duration_minutes=30, service="Device repair")
    with pytest.raises(Conflict) as caught:
        service.create_booking(session=session, customer_id=customer.id, service="X", starts_at=start,
                               duration_minutes=minutes, now=NOW)
    assert "overlaps another booking (Device repair, Mon 2026-03-16 10:00-10:30 UTC)" in caught.value.message
    session.rollback()
    assert _count(session) == 1


def test_back_to_back_other_resources_and_cancelled_bookings_do_not_overlap(session, customer):
    first = _book(session, customer, at(0, 10))
    _book(session, customer, at(0, 10, 30))  # starts when the first ends
    _book(session, customer, at(0, 9, 30))   # ends when the first starts
    _book(session, customer, at(0, 10), resource="Room 2")
    service.change_booking_status(session=session, booking_id=first.id, status="cancelled", now=NOW)
    session.commit()
    _book(session, customer, at(0, 10))  # the cancelled one no longer holds its slot
    assert _count(session) == 5


def _race(database_url: str, customer_id: int, attempts: int, hold: float = 0.4) -> tuple[list[int], list[str]]:
    """`attempts` threads book the same slot at the same moment; each holds its transaction open a while."""
    engine = engine_for(database_url)
    barrier = threading.Barrier(attempts)
    created: list[int] = []
    refused: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def attempt(n: int) -> None:
        with Session(engine, expire_on_commit=False) as db:
            barrier.wait()
            try:
                booking = service.create_booking(session=db, customer_id=customer_id, service=f"Attempt {n}",
                                                 starts_at=at(0, 10), duration_minutes=30 + n, now=NOW)
                time.sleep(hold)  # the insert is done but not committed: the window a race needs
                db.commit()
                with lock:
                    created.append(booking.id)
            except Conflict as exc:
                db.rollback()
                with lock:
                    refused.append(exc.message)
            except BaseException as exc:  # anything else fails the test, below
                with lock:
                    errors.append(exc)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    return created, refused


def test_two_requests_racing_for_one_slot_book_it_once(session, customer, database_url):
    bump(session, "bookings")  # the live-update row exists, as it does once anything was booked
    session.commit()
    created, refused = _race(database_url, customer.id, attempts=4)
    assert len(created) == 1, (created, refused)
    assert len(refused) == 3 and all("overlaps another booking" in m for m in refused)
    held = session.exec(select(Booking)).all()
    assert [b.id for b in held] == created


def test_racing_reschedules_cannot_double_book(session, customer, database_url):
    a = _book(session, customer, at(0, 9))
    b = _book(session, customer, at(0, 11))
    engine = engine_for(database_url)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def move(booking_id: int) -> None:
        with Session(engine, expire_on_commit=False) as db:
            barrier.wait()
            try:
                service.reschedule_booking(session=db, booking_id=booking_id, starts_at=at(0, 14), now=NOW)
                time.sleep(0.4)
                db.commit()
                outcomes.append("moved")
            except Conflict:
                db.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=move, args=(i,)) for i in (a.id, b.id)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["moved", "refused"]
    session.expire_all()
    assert sorted(b.starts_at.hour for b in session.exec(select(Booking))) in ([9, 14], [11, 14])


# --- workflow --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "target"), list(permutations(BOOKING_STATUSES, 2)))
def test_every_move_of_the_workflow(session, customer, make_user, start, target):
    user = make_user()
    booking = _book(session, customer, at(-1, 10), status=start, enforce_schedule=False)  # yesterday: it has started
    if (start, target) in ALLOWED:
        moved = service.change_booking_status(session=session, booking_id=booking.id, status=target,
                                              actor_id=user.id, now=NOW)
        session.commit()
        assert moved.status == target
        entry = _activity(session, booking.id)[-1]
        assert (entry.kind, entry.from_value, entry.to_value, entry.actor_id) == ("status", start, target, user.id)
    else:
        with pytest.raises(Conflict) as caught:
            service.change_booking_status(session=session, booking_id=booking.id, status=target, now=NOW)
        session.rollback()
        message = caught.value.message
        if start in ("pending", "confirmed"):
            assert f"cannot go from {service.STATUS_LABELS[start].lower()} to " \
                   f"{service.STATUS_LABELS[target].lower()}" in message
        else:
            assert "can no longer change" in message
        session.expire_all()
        assert session.get(Booking, booking.id).status == start
        assert [e.kind for e in _activity(session, booking.id)] == ["created"]


@pytest.mark.parametrize("target", ["completed", "no_show"])
def test_a_booking_is_completed_or_missed_only_once_it_has_started(session, customer, target):
    booking = _book(session, customer, at(0, 10), status="confirmed")
    with pytest.raises(Conflict, match="once it has started"):
        service.change_booking_status(session=session, booking_id=booking.id, status=target, now=NOW)
    session.rollback()
    moved = service.change_booking_status(session=session, booking_id=booking.id, status=target,
                                          now=at(0, 10, 5))
    assert moved.status == target


# --- reschedule ------------------------------------------------------------------------------------


def test_reschedule_moves_the_booking_under_the_same_rules(session, customer, make_user):
    user = make_user()
    booking = _book(session, customer, at(0, 10))
    _book(session, customer, at(0, 14))
    moved = service.reschedule_booking(session=session, booking_id=booking.id, starts_at=at(1, 9),
                                       duration_minutes=60, actor_id=user.id, now=NOW)
    session.commit()
    assert (moved.starts_at, moved.ends_at, moved.duration_minutes) == (at(1, 9), at(1, 10), 60)
    entry = _activity(session, booking.id)[-1]
    assert entry.kind == "rescheduled" and entry.actor_id == user.id
    assert service.parse_slot_value(entry.from_value) == (at(0, 10), 30, "business")
    assert service.parse_slot_value(entry.to_value) == (at(1, 9), 60, "business")
    # Moving into its own old slot's neighbourhood is fine: it does not overlap itself.
    service.reschedule_booking(session=session, booking_id=booking.id, starts_at=at(1, 9, 30), now=NOW)
    with pytest.raises(Conflict, match="overlaps another booking"):
        service.reschedule_booking(session=session, booking_id=booking.id, starts_at=at(0, 13, 45), now=NOW)
    with pytest.raises(ValidationFailed, match="outside opening hours"):
        service.reschedule_booking(session=session, booking_id=booking.id, starts_at=at(5, 10), now=NOW)
    with pytest.raises(ValidationFailed, match="in the past"):
        service.reschedule_booking(session=session, booking_id=booking.id, starts_at=at(0, 7), now=NOW)


@pytest.mark.parametrize("status", ["cancelled", "completed", "no_show"])
def test_finished_bookings_cannot_be_rescheduled(session, customer, status):
    booking = _book(session, customer, at(-1, 10), status=status, enforce_schedule=False)
    with pytest.raises(Conflict, match="cannot be rescheduled"):
        service.reschedule_booking(session=session, booking_id=booking.id, starts_at=at(1, 10), now=NOW)


def test_other_changes_are_recorded(session, customer):
    other = Customer(name="Grace Hopper", phone="+14155550199")
    session.add(other)
    session.commit()
    booking = _book(session, customer, at(0, 10))
    service.update_booking(session=session, booking_id=booking.id, now=NOW,
                           patch=BookingPatch(service="Follow-up", notes="bring records", customer_id=other.id))
    session.commit()
    kinds = [(e.kind, e.from_value, e.to_value) for e in _activity(session, booking.id)]
    assert ("service", "Consultation", "Follow-up") in kinds
    assert ("customer_id", str(customer.id), str(other.id)) in kinds
    assert ("edited", None, None) in kinds
    with pytest.raises(ValidationFailed):
        service.update_booking(session=session, booking_id=booking.id, patch={"service": ""}, now=NOW)
    with pytest.raises(ValidationFailed):
        service.update_booking(session=session, booking_id=booking.id, patch={"password": "x"}, now=NOW)
    with pytest.raises(NotFound):
        service.update_booking(session=session, booking_id=999, patch={"notes": "x"}, now=NOW)


def test_delete_removes_the_booking_and_its_timeline(session, customer):
    booking = _book(session, customer, at(0, 10))
    service.delete_booking(session=session, booking_id=booking.id)
    session.commit()
    assert _count(session) == 0 and _activity(session, booking.id) == []


# --- free slots ------------------------------------------------------------------------------------


def test_free_slots_skip_taken_and_past_times_and_closed_days(session, customer):
    _book(session, customer, at(0, 10), duration_minutes=60)
    slots = service.free_slots(session=session, start=MON, end=MON + timedelta(days=7), now=at(0, 9, 10))
    assert all(s.tzinfo is not None and s.utcoffset() == timedelta(0) for s in slots)
    monday = [s for s in slots if s.date() == MON.date()]
    assert monday[0] == at(0, 9, 30)  # 09:00 has passed
    assert at(0, 10) not in monday and at(0, 10, 30) not in monday and at(0, 11) in monday
    assert monday[-1] == at(0, 16, 30)
    assert {s.weekday() for s in slots} == {0, 1, 2, 3, 4}  # closed at weekends
    assert len([s for s in slots if s.date() == at(1, 0).date()]) == 16


def test_free_slots_for_a_longer_duration_must_fit_entirely(session, customer):
    _book(session, customer, at(0, 12))
    slots = service.free_slots(session=session, start=at(0, 0), end=at(1, 0), duration_minutes=90, now=NOW)
    assert at(0, 11) not in slots and at(0, 10, 30) in slots and at(0, 11, 30) not in slots
    assert at(0, 12, 30) in slots and at(0, 15, 30) in slots and at(0, 16) not in slots


def test_free_slots_keep_to_the_window_asked(session):
    slots = service.free_slots(session=session, start=at(0, 10), end=at(0, 11), now=NOW)
    assert slots == [at(0, 10), at(0, 10, 30)]
    assert service.free_slots(session=session, start=at(-2, 0), end=at(-1, 0), now=NOW) == []


def test_free_slots_ignore_other_resources_and_cancelled_bookings_and_the_one_being_moved(session, customer):
    room = _book(session, customer, at(0, 10), resource="Room 2")
    mine = _book(session, customer, at(0, 11))
    cancelled = _book(session, customer, at(0, 12))
    service.change_booking_status(session=session, booking_id=cancelled.id, status="cancelled", now=NOW)
    session.commit()
    slots = service.free_slots(session=session, start=at(0, 0), end=at(1, 0), now=NOW)
    assert at(0, 10) in slots and at(0, 11) not in slots and at(0, 12) in slots
    assert at(0, 11) in service.free_slots(session=session, start=at(0, 0), end=at(1, 0), now=NOW,
                                           ignore_booking_id=mine.id)
    assert at(0, 10) not in service.free_slots(session=session, start=at(0, 0), end=at(1, 0), now=NOW,
                                               resource=room.resource)


def test_every_free_slot_can_be_booked(session, customer):
    slots = service.free_slots(session=session, start=at(0, 0), end=at(1, 0), duration_minutes=45, now=NOW)
    taken = 0
    for slot in slots:
        try:
            _book(session, customer, slot, duration_minutes=45)
            taken += 1
        except Conflict:
            session.rollback()
    assert taken >= len(slots) // 2
    assert service.free_slots(session=session, start=at(0, 0), end=at(1, 0), duration_minutes=45, now=NOW) == []


@pytest.mark.parametrize(("start", "end", "field"), [
    (at(0, 10), at(0, 9), "end"), (at(0, 0), at(70, 0), "end"), (datetime(2026, 3, 16), at(1, 0), "start"),
])
def test_free_slots_refuse_bad_windows(session, start, end, field):
    with pytest.raises(ValidationFailed) as caught:
        service.free_slots(session=session, start=start, end=end, now=NOW)
    assert caught.value.field == field


# --- time zones and DST ---------------------------------------------------------------------------------


def test_a_booking_made_in_one_zone_shows_right_in_another(session, customer):
    tokyo, new_york, paris = ZoneInfo("Asia/Tokyo"), ZoneInfo("America/New_York"), ZoneInfo("Europe/Paris")
    booking = _book(session, customer, datetime(2026, 3, 17, 6, 0, tzinfo=new_york))  # 10:00 UTC (EDT, -4)
    session.expire_all()
    row = session.get(Booking, booking.id)
    assert row.starts_at == at(1, 10)
    assert service.describe_time(row.starts_at, row.ends_at, tokyo) == "Tue 2026-03-17 19:00-19:30 JST"
    assert service.describe_time(row.starts_at, row.ends_at, paris) == "Tue 2026-03-17 11:00-11:30 CET"
    assert service.describe_time(row.starts_at, row.ends_at, new_york) == "Tue 2026-03-17 06:00-06:30 EDT"


def test_opening_hours_follow_the_business_zone_across_a_dst_change(session, customer, set_env):
    set_env(BUSINESS_TIMEZONE="America/New_York")  # clocks go forward on Sunday 8 March 2026
    now = datetime(2026, 3, 5, 12, tzinfo=UTC)
    friday, monday = datetime(2026, 3, 6, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC)
    slots = service.free_slots(session=session, start=friday, end=monday + timedelta(days=1), now=now)
    first_friday = min(s for s in slots if s.astimezone(ZoneInfo("America/New_York")).day == 6)
    first_monday = min(s for s in slots if s.astimezone(ZoneInfo("America/New_York")).day == 9)
    assert first_friday == datetime(2026, 3, 6, 14, tzinfo=UTC)  # 09:00 EST
    assert first_monday == datetime(2026, 3, 9, 13, tzinfo=UTC)  # 09:00 EDT
    # 13:00 UTC is opening time on Monday but 08:00 (closed) on the Friday before.
    _book(session, customer, datetime(2026, 3, 9, 13, tzinfo=UTC), now=now)
    with pytest.raises(ValidationFailed, match="outside opening hours"):
        service.create_booking(session=session, customer_id=customer.id, service="X",
                               starts_at=datetime(2026, 3, 6, 13, tzinfo=UTC), now=now)
    # The message speaks the business's local time.
    with pytest.raises(ValidationFailed, match="Fri 2026-03-06 08:00-08:30 EST"):
        service.create_booking(session=session, customer_id=customer.id, service="X",
                               starts_at=datetime(2026, 3, 6, 13, tzinfo=UTC), now=now)


# --- lists and figures -------------------------------------------------------------------------------


def test_list_filters_and_pages(session, customer):
    other = Customer(name="Grace Hopper", phone="+14155550199", email="grace@navy.example.org")
    session.add(other)
    session.commit()
    a = _book(session, customer, at(0, 9))
    b = _book(session, other, at(0, 10), status="confirmed", source="api")
    c = _book(session, customer, at(1, 9), source="ai_call")

    def ids(**params):
        items, total = service.list_bookings(session=session, **params)
        return [x.id for x in items], total

    assert ids() == ([a.id, b.id, c.id], 3)
    assert ids(status="confirmed") == ([b.id], 1)
    assert ids(status=["pending", "confirmed"], customer_id=customer.id) == ([a.id, c.id], 2)
    assert ids(source="ai_call") == ([c.id], 1)
    assert ids(starts_from=at(0, 10), starts_to=at(1, 0)) == ([b.id], 1)
    assert ids(customer_q="grace") == ([b.id], 1)
    assert ids(customer_q="navy.example") == ([b.id], 1)
    assert ids(customer_q="555-0123") == ([a.id, c.id], 2)
    assert ids(descending=True, limit=2) == ([c.id, b.id], 3)
    assert ids(limit=1, offset=2) == ([c.id], 3)
    with pytest.raises(ValidationFailed):
        service.list_bookings(session=session, status="done")
    with pytest.raises(ValidationFailed):
        service.list_bookings(session=session, starts_from=datetime(2026, 3, 16))


def test_week_view_and_figures(session, customer, set_env):
    _book(session, customer, at(0, 9))
    _book(session, customer, at(0, 10), status="confirmed")
    cancelled = _book(session, customer, at(1, 9))
    service.change_booking_status(session=session, booking_id=cancelled.id, status="cancelled", now=NOW)
    _book(session, customer, at(8, 9))
    session.commit()
    week = service.bookings_between(session=session, start=MON, end=MON + timedelta(days=7))
    assert [(v.booking.starts_at, v.customer_name, v.customer_timezone) for v in week][:2] == [
        (at(0, 9), "Ada Lovelace", "Europe/Paris"), (at(0, 10), "Ada Lovelace", "Europe/Paris")]
    assert len(week) == 3
    assert len(service.bookings_between(session=session, start=MON, end=MON + timedelta(days=7),
                                        include_cancelled=False)) == 2
    per_day = service.bookings_per_day(session=session, now=NOW, zone=ZoneInfo("UTC"), days=14)
    assert len(per_day) == 14 and per_day[0] == (MON.date(), 2)
    assert dict(per_day)[at(1, 0).date()] == 0  # cancelled ones are not counted
    assert dict(per_day)[at(8, 0).date()] == 1
    # In Tokyo (+9) the 09:00 UTC booking is on Monday evening, the others too.
    tokyo = service.bookings_per_day(session=session, now=NOW, zone=ZoneInfo("Asia/Tokyo"), days=14)
    assert tokyo[0] == (MON.date(), 2)
    assert service.count_upcoming_bookings(session=session, now=NOW) == 3
    assert service.resources_in_use(session=session) == ["business"]
