from __future__ import annotations

import reflex as rx

from navaia_app.auth.state import AuthState, authenticated
from navaia_app.core.db import session_scope
from navaia_app.core.redis import redis_available
from navaia_app.core.types import utcnow
from navaia_app.dashboard import service


class DashboardState(AuthState):
    customers: int = 0
    open_tickets: int = 0
    upcoming_bookings: int = 0
    calls_today: int = 0
    jobs_available: bool = True

    @rx.event
    @authenticated
    def load(self):
        with session_scope() as session:
            counts = service.dashboard_counts(session=session, now=utcnow())
        self.customers = counts["customers"]
        self.open_tickets = counts["open_tickets"]
        self.upcoming_bookings = counts["upcoming_bookings"]
        self.calls_today = counts["calls_today"]
        self.jobs_available = redis_available()
