"""Reminder test helpers: a fixed clock (every service call gets `now`), a customer in Paris, an admin,
and the reminder settings switched on."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from navaia_app.bookings import service as bookings
from navaia_app.customers.models import Customer
from navaia_app.reminders import service

UTC = timezone.utc
# Wednesday 2 December 2026, 08:00 UTC (09:00 in Paris); the booking "tomorrow" is Thursday 3 December.
NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
TOMORROW_1030 = datetime(2026, 12, 3, 10, 30, tzinfo=UTC)  # 11:30 in Paris
DEAD_REDIS = "redis://127.0.0.1:6390/0"  # nothing listens: kicks to the dispatcher find no Redis and say so


class Clock:
    """The time the test says it is; `advance` moves it on."""

    def __init__(self, start: datetime = NOW):
        self.now = start

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def reminder_env(app_env, set_env):
    set_env(REDIS_URL=DEAD_REDIS, TELEPHONY_PROVIDER="simulated", SMS_PROVIDER="simulated",
            BUSINESS_HOURS="mon-fri 09:00-17:00", AGENT_TOOLS_SECRET="tools-secret-for-tests")
    return app_env


@pytest.fixture
def admin(reminder_env, make_user):
    return make_user(email="boss@example.com", role="admin")


@pytest.fixture
def customer(session, reminder_env) -> Customer:
    row = Customer(name="Ada Lovelace", phone="+33612345678", timezone="Europe/Paris")
    session.add(row)
    session.commit()
    return row


@pytest.fixture
def reminders_on(session, admin):
    def _on(**changes):
        service.update_reminder_settings(session=session, actor=admin, changes={"enabled": True, **changes},
                                         now=NOW - timedelta(days=1))
        session.commit()

    _on()
    return _on


def book(session, customer, starts_at, *, now, **fields):
    fields.setdefault("service", "Consultation")
    booking = bookings.create_booking(session=session, customer_id=customer.id, starts_at=starts_at, now=now,
                                      **fields)
    session.commit()
    return booking
