"""The Conversations page: every voice-agent call, its transcript and recording, and the review queue."""

from __future__ import annotations

import reflex as rx

from navaia_app.conversations.state import ConversationsState as S
from navaia_app.conversations.state import ReviewBadgeState
from navaia_app.ui import routes
from navaia_app.ui.layout import empty_state, field_error, field_label, list_table, search_input, text_button
from navaia_app.ui.live import live_ticker

TABS = (("all", "All calls"), ("review", "Needs review"), ("booking_created", "Booked"),
        ("ticket_created", "Tickets"), ("not_connected", "Not connected"), ("dismissed", "Dismissed"),
        ("goal_reached", "Goal reached"), ("evaluation_failed", "Evaluation failed"), ("handed_off", "Handed off"),
        ("reminder", "Reminder calls"))


def _header(label: str, **props) -> rx.Component:
    return rx.table.column_header_cell(rx.text(label, size="1", weight="medium", color_scheme="gray"), **props)


def _row(row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.when, size="2", white_space=["normal", "nowrap"], min_width="88px")),
        rx.table.cell(rx.vstack(
            text_button(row.customer, on_click=S.open_call(row.id).stop_propagation, class_name="call-open"),
            rx.text(rx.match(row.direction, ("inbound", "Inbound"), ("outbound", "Outbound"), ("web", "Browser"),
                             "Call"), size="1", color_scheme="gray"),
            spacing="0")),
        rx.table.cell(rx.text(row.duration, size="2", font_family="monospace"), display=["none", "table-cell"]),
        rx.table.cell(rx.text(row.intent, size="2"), display=["none", "none", "table-cell"]),
        rx.table.cell(rx.badge(row.outcome_label, color_scheme=row.outcome_color, variant="soft")),
        rx.table.cell(rx.text(row.summary, size="2", color_scheme="gray"), display=["none", "none", "table-cell"],
                      max_width="420px"),
        on_click=S.open_call(row.id),
        cursor="pointer",
        _hover={"background": rx.color("gray", 2)},
        align="center",
        class_name="call-row",
    )


def _inbox_panel() -> rx.Component:
    return rx.cond(
        S.failed_count > 0,
        rx.callout.root(
            rx.callout.icon(rx.icon("triangle-alert", size=16)),
            rx.vstack(
                rx.hstack(
                    rx.callout.text(S.failed_count, " webhook event(s) could not be processed after several tries."),
                    rx.spacer(),
                    rx.button(rx.cond(S.inbox_open, "Hide", "Show"), size="1", variant="soft",
                              on_click=S.toggle_inbox, id="toggle-inbox"),
                    width="100%", align="center",
                ),
                rx.cond(
                    S.inbox_open,
                    rx.vstack(
                        rx.foreach(S.failed_events, lambda e: rx.hstack(
                            rx.vstack(
                                rx.text(e.event_type, " · ", rx.code(e.external_id), size="2"),
                                rx.text(e.error, size="1", color_scheme="gray"),
                                rx.text("Received ", e.received, ", ", e.attempts, " tries", size="1",
                                        color_scheme="gray"),
                                spacing="0", flex="1", min_width="0",
                            ),
                            rx.button(rx.icon("rotate-ccw", size=14), "Run again", size="1",
                                      on_click=S.retry_event(e.id)),
                            width="100%", align="center",
                        )),
                        width="100%", spacing="3",
                    ),
                ),
                width="100%", spacing="2",
            ),
            color="orange", width="100%",
        ),
    )


def _bubble(turn) -> rx.Component:
    bubble = rx.box(
        rx.text(turn.message, size="2", white_space="pre-wrap"),
        rx.cond(turn.tools != "", rx.text(rx.icon("wrench", size=11), " ", turn.tools, size="1",
                                          color_scheme="gray")),
        background=rx.cond(turn.is_agent, rx.color("gray", 3), rx.color("accent", 4)),
        padding="0.5rem 0.75rem",
        border_radius=rx.cond(turn.is_agent, "12px 12px 12px 4px", "12px 12px 4px 12px"),
        max_width="80%",
    )
    return rx.vstack(
        rx.text(rx.cond(turn.is_agent, "Agent", rx.cond(turn.role == "user", "Caller", turn.role)), " · ", turn.at,
                size="1", color_scheme="gray"),
        bubble,
        align=rx.cond(turn.is_agent, "start", "end"),
        spacing="1", width="100%",
    )


def _labelled(label: str, name: str, type_: str = "text", **props) -> rx.Component:
    return rx.vstack(
        field_label(label, html_for=f"review-{name}"),
        rx.input(name=name, id=f"review-{name}", type=type_, default_value=S.review_values.get(name, ""),
                 width="100%", **props),
        field_error(S.review_errors.get(name, "")),
        spacing="1", width="100%",
    )


def _customer_fields() -> rx.Component:
    return rx.grid(
        _labelled("Customer name", "customer_name", max_length=120),
        _labelled("Customer phone", "customer_phone", "tel"),
        _labelled("Customer email", "customer_email", "email"),
        columns=rx.breakpoints(initial="1", sm="3"), spacing="3", width="100%",
    )


def _form_buttons(label: str, submit_id: str) -> rx.Component:
    return rx.hstack(
        field_error(S.review_errors.get("_form", "")),
        rx.spacer(),
        rx.button("Cancel", variant="soft", color_scheme="gray", type="button", on_click=S.cancel_review),
        rx.button(label, type="submit", id=submit_id),
        width="100%", align="center", spacing="3",
    )


def _review_form(title: str, *fields: rx.Component, submit: tuple[str, str], on_submit, key=None) -> rx.Component:
    """One way of resolving the call under review: its title, its fields, Cancel and the `submit` (label, id)."""
    return rx.form(
        rx.vstack(rx.heading(title, size="3", as_="h3"), *fields, _form_buttons(*submit), spacing="3",
                  width="100%"),
        on_submit=on_submit, width="100%", **({"key": key} if key is not None else {}),
    )


def _booking_form() -> rx.Component:
    return _review_form(
        "Create the booking",
        _customer_fields(),
        rx.grid(
            _labelled("Service", "service", required=True, max_length=120),
            rx.vstack(
                field_label("Date and time (", S.review_zone, ")", html_for="review-starts_at"),
                rx.input(name="starts_at", id="review-starts_at", type="datetime-local",
                         default_value=S.review_values.get("starts_at", ""), width="100%", required=True),
                field_error(S.review_errors.get("starts_at", "")),
                spacing="1", width="100%",
            ),
            _labelled("Duration (minutes)", "duration_minutes", "number", min=5, max=480),
            columns=rx.breakpoints(initial="1", sm="3"), spacing="3", width="100%",
        ),
        rx.vstack(
            field_label("Notes", html_for="review-notes"),
            rx.text_area(name="notes", id="review-notes", default_value=S.review_values.get("notes", ""),
                         width="100%", max_length=4000),
            spacing="1", width="100%",
        ),
        submit=("Create booking", "review-create-booking"), on_submit=S.submit_booking,
        key="booking-" + S.call_id.to_string(),
    )


def _ticket_form() -> rx.Component:
    return _review_form(
        "Raise the ticket",
        _labelled("Title", "title", required=True, max_length=200),
        rx.vstack(
            field_label("Description", html_for="review-description"),
            rx.text_area(name="description", id="review-description",
                         default_value=S.review_values.get("description", ""), width="100%", max_length=10000,
                         rows="4"),
            field_error(S.review_errors.get("description", "")),
            spacing="1", width="100%",
        ),
        rx.grid(
            rx.vstack(
                field_label("Priority", html_for="review-priority"),
                rx.select(["low", "medium", "high", "urgent"], name="priority", id="review-priority",
                          custom_attrs={"aria-label": "Priority"},
                          default_value=S.review_values.get("priority", "medium")),
                field_error(S.review_errors.get("priority", "")),
                spacing="1",
            ),
            _labelled("Category", "category", max_length=60),
            columns="2", spacing="3", width="100%",
        ),
        _customer_fields(),
        submit=("Raise ticket", "review-create-ticket"), on_submit=S.submit_ticket,
        key="ticket-" + S.call_id.to_string(),
    )


def _dismiss_form() -> rx.Component:
    return _review_form(
        "Dismiss this call",
        rx.text("Nothing is created; the call leaves the review queue.", size="2", color_scheme="gray"),
        rx.input(name="note", placeholder="Why (optional), e.g. wrong number", max_length=300, width="100%"),
        submit=("Dismiss", "review-dismiss"), on_submit=S.submit_dismiss,
    )


def _review_box() -> rx.Component:
    return rx.cond(
        S.call_needs_review,
        rx.card(
            rx.vstack(
                rx.hstack(rx.icon("flag", size=16, color=rx.color("orange", 9)),
                          rx.text("Needs review: ", S.call_reason, size="2", weight="medium"),
                          align="start", spacing="2"),
                rx.match(
                    S.review_mode,
                    ("booking", _booking_form()),
                    ("ticket", _ticket_form()),
                    ("dismiss", _dismiss_form()),
                    rx.hstack(
                        rx.button(rx.icon("calendar-plus", size=14), "Create booking",
                                  on_click=S.start_review("booking"), id="review-booking"),
                        rx.button(rx.icon("ticket", size=14), "Create ticket", variant="soft",
                                  on_click=S.start_review("ticket"), id="review-ticket"),
                        rx.button("Dismiss", variant="soft", color_scheme="gray",
                                  on_click=S.start_review("dismiss"), id="review-dismiss-open"),
                        spacing="2", flex_wrap="wrap",
                    ),
                ),
                spacing="3", width="100%",
            ),
            width="100%", style={"borderLeft": f"3px solid {rx.color('orange', 9)}"},
        ),
    )


def _created() -> rx.Component:
    return rx.vstack(
        rx.cond(S.call_booking_id > 0, rx.link(
            rx.hstack(rx.icon("calendar-check", size=16), rx.text("Booking #", S.call_booking_id, ": ",
                                                                   S.call_booking, size="2"), align="center"),
            href=routes.BOOKINGS + "?id=" + S.call_booking_id.to_string(), id="call-booking-link")),
        rx.cond(S.call_ticket_id > 0, rx.link(
            rx.hstack(rx.icon("ticket", size=16), rx.text("Ticket #", S.call_ticket_id, ": ", S.call_ticket,
                                                          size="2"), align="center"),
            href=routes.TICKETS + "?id=" + S.call_ticket_id.to_string(), id="call-ticket-link")),
        spacing="1",
    )


def _detail_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.vstack(
                rx.hstack(
                    rx.vstack(
                        rx.dialog.title(S.call_title, margin="0"),
                        rx.text(S.call_direction, " · ", S.call_when, " · ", S.call_duration, size="2",
                                color_scheme="gray"),
                        spacing="1",
                    ),
                    rx.spacer(),
                    rx.dialog.close(rx.icon_button(rx.icon("x", size=16), variant="ghost", aria_label="Close")),
                    width="100%", align="start",
                ),
                rx.hstack(
                    rx.badge(S.call_outcome_label, color_scheme=S.call_outcome_color, size="2", id="call-outcome"),
                    rx.badge(S.call_intent, variant="outline", size="2"),
                    rx.cond(S.call_customer_id > 0,
                            rx.link(rx.hstack(rx.icon("user", size=14), rx.text(S.call_customer, size="2"),
                                              align="center", spacing="1"),
                                    href=routes.CUSTOMERS),
                            rx.text(S.call_customer, size="2")),
                    rx.cond(S.call_phone != "", rx.text(S.call_phone, size="2", font_family="monospace")),
                    spacing="3", align="center", flex_wrap="wrap",
                ),
                _created(),
                rx.cond(S.call_handed_off != "",
                        rx.hstack(rx.icon("phone-forwarded", size=16), rx.text(S.call_handed_off, size="2"),
                                  align="center", id="call-handed-off")),
                rx.hstack(
                    rx.cond(S.call_goal, rx.badge("Goal reached", color_scheme="green")),
                    rx.cond(S.call_cost != "", rx.text("Agent cost: ", S.call_cost, size="1", color_scheme="gray")),
                    spacing="2", align="center",
                ),
                _review_box(),
                rx.cond(S.call_summary != "", rx.text(S.call_summary, size="2")),
                rx.cond(S.call_audio_url != "",
                        rx.el.audio(src=S.call_audio_url, controls=True, preload="none", id="call-audio",
                                    style={"width": "100%"})),
                rx.cond(
                    S.call_facts.length() > 0,
                    rx.box(
                        rx.text("Collected by the agent", size="2", weight="medium", margin_bottom="0.5rem"),
                        rx.data_list.root(
                            rx.foreach(S.call_facts, lambda f: rx.data_list.item(
                                rx.data_list.label(f.label), rx.data_list.value(f.value))),
                            size="1",
                        ),
                        width="100%",
                    ),
                ),
                rx.cond(
                    S.call_criteria.length() > 0,
                    rx.box(
                        rx.text("Evaluation criteria", size="2", weight="medium", margin_bottom="0.5rem"),
                        rx.vstack(rx.foreach(S.call_criteria, lambda c: rx.hstack(
                            rx.badge(c.result, color_scheme=c.color, min_width="5rem", justify="center"),
                            rx.vstack(rx.text(c.name, size="2", weight="medium"),
                                      rx.text(c.rationale, size="1", color_scheme="gray"), spacing="0"),
                            align="start", spacing="3")), spacing="2", width="100%"),
                        width="100%", id="call-evaluation",
                    ),
                ),
                rx.text("Transcript", size="2", weight="medium"),
                rx.cond(
                    S.call_turns.length() > 0,
                    rx.vstack(rx.foreach(S.call_turns, _bubble), spacing="2", width="100%", id="call-transcript"),
                    rx.text("No transcript for this call.", size="2", color_scheme="gray"),
                ),
                rx.text("ElevenLabs conversation ", rx.code(S.call_external_id), size="1", color_scheme="gray"),
                spacing="4", width="100%",
            ),
            max_width="760px",
            max_height="90vh",
            overflow_y="auto",
        ),
        open=S.call_id > 0,
        on_open_change=S.set_call_open,
    )


def conversations_page() -> rx.Component:
    return rx.vstack(
        live_ticker(S.tick, 3000),
        rx.hstack(
            rx.scroll_area(
                rx.segmented_control.root(
                    *[rx.segmented_control.item(
                        rx.cond(key == "review", rx.text(label, " (", S.review_count, ")"), label), value=key)
                      for key, label in TABS],
                    value=S.view, on_change=S.set_view, id="call-tabs",
                ),
                type="auto", scrollbars="horizontal", max_width="100%",
            ),
            rx.spacer(),
            rx.link(rx.button(rx.icon("download", size=14), "Export CSV", variant="soft", size="2"),
                    href=S.export_url, is_external=True, id="export-conversations"),
            search_input("Search summaries", S.search, S.set_search, width=["100%", "240px"], id="call-search"),
            width="100%", spacing="3", flex_wrap="wrap", align="center",
        ),
        _inbox_panel(),
        rx.cond(S.pending_count > 0,
                rx.text(rx.icon("loader", size=12), " ", S.pending_count, " call event(s) waiting for the worker.",
                        size="1", color_scheme="gray")),
        field_error(S.load_error),
        rx.cond(
            S.rows.length() > 0,
            list_table([_header("When"), _header("Customer"), _header("Duration", display=["none", "table-cell"]),
                        _header("Intent", display=["none", "none", "table-cell"]), _header("Outcome"),
                        _header("Summary", display=["none", "none", "table-cell"])],
                       S.rows, _row, paged=S),
            rx.cond(
                S.view == "review",
                empty_state("circle-check", "Nothing to review", "Every call became a booking or a ticket."),
                empty_state("messages-square", "No calls yet",
                            "Calls appear here when the voice agent sends its post-call webhook. "
                            "Try one from the Playground.",
                            rx.link(rx.button(rx.icon("flask-conical", size=16), "Open the Playground"),
                                    href=routes.PLAYGROUND)),
            ),
        ),
        _detail_dialog(),
        spacing="4", width="100%",
    )


def review_badge() -> rx.Component:
    """The count of calls waiting for review, for the sidebar (refreshed every 15 s)."""
    return rx.fragment(
        # the moment's on_change fires once as it mounts too: that is the page's refresh (no on_mount besides)
        rx.moment(interval=15000, on_change=ReviewBadgeState.refresh, display="none", format="X"),
        rx.cond(ReviewBadgeState.needs_review > 0,
                rx.badge(ReviewBadgeState.needs_review, color_scheme="orange", variant="solid", radius="full",
                         size="1", id="review-badge", title="Calls waiting for review")),
    )
