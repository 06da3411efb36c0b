from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from navaia_app.dashboard.state import TICKET_STATUS_FILLS, DashboardState as S
from navaia_app.ui import routes
from navaia_app.ui.layout import stat_card
from navaia_app.ui.live import live_ticker
from navaia_app.ui.timefmt import viewer_zone_probe

TICKET_COLORS = {"open": "blue", "in_progress": "amber", "resolved": "green", "closed": "gray"}
BOOKING_COLORS = {"pending": "amber", "confirmed": "green", "cancelled": "gray", "completed": "blue", "no_show": "red"}
ACCENT_FILL = "#3e63dd"  # Radix indigo 9, the theme's accent


def _panel(title: str, hint, *children, **props) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.heading(title, size="3", as_="h2"), rx.spacer(), rx.text(hint, size="1", color_scheme="gray"),
                      width="100%", align="baseline"),
            *children,
            spacing="3", width="100%", height="100%",
        ),
        width="100%", **props,
    )


def _axis_props() -> dict:
    return {"tick_line": False, "axis_line": False, "tick": {"fontSize": 11, "fill": "#8b8d98"}}


def _chart_panel(title: str, hint, chart: Callable, data, x_axis: dict, *series: rx.Component, chart_id: str,
                 tooltip: dict | None = None, defs: tuple = ()) -> rx.Component:
    """A dashboard chart of counts: the same grid, axes and tooltip for each; `x_axis` says what the x axis shows."""
    return _panel(
        title, hint,
        chart(
            *defs,
            rx.recharts.cartesian_grid(vertical=False, stroke_dasharray="3 3", stroke_opacity=0.4),
            rx.recharts.x_axis(**x_axis, **_axis_props()),
            rx.recharts.y_axis(allow_decimals=False, width=32, **_axis_props()),
            rx.recharts.graphing_tooltip(**(tooltip or {})),
            *series,
            data=data, height=220,
        ),
        id=chart_id,
    )


BAR_CURSOR = {"cursor": {"fill": "rgba(0,0,0,0.04)"}}


def _tickets_by_status() -> rx.Component:
    return _chart_panel(
        "Tickets by status", rx.text(S.tickets_total, " in all"), rx.recharts.bar_chart, S.tickets_by_status,
        {"data_key": "status"},
        rx.recharts.bar(*[rx.recharts.cell(fill=fill) for fill in TICKET_STATUS_FILLS.values()],
                        data_key="count", name="Tickets", radius=[6, 6, 0, 0], is_animation_active=False),
        chart_id="chart-tickets-by-status", tooltip=BAR_CURSOR,
    )


def _bookings_per_day() -> rx.Component:
    return _chart_panel(
        "Bookings, next 14 days", rx.text(S.bookings_14_days, " booked"), rx.recharts.bar_chart, S.bookings_per_day,
        {"data_key": "day", "interval": 0, "angle": -35, "text_anchor": "end", "height": 48},
        rx.recharts.bar(data_key="count", name="Bookings", fill="#30a46c", radius=[4, 4, 0, 0],
                        is_animation_active=False),
        chart_id="chart-bookings-per-day", tooltip=BAR_CURSOR,
    )


def _ticket_volume() -> rx.Component:
    return _chart_panel(
        "New tickets, last 30 days", rx.text(S.tickets_30_days, " raised"), rx.recharts.area_chart, S.ticket_volume,
        {"data_key": "day", "min_tick_gap": 24},
        rx.recharts.area(data_key="count", name="Tickets", stroke=ACCENT_FILL, fill="url(#volume-fill)",
                         stroke_width=2, type_="monotone", is_animation_active=False),
        chart_id="chart-ticket-volume",
        defs=(rx.el.defs(rx.el.linear_gradient(
            rx.el.stop(offset="5%", stop_color=ACCENT_FILL, stop_opacity=0.35),
            rx.el.stop(offset="95%", stop_color=ACCENT_FILL, stop_opacity=0),
            id="volume-fill", x1="0", y1="0", x2="0", y2="1",
        )),),
    )


def _list_panel(title: str, all_label: str, all_href: str, items, render: Callable, *, empty: str,
                list_id: str) -> rx.Component:
    """A dashboard panel listing a few records (a link to all of them at the right), or `empty` when none."""
    return _panel(
        title, rx.link(all_label, href=all_href, size="1"),
        rx.cond(
            items.length() > 0,
            rx.vstack(rx.foreach(items, render), spacing="1", width="100%", id=list_id),
            rx.text(empty, size="2", color_scheme="gray"),
        ),
    )


def _next_bookings() -> rx.Component:
    return _list_panel(
        "Next bookings today", "All bookings", routes.BOOKINGS, S.next_bookings, lambda b: rx.hstack(
            rx.text(b.time, size="2", weight="bold", font_family="monospace", white_space="nowrap"),
            rx.vstack(rx.text(b.customer, size="2", weight="medium"),
                      rx.text(b.service, size="1", color_scheme="gray"), spacing="0", min_width="0"),
            rx.spacer(),
            rx.badge(b.status_label, color_scheme=rx.match(b.status, *BOOKING_COLORS.items(), "gray"),
                     variant="soft"),
            width="100%", align="center", spacing="3", padding_y="0.25rem",
            border_bottom=f"1px solid {rx.color('gray', 4)}",
        ),
        empty="Nothing else booked today.", list_id="next-bookings",
    )


def _newest_tickets() -> rx.Component:
    return _list_panel(
        "Newest tickets", "All tickets", routes.TICKETS, S.newest_tickets, lambda t: rx.link(
            rx.hstack(
                rx.vstack(rx.text(t.title, size="2", weight="medium", color=rx.color("gray", 12)),
                          rx.text(rx.cond(t.customer != "", t.customer + " · ", ""), t.created, size="1",
                                  color_scheme="gray"),
                          spacing="0", min_width="0"),
                rx.spacer(),
                rx.badge(t.status_label, color_scheme=rx.match(t.status, *TICKET_COLORS.items(), "gray"),
                         variant="soft"),
                width="100%", align="center", spacing="3",
            ),
            href="/tickets?ticket=" + t.id.to_string(), underline="none", width="100%", padding_y="0.25rem",
            border_bottom=f"1px solid {rx.color('gray', 4)}",
        ),
        empty="No tickets yet.", list_id="newest-tickets",
    )


def dashboard_page() -> rx.Component:
    return rx.vstack(
        live_ticker(S.poll_changes),
        viewer_zone_probe(S),
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
            rx.link(stat_card("Confirmed by reminder", S.confirmed_by_reminder, "circle-check",
                              "bookings the customer confirmed, last 30 days"),
                    href=routes.BOOKINGS, underline="none"),
            rx.link(stat_card("No-show rate", S.no_show_rate, "user-x", S.no_show_hint),
                    href=routes.BOOKINGS, underline="none"),
            columns=rx.breakpoints(initial="1", sm="2", lg="3"),
            spacing="4",
            width="100%",
        ),
        rx.grid(
            _ticket_volume(), _tickets_by_status(), _bookings_per_day(), _next_bookings(),
            columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%",
        ),
        _newest_tickets(),
        rx.text("Days and times in ", S.zone_label, ".", size="1", color_scheme="gray"),
        spacing="4", width="100%",
    )
