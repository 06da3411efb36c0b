from __future__ import annotations

import reflex as rx

from navaia_app.bookings.service import STATUS_LABELS
from navaia_app.bookings.state import ANY, HOUR_PX, BookingsState as S, BusinessHoursState
from navaia_app.customers.picker import customer_picker
from navaia_app.ui.layout import (dialog_actions, empty_state, field_error, field_label, list_table, pager,
                                  search_input, section_card, suggest_input, text_button)
from navaia_app.ui.live import live_ticker
from navaia_app.ui.timefmt import date_input, viewer_zone_probe

STATUS_COLORS = {"pending": "amber", "confirmed": "green", "cancelled": "gray", "completed": "blue",
                 "no_show": "red"}


def status_color(status) -> rx.Var:
    return rx.match(status, *STATUS_COLORS.items(), "gray")


def status_select(booking_id, status, allowed, element_id, size: str = "1") -> rx.Component:
    return rx.select.root(
        rx.select.trigger(variant="soft", color_scheme=status_color(status), id=element_id,
                          aria_label="Booking status", min_width="112px"),
        rx.select.content(*[rx.select.item(label, value=value, disabled=~allowed.contains(value))
                            for value, label in STATUS_LABELS.items()]),
        value=status, on_change=lambda value: S.change_status(booking_id, value), size=size,
    )


def _labelled(label, control: rx.Component, error=None, html_for: str = "") -> rx.Component:
    return rx.vstack(
        field_label(label, html_for=html_for),
        control,
        *([field_error(error)] if error is not None else []),
        spacing="1", width="100%",
    )


def _resource_select() -> rx.Component:
    return rx.cond(
        S.resources.length() > 1,
        rx.select.root(
            rx.select.trigger(aria_label="Resource"),
            rx.select.content(rx.foreach(S.resources, lambda r: rx.select.item(r, value=r))),
            value=S.resource, on_change=S.set_resource, size="2",
        ),
    )


# --- week calendar ---------------------------------------------------------------------------------


def _one_line(*children, **props) -> rx.Component:
    return rx.text(*children, size="1", overflow="hidden", text_overflow="ellipsis", white_space="nowrap",
                   line_height="16px", as_="span", display="block", **props)


def _block(block) -> rx.Component:
    color = status_color(block.status)
    return rx.el.button(  # a button: the keyboard opens a booking as the mouse does
        rx.cond(
            block.lines == 1,
            _one_line(rx.cond(block.confirmed_by_customer, rx.icon("circle-check", size=11, aria_label="Confirmed "
                                                                    "by customer")), rx.text.strong(block.time), " ",
                      block.customer),
            rx.fragment(
                _one_line(rx.cond(block.confirmed_by_customer, rx.icon("circle-check", size=11,
                                                                        aria_label="Confirmed by customer")),
                          block.time, weight="bold"),
                _one_line(block.customer, weight="medium"),
                rx.cond(block.lines > 2, _one_line(block.service, color_scheme="gray")),
            ),
        ),
        position="absolute", top=block.top, height=block.height, left="3px", right="3px",
        padding="1px 6px", border_radius="6px", overflow="hidden", cursor="pointer",
        background=rx.color(color, 3), border_left=f"3px solid {rx.color('accent', 9)}",
        border_left_color=rx.match(block.status, *[(k, rx.color(v, 9)) for k, v in STATUS_COLORS.items()],
                                   rx.color("gray", 9)),
        _hover={"background": rx.color(color, 4)},
        on_click=S.open_detail(block.id),
        title=block.time + " " + block.customer + " · " + block.service
        + rx.cond(block.reminder != "", " · " + block.reminder, ""),
        type="button", text_align="left", color="inherit", font="inherit",
        class_name="rt-reset calendar-block",
        custom_attrs={"data-booking-id": block.id},
    )


def _day_column(day) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.vstack(
                rx.text(day.weekday, size="1", color_scheme="gray", weight="medium"),
                rx.center(rx.text(day.day, size="3", weight="bold"), width="30px", height="30px",
                          border_radius="50%", background=rx.cond(day.is_today, rx.color("accent", 9), "transparent"),
                          color=rx.cond(day.is_today, "white", rx.color("gray", 12))),
                spacing="0", align="center",
            ),
            rx.spacer(),
            rx.cond(day.count > 0, rx.badge(day.count, variant="soft", radius="full", size="1")),
            rx.cond(~day.closed, rx.icon_button(rx.icon("plus", size=12), size="1", variant="ghost",
                                                on_click=S.open_new(day.key), aria_label="New booking this day")),
            width="100%", align="center", padding_x="0.5rem", height="52px",
        ),
        rx.box(
            rx.foreach(day.open_spans, lambda span: rx.box(position="absolute", top=span.top, height=span.height,
                                                             left="0", right="0", background=rx.color("gray", 1))),
            rx.box(position="absolute", inset="0", pointer_events="none",
                   background_image=f"repeating-linear-gradient(to bottom, transparent 0, transparent "
                                    f"{HOUR_PX - 1}px, {rx.color('gray', 4)} {HOUR_PX - 1}px, "
                                    f"{rx.color('gray', 4)} {HOUR_PX}px)"),
            rx.foreach(day.blocks, _block),
            rx.cond(S.now_day == day.key,
                    rx.box(position="absolute", top=S.now_top, left="0", right="0", height="2px",
                           background=rx.color("red", 9), pointer_events="none")),
            position="relative", height=S.grid_height, width="100%",
            background=rx.color("gray", 3), border_left=f"1px solid {rx.color('gray', 5)}",
        ),
        spacing="0", flex="1", min_width="104px", id="calendar-day-" + day.key,
        class_name=rx.cond(day.key == S.shown_day, "calendar-day shown-day", "calendar-day"),
    )


def _calendar() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.hstack(
                rx.icon_button(rx.icon("chevron-left", size=16), variant="soft", on_click=S.prev_week,
                               aria_label="Previous week", class_name="wide-only"),
                # a phone shows one day at a time and steps by day
                rx.icon_button(rx.icon("chevron-left", size=16), variant="soft", on_click=S.prev_day,
                               aria_label="Previous day", class_name="narrow-only"),
                rx.button("Today", variant="soft", on_click=S.this_week),
                rx.icon_button(rx.icon("chevron-right", size=16), variant="soft", on_click=S.next_week,
                               aria_label="Next week", class_name="wide-only"),
                rx.icon_button(rx.icon("chevron-right", size=16), variant="soft", on_click=S.next_day,
                               aria_label="Next day", class_name="narrow-only"),
                rx.heading(S.week_label, size="4", as_="h2", id="calendar-week-label", class_name="wide-only"),
                rx.heading(S.shown_day_label, size="4", as_="h2", id="calendar-day-label", class_name="narrow-only"),
                spacing="2", align="center",
            ),
            rx.spacer(),
            date_input(value=S.week_of, on_change=S.go_to_day, aria_label="Go to date",
                     id="calendar-go-to", size="2"),
            _resource_select(),
            width="100%", align="center", flex_wrap="wrap", spacing="3",
        ),
        rx.text("Times in your zone, ", S.zone_label, ". Opening hours: ", S.hours_label, ".", size="1",
                color_scheme="gray"),
        rx.box(
            rx.hstack(
                rx.vstack(
                    rx.box(height="52px"),
                    rx.vstack(rx.foreach(S.hour_labels, lambda h: rx.box(
                        rx.text(h, size="1", color_scheme="gray", position="relative", top="-8px"),
                        height=f"{HOUR_PX}px", padding_left="6px")),
                        spacing="0"),
                    spacing="0", width="48px", flex_shrink="0",
                ),
                rx.foreach(S.days, _day_column),
                spacing="0", width="100%", min_width="780px", align="start", class_name="calendar-week",
            ),
            width="100%", overflow_x="auto", class_name="scroll-x", border=f"1px solid {rx.color('gray', 5)}",
            border_radius="10px",
            background=rx.color("gray", 1), id="booking-calendar",
        ),
        rx.hstack(*[rx.hstack(rx.box(width="10px", height="10px", border_radius="3px",
                                     background=rx.color(color, 9)), rx.text(STATUS_LABELS[status], size="1"),
                              spacing="1", align="center")
                    for status, color in STATUS_COLORS.items() if status != "cancelled"],
                  spacing="4", flex_wrap="wrap"),
        spacing="3", width="100%",
    )


# --- list -------------------------------------------------------------------------------------------


def _row(row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.vstack(
            rx.text(row.when, size="2", weight="medium", white_space="nowrap", title=row.when_full),
            rx.cond(row.customer_time != "", rx.text(row.customer_time, size="1", color_scheme="gray")),
            spacing="0")),
        rx.table.cell(rx.vstack(
            text_button(row.customer, on_click=S.open_detail(row.id)),
            rx.cond(row.reminder != "", rx.hstack(
                rx.icon(rx.cond(row.confirmed_by_customer, "circle-check", "bell-ring"), size=12),
                rx.text(row.reminder, size="1"), spacing="1", align="center",
                color=rx.cond(row.confirmed_by_customer, rx.color("green", 11), rx.color("gray", 11)),
                class_name="booking-reminder")),
            spacing="0")),
        rx.table.cell(rx.vstack(rx.text(row.service, size="2"), rx.text(row.duration, size="1", color_scheme="gray"),
                                spacing="0"), display=["none", "table-cell"]),
        rx.table.cell(status_select(row.id, row.status, row.allowed, "booking-status-" + row.id.to_string())),
        rx.table.cell(rx.badge(row.source_label, variant="surface", color_scheme="gray"),
                      display=["none", "none", "table-cell"]),
        rx.table.cell(rx.hstack(
            rx.icon_button(rx.icon("calendar-clock", size=14), variant="ghost", size="1", disabled=~row.movable,
                           on_click=S.open_move(row.id), aria_label="Reschedule"),
            rx.icon_button(rx.icon("panel-right-open", size=14), variant="ghost", size="1",
                           on_click=S.open_detail(row.id), aria_label="Details"),
            spacing="1")),
        align="center", id="booking-row-" + row.id.to_string(),
    )


def _list() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            search_input("Customer name, phone or email", S.customer_q, S.set_customer_q, width=["100%", "280px"],
                         id="booking-search"),
            rx.select.root(
                rx.select.trigger(aria_label="Status", id="booking-filter-status"),
                rx.select.content(rx.select.item("Any status", value=ANY),
                                  *[rx.select.item(label, value=v) for v, label in STATUS_LABELS.items()]),
                value=S.status_filter, on_change=S.set_status_filter, size="2",
            ),
            rx.hstack(
                date_input(value=S.date_from, on_change=S.set_date_from, aria_label="From", size="2",
                         width="140px"),
                rx.text("–", color_scheme="gray"),
                date_input(value=S.date_to, on_change=S.set_date_to, aria_label="Until", size="2",
                         width="140px"),
                align="center", spacing="2",
            ),
            rx.cond(S.filtered, rx.button(rx.icon("x", size=14), "Clear filters", variant="ghost", size="2",
                                          color_scheme="gray", on_click=S.clear_filters)),
            _resource_select(),
            spacing="3", flex_wrap="wrap", align="center", width="100%",
        ),
        rx.cond(
            S.rows.length() > 0,
            list_table(["When (your time)", "Customer", ("Service", "sm"), "Status", ("Source", "md"), ""],
                       S.rows, _row),
            rx.cond(S.filtered,
                    empty_state("search-x", "No booking matches", "Change or clear the filters.",
                                rx.button("Clear filters", variant="soft", on_click=S.clear_filters)),
                    empty_state("calendar-days", "No bookings yet",
                                "Bookings made by the voice agent, the API or your team appear here.",
                                rx.button(rx.icon("plus", size=16), "New booking", on_click=S.open_new("")))),
        ),
        rx.cond(S.total > S.page_size, pager(S)),
        spacing="3", width="100%",
    )


# --- dialogs ---------------------------------------------------------------------------------------


def _slot_grid(slots, chosen, on_choose, empty_text: str) -> rx.Component:
    return rx.cond(
        slots.length() > 0,
        rx.box(
            rx.foreach(slots, lambda s: rx.button(
                s.label, type="button", size="1", variant=rx.cond(chosen == s.iso, "solid", "soft"),
                on_click=on_choose(s.iso), class_name="slot-button", aria_pressed=rx.cond(chosen == s.iso,
                                                                                          "true", "false"))),
            display="grid", grid_template_columns="repeat(auto-fill, minmax(64px, 1fr))", gap="6px", width="100%",
            max_height="180px", overflow_y="auto",
        ),
        rx.text(empty_text, size="2", color_scheme="gray"),
    )


def _duration_select(value, on_change, element_id: str) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(id=element_id, width="100%", aria_label="Duration"),
        rx.select.content(rx.foreach(S.durations, lambda m: rx.select.item(m + " min", value=m))),
        value=value, on_change=on_change,
    )


def _new_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("New booking"),
            rx.dialog.description("Free slots are shown in your time zone (", S.zone_label, ").", size="2",
                                  color_scheme="gray", margin_bottom="1rem"),
            rx.vstack(
                customer_picker(S, "booking", S.form_errors.get("customer_id", "")),
                rx.form(
                    rx.vstack(
                        _labelled("Service", suggest_input(
                            S.services, list_id="booking-services", name="service", id="booking-service",
                            placeholder="e.g. Consultation", max_length=120,
                            default_value=S.form_values.get("service", ""),
                        ), S.form_errors.get("service", ""), "booking-service"),
                        rx.hstack(
                            _labelled("Day", date_input(value=S.form_day, on_change=S.set_form_day,
                                                      name="day", id="booking-day", width="100%"),
                                      html_for="booking-day"),
                            _labelled("Duration", _duration_select(S.form_duration, S.set_form_duration,
                                                                   "booking-duration"),
                                      S.form_errors.get("duration_minutes", "")),
                            width="100%", spacing="3",
                        ),
                        rx.text(S.slots_label, size="2", weight="medium", id="booking-slots-label"),
                        _slot_grid(S.slots, S.slot_iso, S.choose_slot,
                                   "No free slot on this day: the business is closed or fully booked."),
                        rx.cond(S.slot_note != "", rx.callout(S.slot_note, icon="globe", size="1", width="100%")),
                        _labelled("Or another time (HH:MM, your time)",
                                  rx.input(name="time", type="time", id="booking-time", width="140px"),
                                  html_for="booking-time"),
                        field_error(S.form_errors.get("starts_at", "")),
                        rx.hstack(
                            _labelled("Status", rx.select.root(
                                rx.select.trigger(width="100%", id="booking-status", aria_label="Status"),
                                rx.select.content(rx.select.item("Pending", value="pending"),
                                                  rx.select.item("Confirmed", value="confirmed")),
                                value=S.form_status, on_change=S.set_form_status,
                            )),
                            width="50%",
                        ),
                        _labelled("Notes", rx.text_area(name="notes", default_value=S.form_values.get("notes", ""),
                                                        rows="2", width="100%", max_length=4000, id="booking-notes"),
                                  S.form_errors.get("notes", ""), html_for="booking-notes"),
                        field_error(S.form_errors.get("_form", "")),
                        dialog_actions("Book", "booking-submit"),
                        spacing="3", width="100%",
                    ),
                    on_submit=S.save_new, key=rx.cond(S.form_open, "open", "closed"), width="100%",
                ),
                spacing="4", width="100%",
            ),
            max_width="580px",
        ),
        open=S.form_open, on_open_change=S.set_form_open,
    )


def _move_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Reschedule"),
            rx.dialog.description(S.move_label, size="2", color_scheme="gray", margin_bottom="1rem"),
            rx.form(
                rx.vstack(
                    rx.hstack(
                        _labelled("Day", date_input(value=S.move_day, on_change=S.set_move_day,
                                                  name="day", id="move-day", width="100%")),
                        _labelled("Duration", _duration_select(S.move_duration, S.set_move_duration, "move-duration")),
                        width="100%", spacing="3",
                    ),
                    rx.text(S.move_slots_label, size="2", weight="medium"),
                    _slot_grid(S.move_slots, S.move_slot_iso, S.choose_move_slot, "No free slot on this day."),
                    _labelled("Or another time (HH:MM, your time)",
                              rx.input(name="time", type="time", id="move-time", width="140px")),
                    field_error(S.move_error),
                    dialog_actions("Move booking", "move-submit"),
                    spacing="3", width="100%",
                ),
                on_submit=S.save_move, key=S.move_id.to_string() + rx.cond(S.move_open, "-open", "-closed"),
            ),
            max_width="520px",
        ),
        open=S.move_open, on_open_change=S.set_move_open,
    )


def _reminder_line(item) -> rx.Component:
    return rx.hstack(
        rx.icon(item.icon, size=14, flex_shrink="0", margin_top="3px"),
        rx.vstack(
            rx.hstack(rx.text(item.channel, weight="medium", size="2"), rx.badge(item.status, variant="soft",
                                                                               size="1"),
                      rx.cond(item.result != "", rx.badge(item.result, color_scheme=rx.cond(
                          item.result == "Confirmed by customer", "green", "gray"), size="1")),
                      spacing="2", align="center", flex_wrap="wrap"),
            rx.cond(item.due != "", rx.text("Due ", item.due, size="1", color_scheme="gray")),
            rx.cond(item.sent != "", rx.text("Sent ", item.sent, size="1", color_scheme="gray")),
            rx.cond(item.detail != "", rx.text(item.detail, size="1")),
            rx.cond(item.conversation_id > 0, rx.link("Open the call in Conversations", size="1",
                                                      href="/conversations?id=" + item.conversation_id.to_string())),
            spacing="0",
        ),
        spacing="2", align="start", class_name="booking-reminder-item",
    )


def _reminders_card() -> rx.Component:
    return rx.card(rx.vstack(
        rx.hstack(rx.icon("bell-ring", size=16, color=rx.color("accent", 10)),
                  rx.text("Reminders", weight="medium"), rx.spacer(),
                  rx.cond(S.detail.confirmed_by_customer,
                          rx.badge(rx.icon("circle-check", size=12), "Confirmed by customer", color_scheme="green",
                                   id="booking-confirmed-by-customer")),
                  spacing="2", align="center", width="100%"),
        rx.cond(S.detail_reminders.length() > 0,
                rx.vstack(rx.foreach(S.detail_reminders, _reminder_line), spacing="2", width="100%"),
                rx.text("None: reminders are off, or this booking needs none.", size="2", color_scheme="gray")),
        spacing="2", width="100%"), width="100%", id="booking-reminders")


def _detail_drawer() -> rx.Component:
    d = S.detail
    return rx.drawer.root(
        rx.drawer.overlay(z_index="20"),
        rx.drawer.portal(
            rx.drawer.content(
                rx.drawer.title(d.service, display="none"),
                rx.drawer.description("Booking details", display="none"),
                rx.vstack(
                    rx.hstack(rx.text("Booking #", d.id, size="2", color_scheme="gray", font_family="monospace"),
                              rx.spacer(),
                              rx.drawer.close(rx.icon_button(rx.icon("x", size=16), variant="ghost",
                                                             aria_label="Close")),
                              width="100%", align="center"),
                    rx.heading(d.service, size="5", as_="h2"),
                    rx.text(d.when, ", ", d.time_range, size="3", weight="medium", id="booking-detail-when"),
                    rx.text("Your time: ", d.viewer_zone, size="1", color_scheme="gray"),
                    rx.cond(d.customer_time != "", rx.text("Customer's time: ", d.customer_time, size="2")),
                    rx.hstack(
                        status_select(d.id, d.status, d.allowed, "booking-detail-status", size="2"),
                        rx.button(rx.icon("calendar-clock", size=14), "Reschedule", variant="soft",
                                  disabled=~d.movable, on_click=S.open_move(d.id)),
                        spacing="2", flex_wrap="wrap",
                    ),
                    rx.grid(
                        rx.vstack(rx.text("Duration", size="1", color_scheme="gray"),
                                  rx.text(d.duration, " min", size="2"), spacing="0"),
                        rx.vstack(rx.text("Source", size="1", color_scheme="gray"),
                                  rx.text(d.source_label, size="2"), spacing="0"),
                        rx.vstack(rx.text("Resource", size="1", color_scheme="gray"),
                                  rx.text(d.resource, size="2"), spacing="0"),
                        rx.vstack(rx.text("Booked", size="1", color_scheme="gray"),
                                  rx.text(d.created, size="2"), spacing="0"),
                        columns="2", spacing="3", width="100%",
                    ),
                    rx.cond(d.notes != "", rx.text(d.notes, size="2", white_space="pre-wrap")),
                    _reminders_card(),
                    rx.card(rx.vstack(
                        rx.hstack(rx.icon("user-round", size=16, color=rx.color("accent", 10)),
                                  rx.text("Customer", weight="medium"), spacing="2", align="center"),
                        rx.text(d.customer_name, weight="medium"),
                        rx.text(d.customer_phone, size="2", font_family="monospace"),
                        rx.cond(d.customer_email != "", rx.text(d.customer_email, size="2")),
                        spacing="1"), width="100%"),
                    rx.cond(d.conversation_id > 0, rx.card(rx.vstack(
                        rx.hstack(rx.icon("bot", size=16, color=rx.color("accent", 10)),
                                  rx.text("Booked during a voice-agent call", weight="medium"), spacing="2"),
                        rx.text(d.conversation_summary, size="2"),
                        rx.link("Open in Conversations", size="2",
                          href="/conversations?id=" + d.conversation_id.to_string()),
                        spacing="1"), width="100%")),
                    rx.heading("Activity", size="3", as_="h3"),
                    rx.vstack(rx.foreach(S.timeline, lambda item: rx.hstack(
                        rx.center(rx.icon(item.icon, size=14), width="28px", height="28px", border_radius="50%",
                                  background=rx.color("gray", 3), flex_shrink="0"),
                        rx.vstack(rx.text(rx.text.strong(item.who), " ", item.text, size="2"),
                                  rx.cond(item.body != "", rx.text(item.body, size="1")),
                                  rx.text(item.when, size="1", color_scheme="gray"), spacing="0"),
                        spacing="3", align="start")), spacing="3", width="100%"),
                    spacing="3", width="100%", padding="1.25rem",
                ),
                top="0", right="0", left="auto", height="100%", width=["100%", "480px"], overflow_y="auto",
                background=rx.color("gray", 1), z_index="30", position="fixed",
                border_left=f"1px solid {rx.color('gray', 5)}", id="booking-detail",
            )
        ),
        direction="right", open=S.detail_open, on_open_change=S.set_detail_open,
    )


def bookings_page() -> rx.Component:
    return rx.vstack(
        live_ticker(S.poll_changes),
        viewer_zone_probe(S),
        rx.hstack(
            rx.segmented_control.root(
                rx.segmented_control.item(rx.hstack(rx.icon("calendar-days", size=14), "Week", spacing="1",
                                                    align="center"), value="calendar"),
                rx.segmented_control.item(rx.hstack(rx.icon("list", size=14), "List", spacing="1", align="center"),
                                          value="list"),
                value=S.view, on_change=S.set_view, id="booking-view",
            ),
            rx.spacer(),
            rx.button(rx.icon("plus", size=16), "New booking", on_click=S.open_new(""), id="new-booking"),
            width="100%", align="center",
        ),
        field_error(S.load_error),
        rx.cond(S.view == "calendar", _calendar(), _list()),
        _new_dialog(),
        _move_dialog(),
        _detail_drawer(),
        spacing="4", width="100%",
    )


def business_hours_card() -> rx.Component:
    """Read-only: opening hours, time zone and slot length come from the environment (see .env.example)."""
    H = BusinessHoursState
    return section_card(
        "Business hours",
        rx.data_list.root(
            rx.data_list.item(rx.data_list.label("Opening hours"),
                              rx.data_list.value(H.hours, id="settings-business-hours")),
            rx.data_list.item(rx.data_list.label("Time zone"),
                              rx.data_list.value(H.timezone_name, " (now ", H.local_now, ")")),
            rx.data_list.item(rx.data_list.label("Slot length"), rx.data_list.value(H.slot_minutes, " minutes")),
        ),
        intro="Bookings must fall inside these hours; the voice agent offers free slots from them. "
              "Set BUSINESS_HOURS, BUSINESS_TIMEZONE and BOOKING_SLOT_MINUTES in the environment.",
        on_mount=H.load_hours,
    )
