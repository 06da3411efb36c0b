"""The campaigns list, the create/edit dialog, and the campaign page with live progress."""

from __future__ import annotations

import reflex as rx

from navaia_app.campaigns.models import RETRYABLE_OUTCOMES, WEEKDAYS
from navaia_app.campaigns.state import CALL_LABELS, DAY_LABELS, STATUS_LABELS
from navaia_app.campaigns.state import CampaignDetailState as D
from navaia_app.campaigns.state import CampaignsState as S
from navaia_app.core.validation import timezone_names
from navaia_app.ui import routes
from navaia_app.ui.confirm import delete_dialog
from navaia_app.ui.layout import (edit_dialog, empty_state, field_error, field_label, list_table, search_input,
                                  status_select, suggest_input)
from navaia_app.ui.live import live_ticker
from navaia_app.ui.timefmt import viewer_zone_probe

UPLOAD_ID = "campaign-csv"
STATUS_COLORS = {"draft": "gray", "scheduled": "blue", "running": "green", "paused": "amber",
                 "completed": "indigo", "cancelled": "red"}
CALL_COLORS = {"pending": "gray", "queued": "gray", "ringing": "blue", "in_progress": "cyan", "completed": "green",
               "busy": "orange", "no_answer": "amber", "failed": "red", "voicemail": "purple", "voicemail_left": "violet", "skipped": "gray",
               "cancelled": "gray"}


def status_badge(status, label) -> rx.Component:
    return rx.match(status, *[(key, rx.badge(label, color_scheme=color, variant="soft"))
                              for key, color in STATUS_COLORS.items()], rx.badge(label, variant="soft"))


def call_badge(status, label) -> rx.Component:
    return rx.match(status, *[(key, rx.badge(label, color_scheme=color, variant="soft"))
                              for key, color in CALL_COLORS.items()], rx.badge(label, variant="soft"))


def _actions(status, campaign_id, name, state, *, size="1", with_labels=False) -> rx.Component:
    def button(icon: str, label: str, handler, color: str = "gray", **props):
        if with_labels:
            return rx.button(rx.icon(icon, size=14), label, size=size, variant="soft", color_scheme=color,
                             on_click=handler, **props)
        return rx.tooltip(rx.icon_button(rx.icon(icon, size=14), size=size, variant="ghost", color_scheme=color,
                                         on_click=handler, aria_label=label, **props), content=label)

    return rx.hstack(
        rx.cond(status == "draft", button("play", "Run", state.lifecycle("run", campaign_id), "green", class_name="run-campaign")),
        rx.cond((status == "running") | (status == "scheduled"),
                button("pause", "Pause", state.lifecycle("pause", campaign_id), "amber", class_name="pause-campaign")),
        rx.cond(status == "paused", button("play", "Resume", state.lifecycle("resume", campaign_id), "green",
                                           class_name="resume-campaign")),
        rx.cond((status == "running") | (status == "scheduled") | (status == "paused"),
                button("square", "Cancel", state.lifecycle("cancel", campaign_id), "red", class_name="cancel-campaign")),
        rx.cond(status == "draft", button("pencil", "Edit", S.open_edit(campaign_id))),
        button("copy", "Duplicate", state.duplicate(campaign_id)),
        rx.cond(status == "draft", button("trash-2", "Delete", S.ask_delete(campaign_id, name), "red")),
        spacing="1", flex_wrap="wrap",
    )


def _row(row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.vstack(
            rx.link(row.name, href="/campaigns/" + row.id.to_string(), weight="medium", class_name="campaign-link"),
            rx.text(row.audience, size="1", color_scheme="gray"), spacing="0")),
        rx.table.cell(rx.vstack(status_badge(row.status, row.status_label),
                                rx.cond(row.status_reason != "", rx.text(row.status_reason, size="1", color="red")),
                                spacing="1")),
        rx.table.cell(rx.vstack(
            rx.progress(value=row.progress.to(int), width="140px", size="1", aria_label="Calls done"),
            rx.text(row.done, " of ", row.total, " calls done", size="1", color_scheme="gray"),
            spacing="1"), display=["none", "table-cell"]),
        rx.table.cell(rx.text(row.created, size="2"), display=["none", "none", "table-cell"]),
        rx.table.cell(_actions(row.status, row.id, row.name, S)),
        align="center",
    )


def _labelled(label: str, control: rx.Component, error_key: str | None = None, hint: str | None = None,
              html_for: str | None = None) -> rx.Component:
    return rx.vstack(
        field_label(label, html_for=html_for),
        control,
        *([rx.text(hint, size="1", color_scheme="gray")] if hint else []),
        *([field_error(S.form_errors.get(error_key, ""))] if error_key else []),
        spacing="1", width="100%",
    )


def _input(label: str, name: str, *, type_: str = "text", hint: str | None = None, **props) -> rx.Component:
    return _labelled(label, rx.input(name=name, id=f"campaign-{name}", type=type_,
                                     default_value=S.form_values.get(name, ""), width="100%",
                                     color_scheme=rx.cond(S.form_errors.contains(name), "red", "gray"), **props),
                     name, hint, html_for=f"campaign-{name}")


def _audience_section() -> rx.Component:
    filters = rx.vstack(
        rx.input(placeholder="Name, email or phone digits", default_value=S.form_values.get("q", ""),
                 on_change=S.set_filter_value("q").debounce(300), width="100%"),
        rx.hstack(
            suggest_input(timezone_names(), list_id="campaign-tz-options", placeholder="Time zone, e.g. Europe/London",
                          default_value=S.form_values.get("timezone", ""),
                          on_change=S.set_filter_value("timezone").debounce(400), style={"flex": "1", "width": "auto"}),
            rx.input(placeholder="Phone prefix, e.g. +44", default_value=S.form_values.get("phone_prefix", ""),
                     on_change=S.set_filter_value("phone_prefix").debounce(300), width="160px"),
            width="100%", spacing="2", flex_wrap="wrap",
        ),
        width="100%", spacing="2",
    )
    picker = rx.vstack(
        rx.input(rx.input.slot(rx.icon("search", size=14)), placeholder="Find customers",
                 default_value=S.pick_search, on_change=S.set_pick_search.debounce(300), width="100%"),
        rx.vstack(
            rx.foreach(S.pick_rows, lambda c: rx.hstack(
                rx.checkbox(checked=S.picked_ids.contains(c.id), on_change=S.toggle_pick(c.id),
                            disabled=c.do_not_call),
                rx.text(c.name, size="2", weight="medium"),
                rx.text(c.phone, size="1", color_scheme="gray", font_family="monospace"),
                rx.cond(c.do_not_call, rx.badge("Do not call", color_scheme="red", variant="soft", size="1")),
                align="center", spacing="2")),
            spacing="1", width="100%", max_height="200px", overflow_y="auto",
        ),
        rx.text(S.picked_ids.length(), " picked", size="1", color_scheme="gray"),
        width="100%", spacing="2",
    )
    upload = rx.vstack(
        rx.upload(
            rx.vstack(rx.icon("upload", size=18),
                      rx.text("A CSV with a phone (or customer_id) column; other columns become call variables",
                              size="1", text_align="center"), align="center", spacing="1"),
            id=UPLOAD_ID, accept={"text/csv": [".csv"], "text/plain": [".csv", ".txt"]}, max_files=1,
            border=f"1px dashed {rx.color('gray', 7)}", padding="1rem", border_radius="10px", width="100%",
            on_drop=S.upload_csv(rx.upload_files(upload_id=UPLOAD_ID)),
        ),
        rx.cond(S.csv_summary != "", rx.callout(S.csv_summary, icon="file-check", size="1", width="100%")),
        rx.cond(S.csv_problems.length() > 0, rx.scroll_area(
            rx.vstack(rx.foreach(S.csv_problems, lambda p: rx.text("Row ", p["row"], ": ", p["reason"], size="1",
                                                                   color="red")), spacing="0"),
            max_height="100px")),
        width="100%", spacing="2",
    )
    return rx.vstack(
        rx.text("Audience", size="2", weight="medium"),
        rx.segmented_control.root(
            rx.segmented_control.item("All", value="all"),
            rx.segmented_control.item("Filters", value="filters"),
            rx.segmented_control.item("Pick", value="customers"),
            rx.segmented_control.item("CSV", value="csv"),
            value=S.audience_type, on_change=S.set_audience_type, size="1", width="100%",
        ),
        rx.match(S.audience_type, ("filters", filters), ("customers", picker), ("csv", upload), rx.fragment()),
        rx.cond(S.audience_preview != "", rx.text(S.audience_preview, size="1", color_scheme="gray",
                                                  id="audience-preview")),
        field_error(S.form_errors.get("audience", "")),
        width="100%", spacing="2",
    )


def _form_dialog() -> rx.Component:
    return edit_dialog(
        S,
        _input("Name", "name", placeholder="Annual check-up reminders", required=True, max_length=120),
        _labelled("Purpose", rx.text_area(name="purpose", id="campaign-purpose", max_length=2000,
                                          default_value=S.form_values.get("purpose", ""),
                                          placeholder="What the agent calls about", width="100%"),
                  "purpose", html_for="campaign-purpose"),
        _labelled("Voicemail message", rx.text_area(
            name="voicemail_message", id="campaign-voicemail_message", max_length=1000,
            default_value=S.form_values.get("voicemail_message", ""), width="100%",
            placeholder="Left after an answering machine's greeting, e.g. Hi {{customer_name}}, this is ... "
                        "Empty: hang up on machines."),
                  "voicemail_message", html_for="campaign-voicemail_message"),
        _audience_section(),
        rx.grid(
            _input("Window opens", "calling_window_start", type_="time"),
            _input("Window closes", "calling_window_end", type_="time"),
            columns="2", spacing="3", width="100%",
        ),
        rx.vstack(
            rx.text("Calling days", size="2", weight="medium"),
            rx.hstack(*[rx.checkbox(DAY_LABELS[d], checked=S.days.contains(d),
                                    on_change=S.toggle_day(d)) for d in WEEKDAYS],
                      spacing="3", flex_wrap="wrap"),
            rx.text("In each customer's own time zone (or the business's). Same open and close time: "
                    "all day.", size="1", color_scheme="gray"),
            field_error(S.form_errors.get("calling_days", "")),
            spacing="1", width="100%",
        ),
        rx.grid(
            _input("Calls per second", "calls_per_second", type_="number", step="0.1", min="0.1",
                   max="100", hint="Capped at the provider's limit (Twilio: 1/s)"),
            _input("Max concurrent calls", "max_concurrent_calls", type_="number", min="1", max="1000"),
            _input("Attempts per customer", "max_attempts", type_="number", min="1", max="10"),
            _input("Minutes between attempts", "retry_spacing_minutes", type_="number", min="1"),
            columns=rx.breakpoints(initial="1", sm="2"), spacing="3", width="100%",
        ),
        rx.vstack(
            rx.text("Retry after", size="2", weight="medium"),
            rx.hstack(*[rx.checkbox(CALL_LABELS[o], checked=S.retry_on.contains(o),
                                    on_change=S.toggle_retry(o))
                        for o in RETRYABLE_OUTCOMES], spacing="3", flex_wrap="wrap"),
            field_error(S.form_errors.get("retry_on", "")),
            spacing="1", width="100%",
        ),
        _input("Start at (optional)", "start_at", type_="datetime-local",
               hint=rx.fragment("In the business time zone (", S.business_timezone, "); empty: at once")),
        _labelled("Variables for the agent", rx.text_area(
            name="variables", id="campaign-variables", default_value=S.form_values.get("variables", ""),
            placeholder="offer=10% off\nclinic=Downtown", width="100%", rows="3"),
            "variables", "One name=value a line. customer_id, campaign_id, campaign_call_id and "
                         "customer_name are always sent.", html_for="campaign-variables"),
        noun="campaign", create_label="Create draft", submit_id="campaign-submit", max_width="600px",
        description="A draft until you run it. Calls go out inside each customer's local calling window, paced "
                    "and retried as set here.",
    )


def _delete_dialog() -> rx.Component:
    return delete_dialog(S, title="Delete campaign", button_id="confirm-delete-campaign",
                         description=rx.text("Delete the draft ", rx.text.strong(S.delete_name), "?"))


def campaigns_page() -> rx.Component:
    return rx.vstack(
        live_ticker(S.poll_changes),
        viewer_zone_probe(S),
        rx.hstack(
            search_input("Search campaigns", S.search, S.set_search, width=["100%", "260px"]),
            status_select(S, "All statuses", list(STATUS_LABELS.items()), aria_label="Status"),
            rx.spacer(),
            rx.button(rx.icon("plus", size=16), "New campaign", on_click=S.open_new, id="new-campaign"),
            width="100%", spacing="3", flex_wrap="wrap", align="center",
        ),
        field_error(S.load_error),
        rx.cond(
            S.total > 0,
            list_table(["Campaign", "Status", ("Progress", "sm"), ("Created", "md"), ""], S.rows, _row, paged=S),
            rx.cond(
                (S.search != "") | (S.status_filter != ""),
                empty_state("search-x", "No campaign matches", "Try another name or status."),
                empty_state("megaphone", "No campaigns yet",
                            "A campaign calls a list of customers with your voice agent: paced, retried, and only "
                            "inside each customer's calling hours.",
                            rx.button(rx.icon("plus", size=16), "New campaign", on_click=S.open_new)),
            ),
        ),
        _form_dialog(),
        _delete_dialog(),
        spacing="4", width="100%",
    )


# --- the campaign page ---------------------------------------------------------------------------


def _tile(tile) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(tile.label, size="1", color_scheme="gray"),
            rx.heading(tile.value, size="5", as_="p", class_name="count-" + tile.key),
            spacing="0",
        ),
        size="1",
    )


def _call_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.vstack(rx.text(row.customer, weight="medium", size="2"),
                                rx.text(row.phone, size="1", color_scheme="gray", font_family="monospace"),
                                spacing="0")),
        rx.table.cell(call_badge(row.status, row.status_label)),
        rx.table.cell(rx.text(row.attempts, size="2"), display=["none", "table-cell"]),
        rx.table.cell(rx.text(row.outcome, size="1", color_scheme="gray"), display=["none", "none", "table-cell"]),
        rx.table.cell(rx.text(row.duration, size="2", font_family="monospace"), display=["none", "table-cell"]),
        rx.table.cell(rx.cond(row.conversation_id > 0,
                              rx.link("Conversation", href=routes.CONVERSATIONS + "?id=" +
                                      row.conversation_id.to_string(), size="2"),
                              rx.text("—", size="2", color_scheme="gray"))),
        rx.table.cell(rx.hstack(
            rx.text(row.updated, size="1", color_scheme="gray"),
            rx.cond((row.status == "ringing") | (row.status == "in_progress"),
                    rx.tooltip(rx.icon_button(rx.icon("phone-off", size=12), size="1", variant="ghost",
                                              color_scheme="red", on_click=D.hang_up(row.id), aria_label="Hang up"),
                               content="Hang up")),
            spacing="2", align="center"), display=["none", "none", "table-cell"]),
        align="center",
    )


def campaign_page() -> rx.Component:
    header = rx.vstack(
        rx.hstack(
            rx.link(rx.hstack(rx.icon("arrow-left", size=14), rx.text("Campaigns", size="2"), align="center",
                              spacing="1"), href=routes.CAMPAIGNS, color_scheme="gray"),
            rx.spacer(),
            rx.link(rx.hstack(rx.icon("chart-column", size=14), rx.text("Analytics", size="2"), align="center",
                              spacing="1"), href=routes.ANALYTICS + "?campaign_id=" + D.campaign_id.to_string(),
                    id="campaign-analytics-link"),
            rx.link(rx.hstack(rx.icon("download", size=14), rx.text("Calls as CSV", size="2"), align="center",
                              spacing="1"), href="/api/v1/campaigns/" + D.campaign_id.to_string() + "/calls.csv",
                    is_external=True, id="campaign-calls-csv"),
            width="100%", spacing="4",
        ),
        rx.hstack(
            rx.vstack(
                rx.hstack(rx.heading(D.name, size="6", as_="h2", id="campaign-name"), status_badge(D.status, D.status_label),
                          align="center", spacing="3", flex_wrap="wrap"),
                rx.cond(D.purpose != "", rx.text(D.purpose, size="2", color_scheme="gray")),
                rx.cond(D.status_reason != "", rx.callout(D.status_reason, icon="triangle-alert", color_scheme="red",
                                                          size="1")),
                spacing="1",
            ),
            rx.spacer(),
            _actions(D.status, D.campaign_id, D.name, D, size="2", with_labels=True),
            width="100%", align="start", flex_wrap="wrap", spacing="3",
        ),
        width="100%", spacing="2",
    )
    progress = rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(rx.text.strong(D.done_calls), " of ", D.total_calls, " calls done", size="2"),
                rx.spacer(),
                rx.text(D.progress, "%", size="2", weight="bold", id="campaign-progress-label"),
                width="100%",
            ),
            rx.progress(value=D.progress.to(int), size="3", width="100%", id="campaign-progress",
                        aria_label="Calls done"),
            rx.hstack(
                rx.badge(rx.icon("activity", size=12), D.calls_per_minute, " calls in the last minute",
                         variant="surface", id="calls-per-minute"),
                rx.cond(D.retrying > 0, rx.badge(rx.icon("rotate-cw", size=12), D.retrying, " retries scheduled",
                                                 variant="surface", color_scheme="amber")),
                spacing="2", flex_wrap="wrap",
            ),
            spacing="2", width="100%",
        ),
        width="100%",
    )
    tiles = rx.grid(rx.foreach(D.tiles, _tile), columns=rx.breakpoints(initial="3", sm="5", lg="9"), spacing="2",
                    width="100%")
    details = rx.card(
        rx.data_list.root(
            rx.data_list.item(rx.data_list.label("Audience"), rx.data_list.value(D.audience)),
            rx.data_list.item(rx.data_list.label("Calling window"), rx.data_list.value(D.window)),
            rx.data_list.item(rx.data_list.label("Pacing"), rx.data_list.value(D.pacing)),
            rx.data_list.item(rx.data_list.label("Retries"), rx.data_list.value(D.retries)),
            rx.cond(D.started != "", rx.data_list.item(rx.data_list.label("Started"),
                                                       rx.data_list.value(D.started))),
            rx.cond(D.excluded.length() > 0, rx.data_list.item(
                rx.data_list.label("Excluded"),
                rx.data_list.value(rx.hstack(rx.foreach(D.excluded, lambda e: rx.badge(e["count"], " ", e["reason"],
                                                                                         variant="soft")),
                                             spacing="1", flex_wrap="wrap")))),
            size="2",
        ),
        width="100%",
    )
    calls = rx.vstack(
        rx.hstack(
            rx.heading("Calls", size="4", as_="h2"),
            rx.spacer(),
            status_select(D, "All calls", [(s, CALL_LABELS[s]) for s in (
                "queued", "ringing", "in_progress", "completed", "busy", "no_answer", "failed", "voicemail", "skipped",
                "cancelled")], aria_label="Show calls"),
            width="100%", align="center",
        ),
        rx.cond(
            D.total > 0,
            list_table(["Customer", "Status", ("Attempts", "sm"), ("Last outcome", "md"), ("Duration", "sm"),
                        "Conversation", ("Updated", "md")], D.calls, _call_row, paged=D, size="1"),
            rx.cond(D.status == "draft",
                    empty_state("list-checks", "Not run yet", "Run the campaign to snapshot its audience: one call "
                                "per customer appears here, live."),
                    empty_state("phone", "No calls here", "No call has this status.")),
        ),
        width="100%", spacing="3",
    )
    return rx.cond(
        D.found,
        rx.vstack(live_ticker(D.poll_changes, interval_ms=2000), viewer_zone_probe(D), header, progress, tiles,
                  details, calls,
                  _form_dialog(), _delete_dialog(), spacing="4", width="100%"),
        empty_state("search-x", "Campaign not found", "It may have been deleted.",
                    rx.link(rx.button("All campaigns", variant="soft"), href=routes.CAMPAIGNS)),
    )
