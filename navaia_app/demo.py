"""A believable demo data set: a demo admin, customers in several countries, tickets, bookings, and the calls
of the last two weeks with a completed campaign (navaia_app/demo_calls.py).

Everything goes through the feature services, so demo data obeys the same rules as real data.
Phone numbers come from ranges reserved for fiction where the country has one (US/Canada
555-01xx, Ofcom's drama numbers, ACMA's, ...), so a demo campaign never rings a real person
there. Times are relative to now, so the data always looks current.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, func, select

from navaia_app.auth.models import User
from navaia_app.core.errors import Conflict
from navaia_app.core.logging import get_logger
from navaia_app.core.settings import get_settings
from navaia_app.core.types import utcnow
from navaia_app.core.zones import business_zone, local_datetime
from navaia_app.customers.models import Customer

log = get_logger(__name__)

DEMO_EMAIL = "admin@navaia.demo"
DEMO_PASSWORD = "navaia-demo-2026"  # public on purpose: printed by `make run`; change it after signing in
DEMO_NAME = "Demo Admin"

# name, phone, email, IANA time zone, do not call
CUSTOMERS: tuple[tuple[str, str, str | None, str | None, bool], ...] = (
    ("Emily Carter", "+1 212 555 0142", "emily.carter@example.com", "America/New_York", False),
    ("Michael Thompson", "+1 415 555 0178", "m.thompson@example.net", "America/Los_Angeles", False),
    ("Jessica Ramirez", "+1 312 555 0110", "jessica.ramirez@example.org", "America/Chicago", False),
    ("David Kim", "+1 206 555 0100", "david.kim@example.com", "America/Los_Angeles", False),
    ("Ashley Johnson", "+1 303 555 0167", None, "America/Denver", False),
    ("Robert Williams", "+1 212 555 0119", "rwilliams@example.com", "America/New_York", True),
    ("Sarah Mitchell", "+1 617 555 0134", "sarah.mitchell@example.org", "America/New_York", False),
    ("Liam Tremblay", "+1 416 555 0133", "liam.tremblay@example.ca", "America/Toronto", False),
    ("Oliver Bennett", "+44 20 7946 0958", "oliver.bennett@example.co.uk", "Europe/London", False),
    ("Amelia Clarke", "+44 20 7946 0321", "amelia.clarke@example.co.uk", "Europe/London", False),
    ("Harry Patel", "+44 161 496 0321", "harry.patel@example.co.uk", "Europe/London", False),
    ("Charlotte Evans", "+44 161 496 0755", None, "Europe/London", True),
    ("Camille Dubois", "+33 1 99 00 12 34", "camille.dubois@example.fr", "Europe/Paris", False),
    ("Lucas Martin", "+33 1 99 00 00 42", "lucas.martin@example.fr", "Europe/Paris", False),
    ("Chloé Lefèvre", "+33 1 99 00 56 78", "chloe.lefevre@example.fr", "Europe/Paris", False),
    ("Lukas Schneider", "+49 30 23125 123", "lukas.schneider@example.de", "Europe/Berlin", False),
    ("Anna Fischer", "+49 30 23125 456", "anna.fischer@example.de", "Europe/Berlin", False),
    ("Jonas Weber", "+49 30 23125 789", None, "Europe/Berlin", False),
    ("Priya Sharma", "+91 98200 12345", "priya.sharma@example.in", "Asia/Kolkata", False),
    ("Arjun Mehta", "+91 98200 54321", "arjun.mehta@example.in", "Asia/Kolkata", False),
    ("Ananya Iyer", "+91 80123 45678", "ananya.iyer@example.in", "Asia/Kolkata", True),
    ("Jack Wilson", "+61 2 5550 1234", "jack.wilson@example.com.au", "Australia/Sydney", False),
    ("Isla Thompson", "+61 491 570 156", "isla.thompson@example.com.au", "Australia/Sydney", False),
    ("Noah Brown", "+61 3 5550 4321", "noah.brown@example.com.au", "Australia/Melbourne", False),
    ("Haruto Sato", "+81 3 5550 1234", "haruto.sato@example.jp", "Asia/Tokyo", False),
    ("Yui Tanaka", "+81 3 5550 5678", "yui.tanaka@example.jp", "Asia/Tokyo", False),
    ("Ana Souza", "+55 11 95550 1234", "ana.souza@example.com.br", "America/Sao_Paulo", False),
    ("Pedro Oliveira", "+55 21 98765 4321", "pedro.oliveira@example.com.br", "America/Sao_Paulo", False),
    ("Beatriz Santos", "+55 11 95550 9876", None, "America/Sao_Paulo", False),
    ("Fatima Al Mansoori", "+971 50 123 4567", "fatima.almansoori@example.ae", "Asia/Dubai", False),
    ("Omar Haddad", "+971 52 123 4567", "omar.haddad@example.ae", "Asia/Dubai", False),
    ("Lucía García", "+34 912 345 678", "lucia.garcia@example.es", "Europe/Madrid", False),
    ("Diego Hernández", "+52 55 1234 5678", "diego.hernandez@example.mx", "America/Mexico_City", False),
    ("Thabo Nkosi", "+27 21 555 0123", "thabo.nkosi@example.co.za", "Africa/Johannesburg", False),
    ("Wei Ling Tan", "+65 6555 0123", "weiling.tan@example.sg", "Asia/Singapore", False),
    ("Aoife Murphy", "+353 1 555 0123", "aoife.murphy@example.ie", "Europe/Dublin", False),
    ("Daan de Vries", "+31 20 555 0123", "daan.devries@example.nl", "Europe/Amsterdam", False),
    ("Sofia Rossi", "+39 06 5550 1234", "sofia.rossi@example.it", "Europe/Rome", False),
    ("Mateo Fernández", "+54 11 5550 1234", None, None, False),
    ("Grace Okafor", "+1 646 555 0199", "grace.okafor@example.com", None, False),
)

# title, description, category, priority
TICKETS: tuple[tuple[str, str, str, str], ...] = (
    ("Laptop won't power on after update", "Customer reports the laptop stays black after last night's "
     "system update. Charger LED is on. Tried a hard reset without success.", "repair", "high"),
    ("Request to reschedule dental cleaning", "Wants to move next week's cleaning to a Friday afternoon "
     "because of work travel.", "appointments", "low"),
    ("Billing: charged twice for March invoice", "Two identical card charges for invoice INV-2031. "
     "Customer asks for the duplicate to be refunded.", "billing", "urgent"),
    ("Phone screen cracked, needs replacement quote", "Dropped phone, cracked screen, touch still works. "
     "Asks for price and how long the repair takes.", "repair", "medium"),
    ("Cannot log in to patient portal", "Password reset email never arrives. Checked spam folder.",
     "account", "medium"),
    ("Printer jams on every second page", "Office printer jams with recycled paper; started after "
     "replacing the drum unit.", "repair", "low"),
    ("Follow-up on lab results", "Asks when the blood test results from last Tuesday will be available "
     "and whether the doctor will call.", "clinical", "high"),
    ("Wi-Fi drops every few minutes", "Router restarts itself several times an hour since the firmware "
     "update. Affects the whole shop.", "network", "urgent"),
    ("Update contact details", "New mobile number and new postal address after moving.", "account", "low"),
    ("Question about warranty coverage", "Tablet battery swelling after 14 months; is it covered by the "
     "extended warranty?", "warranty", "medium"),
    ("Missed appointment: wants a call back", "Was stuck in traffic and missed this morning's slot. "
     "Please call back to rebook.", "appointments", "medium"),
    ("Data recovery from failed hard drive", "External drive clicks and is not recognised. Contains family "
     "photos; customer wants to know the options.", "repair", "high"),
    ("Prescription refill request", "Needs a refill of the usual prescription before the weekend.",
     "clinical", "high"),
    ("Feedback: great service at the front desk", "Wanted to thank the reception team for fitting in an "
     "emergency visit.", "feedback", "low"),
    ("Invoice needs company VAT number", "Asks for the last two invoices to be reissued with the company "
     "VAT number.", "billing", "medium"),
    ("Smart watch not syncing", "Watch stopped syncing with the phone app after pairing a new phone.",
     "repair", "low"),
    ("Allergic reaction after new medication", "Mild rash since starting the new medication two days ago. "
     "Asks whether to stop taking it.", "clinical", "urgent"),
    ("Repair status: desktop PC", "Dropped off a desktop PC ten days ago, no update since. Asks for an ETA.",
     "repair", "medium"),
    ("Cancel membership plan", "Moving abroad next month; wants to cancel the monthly care plan.",
     "account", "low"),
    ("Water damage: phone not charging", "Phone fell in water, dried in rice for two days, now won't charge.",
     "repair", "high"),
    ("Booking confirmation never received", "Booked online yesterday but got no confirmation email or SMS.",
     "appointments", "medium"),
    ("Refund for cancelled repair", "Repair was cancelled because the part is discontinued; deposit "
     "not refunded yet.", "billing", "high"),
    ("Request medical certificate", "Needs a certificate for the sick days taken last week for the employer.",
     "clinical", "medium"),
    ("Keyboard keys sticking", "Several keys stick after a coffee spill. Laptop otherwise works.",
     "repair", "low"),
    ("Accessibility: wheelchair access question", "Asks whether the clinic entrance has step-free access "
     "and where to park.", "general", "low"),
    ("Suspicious email claiming to be from us", "Received an email asking to pay an outstanding balance "
     "by gift card. Wants to know if it is genuine.", "security", "urgent"),
    ("Software install on new laptop", "Needs the office suite and printer drivers installed on a new "
     "laptop before Monday.", "support", "medium"),
    ("Child vaccination schedule", "Asks which vaccinations are due at the 12-month visit and how long "
     "the appointment takes.", "clinical", "low"),
    ("Tablet stuck on boot logo", "Tablet loops on the logo screen after a forced restart.", "repair",
     "medium"),
    ("Parking validation not working", "Ticket machine did not accept the validation code given at "
     "reception.", "general", "low"),
)

# service, duration in minutes, example notes
SERVICES: tuple[tuple[str, int, str], ...] = (
    ("Consultation", 30, "First visit; bring previous records."),
    ("Follow-up", 30, "Review progress since the last visit."),
    ("Device repair", 60, "Drop-off and diagnosis at the counter."),
    ("Annual check-up", 45, ""),
    ("Diagnostics", 45, "Customer will bring the charger."),
    ("Screen replacement", 60, "Part in stock."),
    ("Onboarding call", 30, "Walk through the customer portal."),
)


@dataclass
class SeedReport:
    admin_created: bool = False
    customers: int = 0
    customers_existing: int = 0
    tickets: int = 0
    bookings: int = 0
    bookings_skipped: int = 0
    conversations: int = 0
    campaign_calls: int = 0

    def summary(self) -> str:
        parts = [f"{self.customers} customers", f"{self.tickets} tickets", f"{self.bookings} bookings",
                 f"{self.conversations} conversations", f"{self.campaign_calls} campaign calls"]
        text = "Seeded demo data: " + ", ".join(parts)
        if self.customers_existing:
            text += f" ({self.customers_existing} demo customers existed already and were reused)"
        if self.bookings_skipped:
            text += f" ({self.bookings_skipped} bookings skipped: their slot was taken)"
        if self.admin_created:
            text += f"; demo admin {DEMO_EMAIL} created"
        return text + "."


def is_empty(*, session: Session) -> bool:
    """No customers and no users: a fresh install."""
    users = session.exec(select(func.count()).select_from(User)).one()
    customers = session.exec(select(func.count()).select_from(Customer)).one()
    return users == 0 and customers == 0


def _booking_slots(
    rng: random.Random, now: datetime, zone: ZoneInfo, count: int,
) -> list[tuple[datetime, int, str, str]]:
    """`count` non-overlapping (start, minutes, service, notes) inside the opening hours (BUSINESS_HOURS)."""
    settings = get_settings()
    hours, step = settings.opening_hours, settings.booking_slot_minutes
    today = now.astimezone(zone).date()
    slots = []
    day = today - timedelta(days=21)
    while day <= today + timedelta(days=14):
        for open_, close_ in hours.intervals(day):
            cursor = local_datetime(day, open_, zone)
            close = local_datetime(day, close_, zone)
            for _ in range(rng.choice((1, 2, 2))):
                service, minutes, notes = rng.choice(SERVICES)
                # Starts on a slot boundary, after the previous booking of the day has ended.
                latest = close - timedelta(minutes=minutes)
                choices = []
                start = cursor
                while start <= latest:
                    choices.append(start)
                    start += timedelta(minutes=step)
                if not choices:
                    break
                start = rng.choice(choices[: max(1, len(choices) // 2)])
                slots.append((start, minutes, service, notes))
                end = start + timedelta(minutes=minutes)
                offset = int((end - local_datetime(day, open_, zone)).total_seconds() // 60)
                cursor = end + timedelta(minutes=(step - offset % step) % step)
        day += timedelta(days=1)
    if len(slots) > count:
        slots = sorted(rng.sample(slots, count))
    return slots


def seed_demo(session: Session, *, now: datetime | None = None, seed: int = 2026) -> SeedReport:
    """Create the demo data set in `session` (the caller commits). Safe to run on a database that has it."""
    from navaia_app.auth.service import create_user, user_count
    from navaia_app.bookings.service import create_booking
    from navaia_app.core.validation import normalize_phone
    from navaia_app.customers.models import CustomerIn
    from navaia_app.customers.service import create_customer, find_by_phone
    from navaia_app.tickets.models import TICKET_STATUSES
    from navaia_app.tickets.service import DONE_STATUSES, create_ticket

    now = now or utcnow()
    rng = random.Random(seed)
    report = SeedReport()

    demo_admin_id = None
    # Its password is public (printed by `make run`): never in production, where the first admin comes from
    # the CLI or the setup token.
    if user_count(session=session) == 0 and not get_settings().is_prod:
        demo_admin_id = create_user(session=session, email=DEMO_EMAIL, password=DEMO_PASSWORD, name=DEMO_NAME,
                                    role="admin").id
        report.admin_created = True

    customers: list[Customer] = []
    for name, phone, email, zone_name, dnc in CUSTOMERS:
        existing = find_by_phone(session=session, phone=normalize_phone(phone))
        if existing is not None:
            customers.append(existing)
            report.customers_existing += 1
            continue
        customer = create_customer(session=session, customer_in=CustomerIn(
            name=name, phone=phone, email=email, timezone=zone_name, do_not_call=dnc,
            notes="Prefers a call in the morning." if rng.random() < 0.15 else "",
        ))
        # Spread sign-up dates over the last months so lists sorted by date look lived-in.
        customer.created_at = customer.updated_at = now - timedelta(days=rng.randint(31, 240),
                                                                    minutes=rng.randint(0, 1440))
        customers.append(customer)
        report.customers += 1

    sources = ("manual", "manual", "ai_call", "ai_call", "api")
    for index, (title, description, category, priority) in enumerate(TICKETS):
        status = TICKET_STATUSES[index % len(TICKET_STATUSES)]
        age = timedelta(hours=rng.uniform(1, 24 * (6 if status in ("open", "in_progress") else 29)))
        created_at = now - age
        ticket = create_ticket(
            session=session, title=title, description=description, priority=priority, category=category,
            customer_id=rng.choice(customers).id if rng.random() < 0.9 else None,
            source=sources[index % len(sources)], status=status, created_at=created_at,
            # Someone took on what is no longer open; the demo admin, when this seed made one.
            assignee_id=demo_admin_id if status != "open" and index % 3 else None,
        )
        if status != "open":  # someone has touched it since
            ticket.updated_at = min(now, created_at + min(age / 2, timedelta(hours=rng.uniform(1, 72))))
            if status in DONE_STATUSES:
                ticket.resolved_at = ticket.updated_at
        report.tickets += 1

    # The calls first: the bookings they made hold their slots, and the random history fills around them.
    from navaia_app.demo_calls import seed_calls

    calls = seed_calls(session, now=now, rng=rng)
    report.conversations, report.campaign_calls = calls.conversations, calls.campaign_calls
    report.tickets += calls.tickets
    report.bookings += calls.bookings

    zone = business_zone()
    past_statuses = ("completed", "completed", "no_show", "completed", "cancelled")
    future_statuses = ("confirmed", "pending", "confirmed")
    past = future = 0
    for start, minutes, service, notes in _booking_slots(rng, now, zone, count=30):
        end = start + timedelta(minutes=minutes)
        if end <= now:
            status = past_statuses[past % len(past_statuses)]
            past += 1
        elif start >= now:
            status = future_statuses[future % len(future_statuses)]
            future += 1
        else:
            status = "confirmed"  # happening right now
        try:
            create_booking(
                session=session, customer_id=rng.choice(customers).id, service=service, starts_at=start,
                duration_minutes=minutes, status=status, notes=notes,
                source=rng.choice(("manual", "manual", "ai_call", "api")),
                # History is seeded as it happened; upcoming bookings obey every rule, as real ones do.
                enforce_schedule=start >= now, now=now,
            )
        except Conflict:
            report.bookings_skipped += 1
            continue
        report.bookings += 1

    session.flush()
    log.info("demo.seeded", admin_created=report.admin_created, customers=report.customers,
             tickets=report.tickets, bookings=report.bookings, conversations=report.conversations,
             campaign_calls=report.campaign_calls)
    return report
