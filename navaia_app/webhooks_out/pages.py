"""The Integrations page: components only (state in webhooks_out/state.py)."""

from __future__ import annotations

import reflex as rx

from navaia_app.auth.state import AuthState
from navaia_app.webhooks_out.state import IntegrationsState as S
from navaia_app.ui.layout import field_error, field_label, section_card


def _label(text, id_: str) -> rx.Component:
    return field_label(text, html_for=id_)


def _labelled_input(label: str, name: str, id_: str, **props) -> rx.Component:
    return rx.vstack(
        _label(label, id_),
        rx.input(name=name, id=id_, width="100%", **props),
        spacing="1", width="100%",
    )


def _badge(status) -> rx.Component:
    return rx.badge(status, color_scheme=rx.match(status, ("active", "green"), ("paused", "orange"),
                                                  ("delivered", "green"), ("failed", "red"), "gray"))


def _once(title: str, value, id_: str, on_dismiss=None) -> rx.Component:
    """A value shown once (a secret, a private URL), in a labelled read-only field."""
    return rx.cond(value != "", rx.callout.root(
        rx.vstack(
            _label(title, id_),
            rx.input(value=value, read_only=True, id=id_, width="100%", font_family="monospace"),
            rx.hstack(
                rx.button(rx.icon("copy", size=14), "Copy", size="1", variant="soft",
                          on_click=rx.set_clipboard(value), aria_label=f"Copy {title.lower()}"),
                *([rx.button("Done", size="1", variant="ghost", on_click=on_dismiss)] if on_dismiss else []),
                spacing="2",
            ),
            spacing="2", width="100%",
        ),
        color_scheme="amber", width="100%",
    ))


def _endpoint_row(e) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.vstack(rx.text(e.url, size="2", font_family="monospace", word_break="break-all"),
                                rx.text(e.description, size="1", color_scheme="gray"), spacing="0")),
        rx.table.cell(rx.text(e.events, size="1")),
        rx.table.cell(rx.vstack(_badge(e.status),
                                rx.cond(e.paused_reason != "", rx.text(e.paused_reason, size="1", color="orange")),
                                spacing="1")),
        rx.table.cell(rx.text(e.delivered, " delivered · ", e.pending, " waiting · ", e.failed, " failed", size="1")),
        rx.table.cell(rx.text(e.last_success, size="1")),
        rx.table.cell(rx.hstack(
            rx.button("Log", size="1", variant="soft", on_click=S.show_log(e.id),
                      aria_label="Delivery log of " + e.url),
            rx.button("Send test event", size="1", variant="soft", on_click=S.endpoint_action("send_test", e.id),
                      aria_label="Send test event to " + e.url),
            rx.cond(e.status == "active",
                    rx.button("Pause", size="1", variant="soft", color_scheme="orange", on_click=S.endpoint_action("pause", e.id),
                              aria_label="Pause " + e.url),
                    rx.button("Resume", size="1", variant="soft", color_scheme="green", on_click=S.endpoint_action("resume", e.id),
                              aria_label="Resume " + e.url)),
            rx.button("Delete", size="1", variant="soft", color_scheme="red", on_click=S.endpoint_action("delete", e.id),
                      aria_label="Delete " + e.url),
            spacing="1", wrap="wrap",
        )),
        align="center",
    )


def _event_choice(event_type) -> rx.Component:
    return rx.hstack(
        rx.checkbox(checked=S.chosen_events.contains(event_type),
                    on_change=lambda checked: S.toggle_event(event_type, checked), aria_label="Send " + event_type),
        rx.text(event_type, size="2"),
        spacing="2", align="center",
    )


def endpoints_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Outgoing webhooks", size="4", as_="h2"),
            rx.text("Navaia posts signed events (Standard Webhooks: webhook-id, webhook-timestamp, "
                    "webhook-signature) to these addresses, in order, retried for about a day. An endpoint that "
                    "keeps failing is paused with the reason.", size="2", color_scheme="gray"),
            _once("Signing secret (shown once)", S.new_secret, "new-endpoint-secret", S.dismiss_secret),
            rx.box(rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(t) for t in
                                               ("Endpoint", "Events", "Status", "Deliveries", "Last success",
                                                "Actions")])),
                rx.table.body(rx.foreach(S.endpoints, _endpoint_row)),
                size="1", width="100%",
            ), width="100%", overflow_x="auto"),
            rx.form(
                rx.vstack(
                    rx.heading("Add an endpoint", size="3", as_="h3"),
                    _labelled_input("URL", "url", "endpoint-url", placeholder="https://crm.example.com/hooks",
                                    required=True, max_length=2000, type="url"),
                    _labelled_input("Description (optional)", "description", "endpoint-description",
                                    max_length=300),
                    rx.el.fieldset(
                        rx.el.legend(rx.text("Events", size="2", weight="medium")),
                        rx.flex(rx.foreach(S.event_types, _event_choice), wrap="wrap", spacing="3"),
                        border="none", padding="0", margin="0",
                    ),
                    field_error(S.endpoint_error),
                    rx.button("Add endpoint", type="submit", id="add-endpoint"),
                    spacing="3", width="100%",
                ),
                # no reset on submit (a refused URL stays to be fixed, and a form reset would untick the
                # checkboxes); a new endpoint changes the key, which gives a fresh, empty form
                on_submit=S.add_endpoint, key=S.endpoints.length().to_string(),
            ),
            spacing="3", width="100%",
        ),
        width="100%",
    )


def _attempt_row(a) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(a.at, size="1")),
        rx.table.cell(rx.text(a.delivery_id, size="1")),
        rx.table.cell(rx.text(a.number, size="1")),
        rx.table.cell(rx.badge(a.status, color_scheme=rx.cond(a.ok, "green", "red"))),
        rx.table.cell(rx.text(a.latency, size="1")),
        rx.table.cell(rx.code(a.excerpt, size="1", word_break="break-all")),
    )


def _delivery_row(d) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(d.id, size="1")),
        rx.table.cell(rx.code(d.message_id, size="1")),
        rx.table.cell(rx.text(d.event_type, size="1")),
        rx.table.cell(_badge(d.status)),
        rx.table.cell(rx.text(d.attempts, size="1")),
        rx.table.cell(rx.text(rx.cond(d.status == "pending", d.next_attempt, d.last_error), size="1")),
        rx.table.cell(rx.cond(d.status != "pending", rx.button(
            "Send again", size="1", variant="soft", on_click=S.resend(d.id),
            aria_label="Send again: event " + d.message_id))),
    )


def log_card() -> rx.Component:
    return rx.cond(S.log_endpoint_id > 0, rx.card(
        rx.vstack(
            rx.hstack(rx.heading("Delivery log: ", rx.code(S.log_endpoint_url), size="4", as_="h2"), rx.spacer(),
                      rx.button(rx.icon("refresh-cw", size=14), "Refresh", size="1", variant="soft",
                                on_click=S.refresh_log), width="100%", align="center"),
            rx.text("Latest requests (", S.log_total, " in all): status, latency and what the receiver answered.",
                    size="2", color_scheme="gray"),
            rx.box(rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(t) for t in
                                               ("When", "Delivery", "Attempt", "Status", "Latency", "Response")])),
                rx.table.body(rx.foreach(S.attempts, _attempt_row)),
                size="1", width="100%",
            ), width="100%", overflow_x="auto"),
            rx.heading("Events", size="3", as_="h3"),
            rx.box(rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(t) for t in
                                               ("Delivery", "webhook-id", "Type", "Status", "Attempts",
                                                "Next try / last error", "")])),
                rx.table.body(rx.foreach(S.deliveries, _delivery_row)),
                size="1", width="100%",
            ), width="100%", overflow_x="auto"),
            spacing="3", width="100%",
        ),
        width="100%", id="delivery-log",
    ))


def _feed_row(f) -> rx.Component:
    return rx.table.row(
        rx.table.cell(f.scope), rx.table.cell(rx.text(f.created, size="1")),
        rx.table.cell(rx.text(f.last_used, size="1")),
        rx.table.cell(rx.button("Revoke", size="1", variant="soft", color_scheme="red", on_click=S.revoke_feed(f.id),
                                aria_label="Revoke the calendar URL for " + f.scope)),
    )


def feeds_card() -> rx.Component:
    return section_card(
        "Calendar feed",
        _once("Your calendar URL (shown once)", S.new_feed_url, "new-feed-url"),
        rx.cond(S.feeds.length() > 0, rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(t) for t in
                                           ("Bookings", "Created", "Last fetched", "")])),
            rx.table.body(rx.foreach(S.feeds, _feed_row)), size="1", width="100%",
        )),
        rx.form(
            rx.hstack(
                rx.vstack(
                    _label("Bookings", "feed-service"),
                    rx.el.select(rx.el.option("Every booking", value="__all__"),
                                 rx.foreach(S.services, lambda s: rx.el.option(s, value=s)),
                                 name="service", id="feed-service",
                                 style={"padding": "0.35rem", "border_radius": "6px"}),
                    spacing="1",
                ),
                rx.button("Get a calendar URL", type="submit", id="create-feed"),
                align="end", spacing="3", wrap="wrap",
            ),
            on_submit=S.create_feed,
        ),
        intro="A private iCalendar URL of the bookings for Google Calendar, Outlook or Apple Calendar "
              "(subscribe by URL). Anyone with the URL sees the bookings: revoke it if it leaks.",
    )


def retention_card() -> rx.Component:
    def days(label: str, name: str, value) -> rx.Component:
        return rx.vstack(
            _label(label, f"retention-{name}"),
            rx.input(name=name, id=f"retention-{name}", default_value=value, placeholder="forever",
                     type="number", min=1, max=36500, disabled=~AuthState.is_admin, width="10rem"),
            spacing="1",
        )

    return rx.card(
        rx.vstack(
            rx.heading("Data retention", size="4", as_="h2"),
            rx.text("Days each kind of personal data is kept; empty means forever. A daily job deletes what is "
                    "past due (files and rows).", size="2", color_scheme="gray"),
            rx.form(
                rx.vstack(
                    rx.flex(days("Call recordings (days)", "recordings_days", S.recordings_days),
                            days("Transcripts (days)", "transcripts_days", S.transcripts_days),
                            days("Webhook payloads (days)", "payloads_days", S.payloads_days),
                            wrap="wrap", spacing="4"),
                    field_error(S.retention_error),
                    rx.cond(AuthState.is_admin, rx.button("Save retention", type="submit", id="save-retention")),
                    spacing="3",
                ),
                on_submit=S.save_retention, key=S.recordings_days + S.transcripts_days + S.payloads_days,
            ),
            rx.text("Last purge: ", S.last_purge, rx.cond(S.last_purge_report != "", ": " + S.last_purge_report, ""),
                    size="2", id="last-purge"),
            spacing="3", width="100%",
        ),
        width="100%",
    )


def integrations_page() -> rx.Component:
    return rx.vstack(
        rx.cond(AuthState.is_admin, rx.fragment(endpoints_card(), log_card())),
        feeds_card(),
        retention_card(),
        spacing="4", width="100%",
    )
