from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import reflex as rx
from sqlmodel import select

from navaia_app.auth.state import AuthState, actor, authenticated, field_errors
from navaia_app.bookings import service
from navaia_app.bookings.models import BOOKING_STATUSES, Booking
from navaia_app.conversations import service as conversations
from navaia_app.ui.confirm import FormDialogMixin
from navaia_app.ui.timefmt import (ViewerZoneMixin, fmt_short, fmt_time, fmt_when, fmt_zone, parse_day, week_start)
from navaia_app.core.db import session_scope
from navaia_app.core.errors import DomainError, ValidationFailed
from navaia_app.core.settings import get_settings
from navaia_app.core.types import utcnow
from navaia_app.core.zones import business_zone, customer_zone, local_datetime, local_midnight, zone_named
from navaia_app.customers.models import Customer
from navaia_app.customers.picker import CustomerPickerMixin
from navaia_app.reminders import service as reminders
from navaia_app.tickets.service import SOURCE_LABELS
from navaia_app.ui.detail import RecordDetail, TimelineRow, timeline_rows
from navaia_app.ui.live import LivePageMixin
from navaia_app.ui.optimistic import OptimisticStatusMixin, show_in_detail, with_status
from navaia_app.ui.paging import DateRangeMixin, PagedMixin

ANY = "any"
HOUR_PX = 56
DURATIONS = (15, 30, 45, 60, 90, 120, 180, 240)
NEW_STATUSES = service.UPCOMING_STATUSES  # what a new booking may start as


@dataclass
class BookingRow:
    id: int
    when: str
    when_full: str
    customer_time: str
    customer: str
    service: str
    duration: str
    status: str
    source_label: str
    resource: str
    allowed: list[str]
    movable: bool
    reminder: str = ""  # the latest about its reminders ("Reminder call: sent")
    confirmed_by_customer: bool = False


@dataclass
class CalendarBlock:
    id: int
    top: str
    height: str
    time: str
    customer: str
    service: str
    status: str
    lines: int  # how many lines of text fit: time and customer; then the service
    reminder: str = ""
    confirmed_by_customer: bool = False


@dataclass
class Span:
    top: str
    height: str


@dataclass
class CalendarDay:
    key: str
    weekday: str
    day: str
    is_today: bool
    closed: bool
    count: int
    blocks: list[CalendarBlock]
    open_spans: list[Span]


@dataclass
class SlotOption:
    iso: str
    label: str


@dataclass
class ReminderItem:
    id: int
    channel: str
    icon: str
    status: str
    due: str
    sent: str
    result: str
    detail: str
    conversation_id: int = 0  # the reminder call's conversation (0: none)


@dataclass
class BookingView(RecordDetail):
    service: str = ""
    when: str = ""
    time_range: str = ""
    viewer_zone: str = ""
    customer_time: str = ""
    duration: int = 0
    status: str = "pending"
    movable: bool = False
    resource: str = ""
    notes: str = ""
    confirmed_by_customer: bool = False


def _duration_label(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" + (f" {rest} min" if rest else "")


def _px(minutes: float) -> str:
    return f"{minutes * HOUR_PX / 60:.1f}px"


def reminder_timeline_text(channel: str | None, result: str | None) -> tuple[str, str]:
    """A reminder entry: the customer's answer ("confirmed by phone"), or a planning note (its body)."""
    if result in ("confirmed", "cancelled", "rescheduled"):
        how = {"call": "by phone", "sms": "by text"}.get(channel or "", "")
        return {"confirmed": "circle-check", "cancelled": "circle-x", "rescheduled": "calendar-clock"}[result], \
            f"{result} {how}".strip()
    if result == "conversation":
        return "phone-call", "recorded the reminder call"
    return "bell-ring", "planned the reminders"


def _reminder_row(row, entry):
    """A reminder entry says who answered (the customer) and shows its note."""
    if entry.kind != "reminder":
        return row
    answer = entry.to_value in ("confirmed", "cancelled", "rescheduled")
    return dataclasses.replace(row, who="The customer" if answer else row.who, body=entry.body or "")


def booking_timeline_text(kind: str, old: str | None, new: str | None, zone) -> tuple[str, str]:
    labels = service.STATUS_LABELS
    if kind == "created":
        return "calendar-plus", f"booked it as {labels.get(new or '', new or '').lower()}"
    if kind == "status":
        return "arrow-right-left", (f"changed the status from {labels.get(old or '', old)} "
                                    f"to {labels.get(new or '', new)}")
    if kind == "rescheduled":
        before, after = service.parse_slot_value(old), service.parse_slot_value(new)
        if before and after:
            return "calendar-clock", (f"rescheduled it from {fmt_when(before[0], zone)} ({before[1]} min) "
                                      f"to {fmt_when(after[0], zone)} ({after[1]} min)")
        return "calendar-clock", "rescheduled it"
    if kind == "service":
        return "pencil", f"changed the service from {old} to {new}"
    if kind == "customer_id":
        return "contact", "changed the customer"
    if kind == "edited":
        return "pencil", "edited the notes"
    if kind == "reminder":
        return reminder_timeline_text(old, new)
    return "dot", kind


class BookingsState(FormDialogMixin, LivePageMixin, PagedMixin, DateRangeMixin, OptimisticStatusMixin, ViewerZoneMixin,
                    CustomerPickerMixin, AuthState):
    _live_topics = ("bookings", "customers")

    view: str = "calendar"
    load_error: str = ""
    resource: str = service.DEFAULT_RESOURCE
    resources: list[str] = [service.DEFAULT_RESOURCE]
    zone_label: str = ""
    hours_label: str = ""

    # Week calendar
    week_of: str = ""
    week_label: str = ""
    focus_day: str = ""  # the day a phone shows (one day at a time); "" = today, or the week's first day
    shown_day: str = ""
    shown_day_label: str = ""
    days: list[CalendarDay] = []
    hour_labels: list[str] = []
    grid_height: str = "0px"
    now_top: str = ""
    now_day: str = ""

    # List
    rows: list[BookingRow] = []
    status_filter: str = ANY
    customer_q: str = ""

    # New booking dialog
    form_day: str = ""
    form_duration: str = "30"
    form_status: str = "pending"
    slots: list[SlotOption] = []
    slots_label: str = ""
    slot_iso: str = ""
    slot_note: str = ""
    services: list[str] = []

    # Reschedule dialog
    move_open: bool = False
    move_id: int = 0
    move_label: str = ""
    move_day: str = ""
    move_duration: str = "30"
    move_slots: list[SlotOption] = []
    move_slots_label: str = ""
    move_slot_iso: str = ""
    move_error: str = ""

    # Detail drawer
    detail_open: bool = False
    detail: BookingView = BookingView()
    timeline: list[TimelineRow] = []
    detail_reminders: list[ReminderItem] = []

    @rx.var
    def filtered(self) -> bool:
        return bool(self.date_from or self.date_to or self.customer_q) or self.status_filter != ANY

    @rx.var
    def durations(self) -> list[str]:
        return [str(m) for m in DURATIONS]

    # --- loading --------------------------------------------------------------------------------

    def _today(self) -> date:
        return utcnow().astimezone(self._zone()).date()

    def _reload(self) -> None:
        zone = self._zone()
        now = utcnow()
        self.zone_label = fmt_zone(zone, now)
        business = business_zone()
        hours = service.opening_hours()
        self.hours_label = f"{hours.describe()} ({business.key})"
        try:
            with session_scope() as session:
                self.resources = service.resources_in_use(session=session)
                if self.resource not in self.resources:
                    self.resource = service.DEFAULT_RESOURCE
                if self.view == "calendar":
                    self._load_week(session, zone, now)
                else:
                    self._load_list(session, zone, now)
            self._assign(load_error="")
        except DomainError as exc:
            self.load_error = exc.message
        self._remember_versions()

    def _load_list(self, session, zone, now) -> None:
        first, last = parse_day(self.date_from), parse_day(self.date_to)
        params = dict(
            session=session, status=None if self.status_filter == ANY else self.status_filter,
            starts_from=local_midnight(first, zone) if first else None,
            starts_to=local_midnight(last + timedelta(days=1), zone) if last else None,
            customer_q=self.customer_q or None, limit=self.page_size, offset=self.offset,
        )
        items, total = service.list_bookings(**params)
        self._assign(total=total)
        if not items and total and self.page > 1:
            self._clamp_page()
            items, _ = service.list_bookings(**{**params, "offset": self.offset})
        customers = {c.id: c for c in session.exec(
            select(Customer).where(Customer.id.in_({b.customer_id for b in items})))} if items else {}
        sent = reminders.reminders_for_bookings(session=session, booking_ids=[b.id for b in items])
        self._assign(rows=[dataclasses.replace(self._row(b, customers.get(b.customer_id), zone, now),
                                               **self._reminder_marks(sent.get(b.id, []))) for b in items])

    @staticmethod
    def _reminder_marks(rows) -> dict:
        label, confirmed = reminders.summary_of(rows)
        return {"reminder": label, "confirmed_by_customer": confirmed}

    def _row(self, b: Booking, customer: Customer | None, zone, now) -> BookingRow:
        zone_of_customer = customer_zone(customer)
        local = b.starts_at.astimezone(zone_of_customer)
        customer_time = "" if zone_of_customer.key == zone.key else f"{local:%H:%M} {local.tzname()} for the customer"
        return BookingRow(
            id=b.id, when=fmt_short(b.starts_at, zone, now) + f"–{fmt_time(b.ends_at, zone)}",
            when_full=fmt_when(b.starts_at, zone) + f" ({fmt_zone(zone, b.starts_at)})", customer_time=customer_time,
            customer=customer.name if customer else "", service=b.service, duration=_duration_label(b.duration_minutes),
            status=b.status, source_label=SOURCE_LABELS.get(b.source, b.source), resource=b.resource,
            allowed=[b.status, *service.NEXT_STATUSES.get(b.status, ())],
            movable=b.status in service.UPCOMING_STATUSES,
        )

    def _load_week(self, session, zone, now) -> None:
        monday = parse_day(self.week_of) or week_start(self._today())
        monday = week_start(monday)
        self.week_of = monday.isoformat()
        sunday = monday + timedelta(days=6)
        self.week_label = (f"{monday.day} {monday:%b} – {sunday.day} {sunday:%b %Y}" if monday.month != sunday.month
                           else f"{monday.day}–{sunday.day} {sunday:%B %Y}")
        focus = parse_day(self.focus_day)
        today_here = self._today()
        shown = focus if focus and monday <= focus <= sunday else (
            today_here if monday <= today_here <= sunday else monday)
        self.shown_day, self.shown_day_label = shown.isoformat(), f"{shown:%A} {shown.day} {shown:%B %Y}"
        start, end = local_midnight(monday, zone), local_midnight(monday + timedelta(days=7), zone)
        views = service.bookings_between(session=session, start=start, end=end, resource=self.resource,
                                         include_cancelled=False)

        # Opening hours (in the business zone) as spans in the viewer's zone, day by day.
        business, hours = business_zone(), service.opening_hours()
        spans: dict[date, list[tuple[int, int]]] = {}
        for offset in range(-1, 8):
            day = monday + timedelta(days=offset)
            for open_, close in hours.intervals(day):
                a = local_datetime(day, open_, business).astimezone(zone)
                b = local_datetime(day, close, business).astimezone(zone)
                cursor = a
                while cursor < b:  # split at the viewer's midnights
                    next_midnight = local_midnight(cursor.date() + timedelta(days=1), zone)
                    stop = min(b, next_midnight)
                    first = cursor.hour * 60 + cursor.minute
                    last = 1440 if stop == next_midnight else stop.hour * 60 + stop.minute
                    spans.setdefault(cursor.date(), []).append((first, last))
                    cursor = stop

        def minutes(at: datetime, day: date) -> int:
            local = at.astimezone(zone)
            if local.date() < day:
                return 0
            if local.date() > day:
                return 1440
            return local.hour * 60 + local.minute

        week_days = [monday + timedelta(days=i) for i in range(7)]
        extents = [m for d in week_days for span in spans.get(d, []) for m in span]
        for v in views:
            day = v.booking.starts_at.astimezone(zone).date()
            extents += [minutes(v.booking.starts_at, day), minutes(v.booking.ends_at, day)]
        grid_start = (min(extents) // 60) * 60 if extents else 8 * 60
        grid_end = -(-max(extents) // 60) * 60 if extents else 18 * 60
        if grid_end - grid_start < 8 * 60:
            grid_end = min(1440, grid_start + 8 * 60)
        self.hour_labels = [f"{h:02d}:00" for h in range(grid_start // 60, grid_end // 60)]
        self.grid_height = _px(grid_end - grid_start)

        today = now.astimezone(zone).date()
        sent = reminders.reminders_for_bookings(session=session, booking_ids=[v.booking.id for v in views])
        days = []
        for day in week_days:
            blocks = []
            for v in views:
                b = v.booking
                if not (b.starts_at < local_midnight(day + timedelta(days=1), zone) and
                        b.ends_at > local_midnight(day, zone)):
                    continue
                first = max(minutes(b.starts_at, day), grid_start)
                last = min(minutes(b.ends_at, day), grid_end)
                blocks.append(CalendarBlock(
                    id=b.id, top=_px(first - grid_start), height=_px(max(last - first, 15)),
                    time=f"{fmt_time(b.starts_at, zone)}–{fmt_time(b.ends_at, zone)}",
                    customer=v.customer_name, service=b.service, status=b.status,
                    lines=1 if last - first < 40 else (2 if last - first < 55 else 3),
                    **self._reminder_marks(sent.get(b.id, [])),
                ))
            open_spans = [Span(top=_px(max(a, grid_start) - grid_start),
                               height=_px(min(b, grid_end) - max(a, grid_start)))
                          for a, b in spans.get(day, []) if min(b, grid_end) > max(a, grid_start)]
            days.append(CalendarDay(key=day.isoformat(), weekday=f"{day:%a}", day=str(day.day),
                                    is_today=day == today, closed=not open_spans, count=len(blocks), blocks=blocks,
                                    open_spans=open_spans))
        self.days = days
        local_now = now.astimezone(zone)
        now_minutes = local_now.hour * 60 + local_now.minute
        in_week = monday <= today <= sunday and grid_start <= now_minutes <= grid_end
        self.now_day = today.isoformat() if in_week else ""
        self.now_top = _px(now_minutes - grid_start) if in_week else ""

    @rx.event
    @authenticated
    def load(self):
        self.detail_open = False
        self._reload()
        if self.detail_open and self.detail.id:
            self._load_detail(self.detail.id)

    # --- view, week, filters ----------------------------------------------------------------------

    @rx.event
    @authenticated
    def set_view(self, value: str | list[str]):
        value = value[0] if isinstance(value, list) and value else value
        if value in ("calendar", "list"):
            self.view = value
            self._first_page()

    @rx.event
    @authenticated
    def set_resource(self, value: str):
        self.resource = value
        self._reload()

    def _move_week(self, days: int) -> None:
        monday = parse_day(self.week_of) or week_start(self._today())
        self.week_of = (monday + timedelta(days=days)).isoformat()
        self.focus_day = ""
        self._reload()

    def _move_day(self, days: int) -> None:
        day = (parse_day(self.shown_day) or self._today()) + timedelta(days=days)
        self.focus_day, self.week_of = day.isoformat(), week_start(day).isoformat()
        self._reload()

    @rx.event
    @authenticated
    def prev_day(self):
        self._move_day(-1)

    @rx.event
    @authenticated
    def next_day(self):
        self._move_day(1)

    @rx.event
    @authenticated
    def prev_week(self):
        self._move_week(-7)

    @rx.event
    @authenticated
    def next_week(self):
        self._move_week(7)

    @rx.event
    @authenticated
    def this_week(self):
        self.week_of = self.focus_day = ""
        self._reload()

    @rx.event
    @authenticated
    def go_to_day(self, value: str):
        day = parse_day(value)
        if day:
            self.week_of, self.focus_day = week_start(day).isoformat(), day.isoformat()
            self._reload()

    @rx.event
    @authenticated
    def set_status_filter(self, value: str):
        if value in (ANY, *BOOKING_STATUSES):
            self.status_filter = value
            self._first_page()

    @rx.event
    @authenticated
    def set_customer_q(self, value: str):
        self.customer_q = (value or "")[:200]
        self._first_page()

    @rx.event
    @authenticated
    def clear_filters(self):
        self.status_filter, self.date_from, self.date_to, self.customer_q = ANY, "", "", ""
        self._first_page()

    # --- status, optimistic -----------------------------------------------------------------------

    def _show_status(self, booking_id: int, status: str) -> str | None:
        """Show `status` on the booking's row, calendar block and detail at once; returns the old one."""
        self.rows, previous = with_status(self.rows, booking_id, status)
        days = []
        for day in self.days:
            blocks, shown = with_status(day.blocks, booking_id, status)
            previous = previous or shown
            days.append(dataclasses.replace(day, blocks=blocks))
        self.days = days
        return show_in_detail(self, booking_id, status, previous)

    def _save_status(self, session, booking_id: int, status: str) -> None:
        service.change_booking_status(session=session, booking_id=booking_id, status=status, actor_id=actor().id)

    def _status_words(self) -> tuple[str, dict[str, str]]:
        return "Booking", service.STATUS_LABELS

    # --- free slots -------------------------------------------------------------------------------

    def _slots_for(self, day_text: str, duration: int, ignore: int | None = None) -> list[SlotOption]:
        day = parse_day(day_text)
        if day is None:
            return []
        zone = self._zone()
        with session_scope() as session:
            found = service.free_slots(session=session, start=local_midnight(day, zone),
                                       end=local_midnight(day + timedelta(days=1), zone), duration_minutes=duration,
                                       resource=self.resource, ignore_booking_id=ignore)
        return [SlotOption(iso=s.isoformat(), label=fmt_time(s, zone)) for s in found]

    def _slot_note(self, iso: str) -> str:
        """'That is 16:00 (CET) for Ada in Europe/Paris' when the customer lives in another zone."""
        if not iso or not self.picker_id:
            return ""
        zone_of_customer = zone_named(self.picker_tz or None)
        if zone_of_customer.key == self._zone().key:
            return ""
        local = datetime.fromisoformat(iso).astimezone(zone_of_customer)
        return f"That is {local:%H:%M} ({local.tzname()}) on {local:%a} {local.day} {local:%b} for " \
               f"{self.picker_label} in {zone_of_customer.key}."

    def _first_open_day(self) -> date:
        today = self._today()
        hours = service.opening_hours()
        for offset in range(0, 14):
            day = today + timedelta(days=offset)
            if hours.intervals(day):
                return day
        return today

    @staticmethod
    def _day_label(text: str) -> str:
        day = parse_day(text)
        return f"Free slots on {day:%A} {day.day} {day:%B}" if day else "Free slots"

    def _refresh_slots(self) -> None:
        self.slots_label = self._day_label(self.form_day)
        try:
            duration = int(self.form_duration)
            self.slots = self._slots_for(self.form_day, duration)
        except (ValueError, DomainError) as exc:
            self.slots = []
            if isinstance(exc, DomainError):
                self.form_errors = {**self.form_errors, "starts_at": exc.message}
        if self.slot_iso not in {s.iso for s in self.slots}:
            self.slot_iso = ""
        self.slot_note = self._slot_note(self.slot_iso)

    def _picked(self) -> list:
        self.slot_note = self._slot_note(self.slot_iso)
        return []

    @rx.event
    @authenticated
    def open_new(self, day: str = ""):
        self._reset_picker()
        self.form_values, self.form_errors, self.form_status = {}, {}, "pending"
        self.form_duration = str(get_settings().booking_slot_minutes)
        chosen = parse_day(day)
        self.form_day = (chosen if chosen and chosen >= self._today() else self._first_open_day()).isoformat()
        self.slot_iso, self.slot_note = "", ""
        self.form_open = True
        yield  # the dialog shows at once; the free slots and service suggestions follow
        self._refresh_slots()
        yield
        with session_scope() as session:
            self.services = list(session.exec(
                select(Booking.service).group_by(Booking.service).order_by(Booking.service).limit(30)))

    @rx.event
    @authenticated
    def set_form_day(self, value: str):
        if parse_day(value):
            self.form_day = value
            self.form_errors = {k: v for k, v in self.form_errors.items() if k != "starts_at"}
            self._refresh_slots()

    @rx.event
    @authenticated
    def set_form_duration(self, value: str):
        if value.isdigit():
            self.form_duration = value
            self._refresh_slots()

    @rx.event
    def set_form_status(self, value: str):
        if value in NEW_STATUSES:
            self.form_status = value

    @rx.event
    def choose_slot(self, iso: str):
        self.slot_iso = "" if self.slot_iso == iso else iso
        self.slot_note = self._slot_note(self.slot_iso)
        self.form_errors = {k: v for k, v in self.form_errors.items() if k != "starts_at"}

    def _start_from(self, day_text: str, time_text: str, slot_iso: str) -> datetime:
        """The chosen slot, or the time typed (HH:MM on the chosen day, in the viewer's zone)."""
        time_text = (time_text or "").strip()
        if time_text:
            match = re.fullmatch(r"(\d{1,2}):(\d{2})", time_text)
            day = parse_day(day_text)
            if not match or day is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
                raise ValidationFailed("Enter the time as HH:MM, e.g. 14:30.", field="starts_at")
            return local_datetime(day, int(match.group(1)) * 60 + int(match.group(2)), self._zone())
        if slot_iso:
            return datetime.fromisoformat(slot_iso)
        raise ValidationFailed("Choose a free slot, or enter another time.", field="starts_at")

    @rx.event
    @authenticated
    def save_new(self, form_data: dict):
        data = {k: str(form_data.get(k, "") or "") for k in ("service", "notes", "time")}
        self.form_values = data
        errors: dict[str, str] = {}
        if not self.picker_id:
            errors["customer_id"] = "Choose the customer, or add a new one."
        try:
            starts_at = self._start_from(self.form_day, data["time"], self.slot_iso)
        except ValidationFailed as exc:
            errors["starts_at"] = exc.message
        if not data["service"].strip():
            errors["service"] = "Service is required."
        if errors:
            self.form_errors = errors
            return
        try:
            with session_scope() as session:
                booking = service.create_booking(
                    session=session, customer_id=self.picker_id, service=data["service"], starts_at=starts_at,
                    duration_minutes=int(self.form_duration), status=self.form_status, notes=data["notes"],
                    source="manual", resource=self.resource, actor_id=actor().id)
                label = f"{booking.service} for {self.picker_label}, {fmt_when(booking.starts_at, self._zone())}"
                day = booking.starts_at.astimezone(self._zone()).date()
        except DomainError as exc:
            self.form_errors = field_errors(exc)
            if "starts_at" in self.form_errors:
                self._refresh_slots()  # the slot may have gone meanwhile
                self.form_errors = {**self.form_errors, "starts_at": exc.errors.get("starts_at", exc.message)}
            return
        self.form_open, self.form_errors = False, {}
        self.week_of = week_start(day).isoformat()
        self._reload()
        return rx.toast.success(f"Booked {label}.")

    # --- reschedule -------------------------------------------------------------------------------

    @rx.event
    @authenticated
    def open_move(self, booking_id: int):
        zone = self._zone()
        with session_scope() as session:
            try:
                b = service.get_booking(session=session, booking_id=booking_id)
            except DomainError as exc:
                return rx.toast.error(exc.message)
            self.move_label = f"{b.service}, now {fmt_when(b.starts_at, zone)}"
            self.move_day = b.starts_at.astimezone(zone).date().isoformat()
            self.move_duration = str(b.duration_minutes)
        self.move_id, self.move_error, self.move_slot_iso = booking_id, "", ""
        self._refresh_move_slots()
        self.move_open = True

    def _refresh_move_slots(self) -> None:
        self.move_slots_label = self._day_label(self.move_day)
        try:
            self.move_slots = self._slots_for(self.move_day, int(self.move_duration), ignore=self.move_id)
        except (ValueError, DomainError):
            self.move_slots = []
        if self.move_slot_iso not in {s.iso for s in self.move_slots}:
            self.move_slot_iso = ""

    @rx.event
    def set_move_open(self, value: bool):
        self.move_open = bool(value)

    @rx.event
    @authenticated
    def set_move_day(self, value: str):
        if parse_day(value):
            self.move_day, self.move_error = value, ""
            self._refresh_move_slots()

    @rx.event
    @authenticated
    def set_move_duration(self, value: str):
        if value.isdigit():
            self.move_duration = value
            self._refresh_move_slots()

    @rx.event
    def choose_move_slot(self, iso: str):
        self.move_slot_iso = "" if self.move_slot_iso == iso else iso
        self.move_error = ""

    @rx.event
    @authenticated
    def save_move(self, form_data: dict):
        try:
            starts_at = self._start_from(self.move_day, str(form_data.get("time", "") or ""), self.move_slot_iso)
            with session_scope() as session:
                booking = service.reschedule_booking(session=session, booking_id=self.move_id, starts_at=starts_at,
                                                     duration_minutes=int(self.move_duration), actor_id=actor().id)
                label = fmt_when(booking.starts_at, self._zone())
                day = booking.starts_at.astimezone(self._zone()).date()
        except DomainError as exc:
            self.move_error = exc.message
            self._refresh_move_slots()
            return
        self.move_open = False
        if self.view == "calendar":
            self.week_of = week_start(day).isoformat()
        self._reload()
        if self.detail_open and self.detail.id == self.move_id:
            self._load_detail(self.move_id)
        return rx.toast.success(f"Moved to {label}.")

    # --- detail -----------------------------------------------------------------------------------

    @staticmethod
    def _reminder_item(r, zone, now) -> ReminderItem:
        return ReminderItem(
            id=r.id, channel=reminders.CHANNEL_LABELS[r.channel], icon="phone" if r.channel == "call" else
            "message-square", status=reminders.STATUS_LABELS.get(r.status, r.status),
            due=fmt_short(r.due_at, zone, now) if r.due_at else "", sent=fmt_short(r.sent_at, zone, now)
            if r.sent_at else "", result=reminders.RESULT_LABELS.get(r.result or "", r.result or ""),
            detail=r.detail or "", conversation_id=r.conversation_id or 0)

    def _load_detail(self, booking_id: int) -> bool:
        zone, now = self._zone(), utcnow()
        with session_scope() as session:
            try:
                d = service.get_booking_detail(session=session, booking_id=booking_id)
            except DomainError:
                return False
            b = d.booking
            view = BookingView(
                id=b.id, service=b.service, when=f"{b.starts_at.astimezone(zone):%a %-d %b %Y}",
                time_range=f"{fmt_time(b.starts_at, zone)}–{fmt_time(b.ends_at, zone)}",
                viewer_zone=fmt_zone(zone, b.starts_at), duration=b.duration_minutes, status=b.status,
                allowed=[b.status, *service.NEXT_STATUSES.get(b.status, ())],
                movable=b.status in service.UPCOMING_STATUSES,
                source_label=SOURCE_LABELS.get(b.source, b.source), resource=b.resource, notes=b.notes,
                created=fmt_when(b.created_at, zone),
            )
            if d.customer is not None:
                zone_of_customer = customer_zone(d.customer)
                local = b.starts_at.astimezone(zone_of_customer)
                view.show_customer(d.customer)
                view.customer_time = f"{local:%a} {local.day} {local:%b, %H:%M} in {fmt_zone(zone_of_customer, local)}"
            if b.conversation_id:  # the call that made it
                view.show_call(conversations.get_conversation(session=session, conversation_id=b.conversation_id))
            self.detail = view
            entries = {v.entry.id: v.entry for v in d.activity}
            self.timeline = [_reminder_row(row, entries[row.id]) for row in timeline_rows(
                d.activity, lambda e: booking_timeline_text(e.kind, e.from_value, e.to_value, zone), zone, now)]
            items = reminders.list_booking_reminders(session=session, booking_id=b.id)
            self.detail_reminders = [self._reminder_item(r, zone, now) for r in items]
            self.detail = dataclasses.replace(self.detail, confirmed_by_customer=reminders.summary_of(items)[1])
        return True

    @rx.event
    @authenticated
    def open_detail(self, booking_id: int):
        if not self._load_detail(booking_id):
            return rx.toast.error(f"Booking {booking_id} not found.")
        self.detail_open = True

    @rx.event
    def set_detail_open(self, value: bool):
        self.detail_open = bool(value)


class BusinessHoursState(AuthState):
    """The read-only Business hours card of the Settings page."""

    timezone_name: str = ""
    hours: str = ""
    slot_minutes: int = 0
    local_now: str = ""

    @rx.event
    @authenticated
    def load_hours(self):
        settings = get_settings()
        zone = business_zone()
        self.timezone_name = zone.key
        self.hours = settings.opening_hours.describe()
        self.slot_minutes = settings.booking_slot_minutes
        now = datetime.now(timezone.utc).astimezone(zone)
        self.local_now = f"{now:%a %H:%M} {now.tzname()}"
