from __future__ import annotations

import reflex as rx

from navaia_app.dashboard.state import DashboardState as S
from navaia_app.ui import routes
from navaia_app.ui.layout import stat_card


def dashboard_page() -> rx.Component:
    return rx.vstack(
        rx.cond(
            ~S.jobs_available,
            rx.callout(
                "Background jobs are unavailable: Redis is not answering. Calls and webhook processing wait "
                "until it is back; nothing is lost.",
                icon="triangle-alert", color_scheme="orange", width="100%", id="jobs-unavailable",
            ),
        ),
        rx.grid(
            rx.link(stat_card("Customers", S.customers, "users"), href=routes.CUSTOMERS, underline="none"),
            rx.link(stat_card("Open tickets", S.open_tickets, "ticket", "open or in progress"),
                    href=routes.TICKETS, underline="none"),
            rx.link(stat_card("Upcoming bookings", S.upcoming_bookings, "calendar-days", "pending or confirmed"),
                    href=routes.BOOKINGS, underline="none"),
            rx.link(stat_card("Calls today", S.calls_today, "phone", "voice-agent calls since midnight"),
                    href=routes.CONVERSATIONS, underline="none"),
            columns=rx.breakpoints(initial="1", sm="2", lg="4"),
            spacing="4",
            width="100%",
        ),
        spacing="4", width="100%",
    )
