"""Planning booking reminders: which reminders a booking gets, when, and on which channel.

The bookings service tells this module (through bookings.listeners) of every booking create, move,
status change or customer change, and of a delete, in the same transaction, so the reminder rows are
always the plan of the booking as it stands. Rules:

- No reminders when reminders are off, for a booking that is cancelled, finished or already started, or
  for a service the settings leave out.
- Each channel with a lead time gets one reminder due `lead` before the start, moved into the allowed
  hours of the customer's own zone (never before 09:00 or after 20:00 by default): to the last allowed
  minute before, or else to the next opening if that is still before the start.
- A booking made inside a lead time gets that reminder at once if it starts in MIN_NOTICE or more,
  otherwise none; its timeline says which.
- Channel order and fallback: with `sms_fallback`, a later channel is held until the earlier one reached
  nobody (no answer, busy, failed, voicemail); without it, every channel goes at its own time.
  A customer the outbound pipeline may not reach on a channel (do-not-call for calls, the SMS opt-out for
  texts, a number that cannot be dialled) has that channel skipped; the next channel moves up.
- A booking that moves gets a fresh plan; the old reminders not yet sent are cancelled. Reminders already
  with a provider or answered stay as history, and a channel already used for this start is not used again.

This module reads bookings and customers but imports no feature service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, select

from navaia_app.bookings.models import Booking
from navaia_app.campaigns.schedule import CallingWindow
from navaia_app.campaigns.schedule import zone as window_zone
from navaia_app.activity.service import record_activity
from navaia_app.core.logging import get_logger
from navaia_app.core.settings import get_settings
from navaia_app.core.types import utcnow
from navaia_app.customers.models import Customer
from navaia_app.outreach.eligibility import check_eligibility
from navaia_app.reminders.models import OPEN_STATUSES, BookingReminder, ReminderSettings

log = get_logger(__name__)

MIN_NOTICE = timedelta(minutes=15)  # a reminder that would arrive later than this before the start is pointless
UPCOMING = ("pending", "confirmed")
ALL_DAYS = "mon,tue,wed,thu,fri,sat,sun"
CHANNEL_NAMES = {"call": "call", "sms": "text"}


# --- settings -------------------------------------------------------------------------------------


def load_settings(session: Session) -> ReminderSettings:
    """The reminder settings (the defaults until an admin saves them)."""
    return session.get(ReminderSettings, 1) or ReminderSettings(id=1)


def channel_order(settings: ReminderSettings) -> list[str]:
    """Both channels ("call", "sms") in the order the settings try them; an unknown or missing one is left out
    of the stored order and appended, so the result always holds each channel once."""
    order = [c.strip() for c in (settings.channel_order or "").split(",") if c.strip() in ("call", "sms")]
    for channel in ("call", "sms"):
        if channel not in order:
            order.append(channel)
    return order


def lead_of(settings: ReminderSettings, channel: str) -> int | None:
    """How many minutes before the booking the `channel` ("call", else sms) reminds; None: that channel is off."""
    return settings.call_lead_minutes if channel == "call" else settings.sms_lead_minutes


def window_of(settings: ReminderSettings) -> CallingWindow:
    """The hours (every day of the week) reminders may reach a customer, in the customer's zone."""
    return CallingWindow.of(settings.window_start, settings.window_end, ALL_DAYS)


def zone_name(customer: Customer | None) -> str:
    """The customer's time zone name, or the business zone when they have none (or a zone tzdata no longer
    knows). Never raises."""
    name = (customer.timezone if customer is not None else None) or get_settings().business_timezone
    try:
        ZoneInfo(name)
    except Exception:  # a zone removed from tzdata since it was stored
        return get_settings().business_timezone
    return name


def spoken_start(moment: datetime, zone: str) -> str:
    """'Thursday 3 December at 10:30' in the customer's zone."""
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local:%A} {local.day} {local:%B} at {local:%H:%M}"


def describe_lead(minutes: int) -> str:
    """A lead time as a person says it: "24 h", "2 days", "3 h", "90 min"."""
    if minutes % 1440 == 0 and minutes:
        days = minutes // 1440
        return f"{days} day{'s' if days != 1 else ''}" if days > 1 else "24 h"
    if minutes % 60 == 0 and minutes:
        return f"{minutes // 60} h"
    return f"{minutes} min"


def excluded(settings: ReminderSettings, service: str) -> bool:
    """Whether bookings of `service` get no reminder (the settings' excluded services, compared trimmed and
    case-insensitively)."""
    wanted = (service or "").strip().lower()
    return any(wanted == (s or "").strip().lower() for s in settings.excluded_services or [])


# --- when ----------------------------------------------------------------------------------------


def _inside_and_previous_close(window: CallingWindow, moment: datetime, zone: str,
                               cache: dict | None) -> tuple[bool, datetime | None]:
    """Whether `moment` is in the allowed hours, and the latest close at or before it. The periods of the
    days around `moment`'s local day are read once per zone and day (`cache`)."""
    day = moment.astimezone(window_zone(zone)).date()
    key = ("spans", zone, day)
    spans = cache.get(key) if cache is not None else None
    if spans is None:
        # A period that closes on `day` opened at most two days before (a whole-day window crossing midnight).
        spans = window.spans_before(day, zone, 4)
        if cache is not None:
            cache[key] = spans
    inside = any(opens <= moment < closes for opens, closes in spans)
    closes = max((c for _, c in spans if c <= moment), default=None)
    return inside, closes


def fit_window(due: datetime, *, starts_at: datetime, now: datetime, window: CallingWindow,
               zone: str, cache: dict | None = None) -> datetime | None:
    """`due` moved into the allowed hours: itself, the last allowed minute before it (if not past), or the
    next opening if that is still MIN_NOTICE before the start. None when no allowed moment fits. `cache`
    remembers each zone's allowed hours per local day across bookings planned together."""
    inside, closes = _inside_and_previous_close(window, due, zone, cache)
    if inside:
        return due
    if closes is not None and closes - timedelta(minutes=1) >= now:
        return closes - timedelta(minutes=1)
    opening = window.next_opening(max(due, now), zone)
    if opening is not None and opening <= starts_at - MIN_NOTICE:
        return opening
    return None


@dataclass
class Wanted:
    channel: str
    position: int
    status: str  # planned, held or skipped
    due_at: datetime | None
    detail: str | None = None
    at_once: bool = False


@dataclass
class Plan:
    wanted: list[Wanted]
    notes: list[str]


def compute_plan(*, booking: Booking, customer: Customer | None, settings: ReminderSettings, now: datetime,
                 used_channels: set[str] = frozenset(), cache: dict | None = None) -> Plan:
    """The reminders `booking` should have now (pure: no database). `cache` keeps what does not depend on the
    booking (the window, each customer's eligibility per channel) across many bookings planned at once."""
    notes: list[str] = []
    if not settings.enabled or booking.status not in UPCOMING or booking.starts_at <= now:
        return Plan([], notes)
    cache = {} if cache is None else cache
    if "window" not in cache:  # what the settings say, read once
        cache["window"] = window_of(settings)
        cache["channels"] = [(position, channel, lead_of(settings, channel))
                             for position, channel in enumerate(channel_order(settings))]
        cache["excluded"] = {}
        cache["zones"] = {}
    if cache["excluded"].get(booking.service) is None:
        cache["excluded"][booking.service] = excluded(settings, booking.service)
    if cache["excluded"][booking.service]:
        return Plan([], [f"No reminders: reminders are off for {booking.service}."])
    named = customer.timezone if customer is not None else None
    zone = cache["zones"].get(named) or cache["zones"].setdefault(named, zone_name(customer))
    window = cache["window"]
    wanted: list[Wanted] = []
    for position, channel, lead in cache["channels"]:
        if lead is None or channel in used_channels:
            continue
        name = CHANNEL_NAMES[channel]
        due = booking.starts_at - timedelta(minutes=lead)
        at_once = False
        if due < now:
            if booking.starts_at - now < MIN_NOTICE:
                notes.append(f"No reminder {name}: the booking starts in under "
                             f"{int(MIN_NOTICE.total_seconds() // 60)} minutes.")
                continue
            due, at_once = now, True
        fitted = fit_window(due, starts_at=booking.starts_at, now=now, window=window, zone=zone, cache=cache)
        if fitted is None:
            notes.append(f"No reminder {name}: no time between {settings.window_start} and {settings.window_end} "
                         f"({zone}) is left before the booking.")
            continue
        # Whether this customer may be reached on this channel at all: the outbound pipeline's one rule.
        key = (customer.id if customer is not None else None, channel)
        if key not in cache:
            cache[key] = check_eligibility(contact=customer, channel=channel, now=now,
                                           numbers=cache.setdefault("numbers", {})) if customer is not None \
                else None
        verdict = cache[key]
        if verdict is None or verdict.verdict == "never":
            blocked = verdict.reason if verdict is not None else "the customer no longer exists"
            wanted.append(Wanted(channel, position, "skipped", None, f"Not sent: {blocked}."))
            continue
        earlier = any(w.status in ("planned", "held") for w in wanted)
        status = "held" if settings.sms_fallback and earlier else "planned"
        wanted.append(Wanted(channel, position, status, fitted, None, at_once and fitted <= now + timedelta(
            minutes=1)))
        if at_once:
            when = "at once" if fitted <= now + timedelta(minutes=1) else \
                f"at {spoken_start(fitted, zone)} (allowed hours)"
            notes.append(f"Reminder {name} {'if needed ' if status == 'held' else ''}{when}: booked inside the "
                         f"{describe_lead(lead)} lead time.")
    return Plan(wanted, notes)


# --- the rows --------------------------------------------------------------------------------------


def _replaceable(row: BookingReminder) -> bool:
    # Not yet handed to a provider: planned, held, or skipped when planned (tries 0).
    return row.status in OPEN_STATUSES or (row.status == "skipped" and row.tries == 0)


def _same(row: BookingReminder, want: Wanted, starts_at: datetime, now: datetime) -> bool:
    if (row.channel, row.status, row.position, row.booking_starts_at) != (want.channel, want.status, want.position,
                                                                          starts_at):
        return False
    if want.at_once:  # "now" moves: a row already due at once is the same plan
        return row.due_at is not None and row.due_at <= now + timedelta(minutes=1)
    return row.due_at == want.due_at


def apply_plan(session: Session, *, booking: Booking, customer: Customer | None, rows: list[BookingReminder],
               settings: ReminderSettings, now: datetime, reason: str, note: bool = True,
               cache: dict | None = None, bulk: list[dict] | None = None) -> list[BookingReminder]:
    """Bring `rows` (the booking's reminders) in line with its plan; returns the new rows. With `bulk`, the
    new rows are appended there as values for one multi-row INSERT instead (planning many at once)."""
    current = [r for r in rows if r.booking_starts_at == booking.starts_at and not _replaceable(r)
               and r.status != "cancelled"]
    open_rows = [r for r in rows if _replaceable(r)]
    in_flight = bool(current) and booking.status in UPCOMING and booking.starts_at > now and settings.enabled \
        and not excluded(settings, booking.service)
    if any(r.status == "answered" for r in current):
        plan = Plan([], [])
    elif in_flight:
        # The plan for this start is under way (a reminder went out): leave its waiting rows as they are.
        return []
    else:
        plan = compute_plan(booking=booking, customer=customer, settings=settings, now=now,
                            used_channels={r.channel for r in current}, cache=cache)
    if note and plan.notes and reason in ("created", "moved"):
        record_activity(session, subject_type="booking", subject_id=booking.id, kind="reminder",
                        body=" ".join(plan.notes), at=now)
    same = len(open_rows) == len(plan.wanted) and all(
        _same(r, w, booking.starts_at, now) for r, w in zip(sorted(open_rows, key=lambda r: r.position),
                                                           plan.wanted, strict=True))
    if same:
        return []
    why = {"moved": "the booking moved", "status": f"the booking is {booking.status.replace('_', '-')}",
           "settings": "the reminder settings changed", "customer": "the customer changed",
           "deleted": "the booking was deleted"}.get(reason, reason)
    for row in open_rows:
        if row.status == "skipped":
            session.delete(row)
            continue
        row.status, row.detail, row.updated_at = "cancelled", f"Not sent: {why}."[:300], now
        session.add(row)
    created = []
    for want in plan.wanted:
        if bulk is not None:
            bulk.append({"booking_id": booking.id, "customer_id": booking.customer_id, "channel": want.channel,
                         "position": want.position, "status": want.status, "due_at": want.due_at,
                         "booking_starts_at": booking.starts_at, "detail": want.detail, "tries": 0,
                         "created_at": now, "updated_at": now})
            continue
        row = BookingReminder(booking_id=booking.id, customer_id=booking.customer_id, channel=want.channel,
                              position=want.position, status=want.status, due_at=want.due_at,
                              booking_starts_at=booking.starts_at, detail=want.detail, created_at=now,
                              updated_at=now)
        session.add(row)
        created.append(row)
    return created


def reminders_of(session: Session, booking_id: int) -> list[BookingReminder]:
    """The booking's reminders, oldest first (none for an unknown booking: nothing raised)."""
    return list(session.exec(select(BookingReminder).where(BookingReminder.booking_id == booking_id)
                             .order_by(BookingReminder.id)))


def plan_booking_reminders(*, session: Session, booking: Booking, reason: str,
                           now: datetime | None = None) -> list[BookingReminder]:
    """Re-plan one booking's reminders (in the caller's transaction). `reason`: created, moved, status,
    customer or settings."""
    now = now or utcnow()
    settings = load_settings(session)
    rows = reminders_of(session, booking.id) if reason != "created" else []
    if not settings.enabled and not rows:
        return []
    customer = session.get(Customer, booking.customer_id)
    created = apply_plan(session, booking=booking, customer=customer, rows=rows, settings=settings, now=now,
                         reason=reason)
    session.flush()
    if created:
        log.info("reminders.planned", booking_id=booking.id, reason=reason,
                 channels=",".join(f"{r.channel}:{r.status}" for r in created))
    return created


def booking_changed(*, session: Session, booking: Booking, reason: str, now: datetime | None = None) -> None:
    """bookings.listeners: a booking changed, in its own transaction."""
    plan_booking_reminders(session=session, booking=booking, reason=reason, now=now)


def booking_deleting(*, session: Session, booking_id: int, now: datetime | None = None) -> None:
    """bookings.listeners: a booking is about to be deleted."""
    forget_booking(session=session, booking_id=booking_id, now=now)


def forget_booking(*, session: Session, booking_id: int, now: datetime | None = None) -> None:
    """Before a booking is deleted: its reminders not yet sent will never be (the rows go with it)."""
    now = now or utcnow()
    session.exec(sa.update(BookingReminder).where(BookingReminder.booking_id == booking_id,
                                                  BookingReminder.status.in_(OPEN_STATUSES))
                 .values(status="cancelled", detail="Not sent: the booking was deleted.", updated_at=now))


# What planning reads of a booking and of its customer (plan_upcoming loads only these columns).
BOOKING_FIELDS = (Booking.id, Booking.customer_id, Booking.starts_at, Booking.status, Booking.service)
CUSTOMER_FIELDS = (Customer.id, Customer.phone, Customer.timezone, Customer.do_not_call, Customer.sms_opt_out)


def plan_upcoming(*, session: Session, now: datetime | None = None, reason: str = "settings",
                  batch: int = 2000) -> dict[str, int]:
    """Re-plan every upcoming booking (after a settings change, or to catch up): a few queries per batch.
    Bookings and customers are read as plain rows (the columns the plan needs, each customer once), the
    window's hours and each customer's eligibility are cached across the batch, and the new rows go in as
    one multi-row INSERT per batch."""
    now = now or utcnow()
    settings = load_settings(session)
    counts = {"bookings": 0, "created": 0}
    cache: dict = {}
    customers: dict[int, object] = {}
    last_id = 0
    while True:
        bookings = list(session.exec(
            select(*BOOKING_FIELDS).where(Booking.status.in_(UPCOMING), Booking.starts_at > now,
                                          Booking.id > last_id)
            .order_by(Booking.id).limit(batch)))
        if not bookings:
            break
        last_id = bookings[-1].id
        missing = {b.customer_id for b in bookings} - customers.keys()
        if missing:
            customers.update((c.id, c) for c in session.exec(select(*CUSTOMER_FIELDS)
                                                            .where(Customer.id.in_(missing))))
        by_booking: dict[int, list[BookingReminder]] = {}
        for row in session.exec(select(BookingReminder).where(BookingReminder.booking_id.in_([b.id for b in bookings]))
                                .order_by(BookingReminder.id)):
            by_booking.setdefault(row.booking_id, []).append(row)
        bulk: list[dict] = []
        for booking in bookings:
            apply_plan(session, booking=booking, customer=customers.get(booking.customer_id),
                       rows=by_booking.get(booking.id, []), settings=settings, now=now, reason=reason, note=False,
                       cache=cache, bulk=bulk)
        session.flush()
        if bulk:
            # One executemany, not an ORM object each; render_nulls keeps every row the same shape (else the
            # ORM splits the batch at each change of which values are None: hundreds of statements).
            session.execute(sa.insert(BookingReminder).execution_options(render_nulls=True), bulk)
        counts["created"] += len(bulk)
        counts["bookings"] += len(bookings)
    log.info("reminders.replanned", reason=reason, **counts)
    return counts
