from __future__ import annotations

import reflex as rx

from navaia_app.customers.picker import customer_picker
from navaia_app.tickets.service import PRIORITY_LABELS, SOURCE_LABELS, STATUS_LABELS
from navaia_app.tickets.state import ANY, TicketsState as S
from navaia_app.ui.layout import (dialog_actions, empty_state, field_error, field_label, list_table, pager,
                                  plain_header, search_input, sort_header, suggest_input, text_button)
from navaia_app.ui.live import live_ticker
from navaia_app.ui.timefmt import date_input, viewer_zone_probe

STATUS_COLORS = {"open": "blue", "in_progress": "amber", "resolved": "green", "closed": "gray"}
PRIORITY_COLORS = {"low": "gray", "medium": "blue", "high": "orange", "urgent": "red"}


def status_color(status) -> rx.Var:
    return rx.match(status, *STATUS_COLORS.items(), "gray")


def priority_badge(priority, label) -> rx.Component:
    return rx.badge(rx.match(priority, ("urgent", rx.icon("flame", size=12)), rx.fragment()), label,
                    color_scheme=rx.match(priority, *PRIORITY_COLORS.items(), "gray"), variant="soft")


def status_select(ticket_id, status, allowed, element_id, size: str = "1") -> rx.Component:
    """The status in place: the moves the workflow allows are enabled; the change shows at once."""
    return rx.select.root(
        rx.select.trigger(variant="soft", color_scheme=status_color(status), id=element_id,
                          aria_label="Ticket status", min_width="118px"),
        rx.select.content(*[
            rx.select.item(label, value=value, disabled=~allowed.contains(value))
            for value, label in STATUS_LABELS.items()
        ]),
        value=status,
        on_change=lambda value: S.change_status(ticket_id, value),
        size=size,
    )


def _row(row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text("#", row.id, size="1", color_scheme="gray", font_family="monospace"),
                      display=["none", "table-cell"]),
        rx.table.cell(
            rx.vstack(
                text_button(row.title, on_click=S.open_detail(row.id), class_name="ticket-title"),
                rx.hstack(
                    rx.cond(row.customer != "", rx.text(row.customer, size="1", color_scheme="gray")),
                    rx.cond(row.category != "", rx.badge(row.category, variant="outline", size="1",
                                                         color_scheme="gray")),
                    spacing="2", align="center",
                ),
                spacing="1", align="start",
            ),
            max_width="420px",
        ),
        rx.table.cell(status_select(row.id, row.status, row.allowed, "ticket-status-" + row.id.to_string())),
        rx.table.cell(priority_badge(row.priority, row.priority_label), display=["none", "table-cell"]),
        rx.table.cell(rx.badge(rx.match(row.source, ("ai_call", rx.icon("bot", size=12)), rx.fragment()),
                               row.source_label, variant="surface", color_scheme="gray"),
                      display=["none", "none", "table-cell"]),
        rx.table.cell(rx.cond(row.assignee != "", rx.text(row.assignee, size="2"),
                              rx.text("Unassigned", size="2", color_scheme="gray")),
                      display=["none", "none", "table-cell"]),
        rx.table.cell(rx.text(row.created, size="2", title=row.created_full, white_space="nowrap"),
                      display=["none", "table-cell"]),
        align="center",
        id="ticket-row-" + row.id.to_string(),
    )


def _filter_select(label: str, value, on_change, options: list[tuple[str, str]], element_id: str) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(placeholder=label, aria_label=label, id=element_id),
        rx.select.content(*[rx.select.item(text, value=key) for key, text in options]),
        value=value, on_change=on_change, size="2",
    )


def _filters() -> rx.Component:
    return rx.hstack(
        _filter_select("Priority", S.priority_filter, lambda value: S.set_filter("priority_filter", value),
                       [(ANY, "Any priority"), *PRIORITY_LABELS.items()], "ticket-filter-priority"),
        _filter_select("Source", S.source_filter, lambda value: S.set_filter("source_filter", value),
                       [(ANY, "Any source"), *SOURCE_LABELS.items()], "ticket-filter-source"),
        rx.select.root(
            rx.select.trigger(placeholder="Assignee", aria_label="Assignee", id="ticket-filter-assignee"),
            rx.select.content(
                rx.select.item("Anyone", value=ANY), rx.select.item("Assigned to me", value="me"),
                rx.select.item("Unassigned", value="none"), rx.select.separator(),
                rx.foreach(S.users, lambda u: rx.select.item(u.name, value=u.id)),
            ),
            value=S.assignee_filter, on_change=lambda value: S.set_filter("assignee_filter", value), size="2",
        ),
        rx.hstack(
            rx.text("Created", size="2", color_scheme="gray"),
            date_input(value=S.date_from, on_change=S.set_date_from, aria_label="Created from",
                     id="ticket-filter-from", size="2", width="140px"),
            rx.text("–", color_scheme="gray"),
            date_input(value=S.date_to, on_change=S.set_date_to, aria_label="Created until",
                     id="ticket-filter-to", size="2", width="140px"),
            align="center", spacing="2", flex_wrap="wrap",
        ),
        rx.cond(S.filtered, rx.button(rx.icon("x", size=14), "Clear filters", variant="ghost", size="2",
                                      color_scheme="gray", on_click=S.clear_filters)),
        spacing="3", flex_wrap="wrap", align="center", width="100%",
    )


def _tab(value: str, label: str, count) -> rx.Component:
    return rx.tabs.trigger(
        rx.hstack(rx.text(label), rx.badge(count, variant="soft", radius="full", size="1",
                                           color_scheme=STATUS_COLORS.get(value, "gray")),
                  spacing="2", align="center"),
        value=value, id=f"ticket-tab-{value}",
    )


def _tabs(*panel: rx.Component) -> rx.Component:
    """Status tabs; the list below is the panel of whichever tab is selected (so each tab controls a panel)."""
    return rx.tabs.root(
        rx.tabs.list(
            _tab("all", "All", S.all_count),
            *[_tab(value, label, S.counts.get(value, 0)) for value, label in STATUS_LABELS.items()],
            overflow_x="auto", max_width="100%",
        ),
        rx.tabs.content(rx.vstack(*panel, spacing="4", width="100%"), value=S.tab, padding_top="1rem"),
        value=S.tab, on_change=lambda value: S.set_filter("tab", value), width="100%",
    )


def _table() -> rx.Component:
    return rx.cond(
        S.rows.length() > 0,
        list_table([sort_header(S, "#", "id", display=["none", "table-cell"]),
                    sort_header(S, "Title", "title"),
                    sort_header(S, "Status", "status"),
                    sort_header(S, "Priority", "priority", display=["none", "table-cell"]),
                    plain_header("Source", display=["none", "none", "table-cell"]),
                    plain_header("Assignee", display=["none", "none", "table-cell"]),
                    sort_header(S, "Created", "created_at", display=["none", "table-cell"])],
                   S.rows, _row),
        rx.cond(
            S.filtered | (S.tab != "all"),
            empty_state("search-x", "No ticket matches", "Try another tab, or clear the filters.",
                        rx.button("Clear filters", variant="soft", on_click=S.clear_filters)),
            empty_state("ticket", "No tickets yet",
                        "Tickets raised by the voice agent, the API or your team appear here.",
                        rx.button(rx.icon("plus", size=16), "New ticket", on_click=S.open_new)),
        ),
    )


def _labelled(label: str, control: rx.Component, error=None, html_for: str = "") -> rx.Component:
    return rx.vstack(
        field_label(label, html_for=html_for),
        control,
        *([field_error(error)] if error is not None else []),
        spacing="1", width="100%",
    )


def _new_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("New ticket"),
            rx.dialog.description("Raise a ticket for a customer's issue; the team sees it at once.", size="2",
                                  color_scheme="gray", margin_bottom="1rem"),
            rx.vstack(
                customer_picker(S, "ticket", S.form_errors.get("customer_id", "")),
                rx.form(
                    rx.vstack(
                        _labelled("Title", rx.input(name="title", id="ticket-title", placeholder="What is the issue?",
                                                    default_value=S.form_values.get("title", ""), max_length=200,
                                                    width="100%",
                                                    color_scheme=rx.cond(S.form_errors.contains("title"), "red",
                                                                         "gray")),
                                  S.form_errors.get("title", ""), "ticket-title"),
                        _labelled("Description", rx.text_area(
                            name="description", id="ticket-description", placeholder="Details, steps, what was tried",
                            default_value=S.form_values.get("description", ""), width="100%", rows="4",
                            max_length=10000), S.form_errors.get("description", ""), "ticket-description"),
                        rx.hstack(
                            _labelled("Priority", rx.select.root(
                                rx.select.trigger(id="ticket-priority", width="100%"),
                                rx.select.content(*[rx.select.item(label, value=value)
                                                    for value, label in PRIORITY_LABELS.items()]),
                                value=S.form_priority, on_change=S.set_form_priority,
                            ), S.form_errors.get("priority", ""), "ticket-priority"),
                            _labelled("Category", suggest_input(
                                S.categories, list_id="ticket-categories", name="category", id="ticket-category",
                                placeholder="e.g. billing", max_length=60,
                                default_value=S.form_values.get("category", ""),
                            ), S.form_errors.get("category", ""), "ticket-category"),
                            width="100%", spacing="3",
                        ),
                        field_error(S.form_errors.get("_form", "")),
                        dialog_actions("Create ticket", "ticket-submit"),
                        spacing="3", width="100%",
                    ),
                    on_submit=S.save_new,
                    key=rx.cond(S.form_open, "open", "closed"),
                    width="100%",
                ),
                spacing="4", width="100%",
            ),
            max_width="560px",
        ),
        open=S.form_open,
        on_open_change=S.set_form_open,
    )


# --- detail drawer ---------------------------------------------------------------------------------


def _meta(label: str, value) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", color_scheme="gray"), rx.text(value, size="2"), spacing="0")


def _card(title: str, icon: str, *children) -> rx.Component:
    return rx.card(
        rx.vstack(rx.hstack(rx.icon(icon, size=16, color=rx.color("accent", 10)), rx.text(title, weight="medium"),
                            align="center", spacing="2"),
                  *children, spacing="2", width="100%"),
        width="100%",
    )


def _timeline_item(item) -> rx.Component:
    return rx.hstack(
        rx.center(rx.icon(item.icon, size=14), width="28px", height="28px", border_radius="50%",
                  background=rx.color("gray", 3), flex_shrink="0"),
        rx.vstack(
            rx.text(rx.text.strong(item.who), " ", item.text, size="2"),
            rx.cond(item.body != "", rx.box(rx.text(item.body, size="2", white_space="pre-wrap"),
                                            padding="0.5rem 0.75rem", border_radius="8px",
                                            background=rx.color("gray", 2), width="100%")),
            rx.text(item.when, size="1", color_scheme="gray"),
            spacing="1", width="100%",
        ),
        align="start", spacing="3", width="100%",
    )


def _edit_form() -> rx.Component:
    d = S.detail
    return rx.form(
        rx.vstack(
            rx.input(name="title", default_value=d.title, max_length=200, width="100%", id="ticket-edit-title"),
            field_error(S.edit_errors.get("title", "")),
            rx.text_area(name="description", default_value=d.description, rows="5", width="100%", max_length=10000),
            field_error(S.edit_errors.get("description", "")),
            rx.input(name="category", default_value=d.category, placeholder="Category", max_length=60, width="100%"),
            field_error(S.edit_errors.get("category", "")),
            rx.hstack(rx.button("Cancel", variant="soft", color_scheme="gray", type="button",
                                on_click=S.set_editing(False)),
                      rx.button("Save", type="submit"), justify="end", width="100%"),
            spacing="2", width="100%",
        ),
        on_submit=S.save_edit, width="100%", key=d.id.to_string() + "-edit",
    )


def _detail_body() -> rx.Component:
    d = S.detail
    return rx.vstack(
        rx.hstack(
            rx.text("#", d.id, size="2", color_scheme="gray", font_family="monospace"),
            rx.spacer(),
            rx.drawer.close(rx.icon_button(rx.icon("x", size=16), variant="ghost", aria_label="Close")),
            width="100%", align="center",
        ),
        rx.heading(d.title, size="5", as_="h2", id="ticket-detail-title"),
        rx.hstack(
            status_select(d.id, d.status, d.allowed, "ticket-detail-status", size="2"),
            rx.select.root(
                rx.select.trigger(aria_label="Priority", id="ticket-detail-priority"),
                rx.select.content(*[rx.select.item(label, value=v) for v, label in PRIORITY_LABELS.items()]),
                value=d.priority, on_change=S.set_detail_priority, size="2",
            ),
            rx.select.root(
                rx.select.trigger(aria_label="Assignee", id="ticket-detail-assignee", min_width="150px"),
                rx.select.content(rx.select.item("Unassigned", value="none"),
                                  rx.foreach(S.users, lambda u: rx.select.item(u.name, value=u.id))),
                value=d.assignee_id, on_change=S.set_detail_assignee, size="2",
            ),
            spacing="2", flex_wrap="wrap",
        ),
        rx.grid(
            _meta("Source", d.source_label), _meta("Category", rx.cond(d.category != "", d.category, "—")),
            _meta("Created", d.created), _meta("Updated", d.updated),
            rx.cond(d.resolved != "", _meta("Resolved", d.resolved)),
            columns="2", spacing="3", width="100%",
        ),
        rx.cond(
            S.editing,
            _edit_form(),
            rx.vstack(
                rx.cond(d.description != "", rx.text(d.description, size="2", white_space="pre-wrap"),
                        rx.text("No description.", size="2", color_scheme="gray")),
                rx.button(rx.icon("pencil", size=14), "Edit", variant="ghost", size="1", on_click=S.set_editing(True)),
                spacing="2", width="100%", align="start",
            ),
        ),
        rx.cond(
            d.customer_id > 0,
            _card("Customer", "user-round",
                  rx.text(d.customer_name, weight="medium", id="ticket-detail-customer"),
                  rx.text(d.customer_phone, size="2", font_family="monospace"),
                  rx.cond(d.customer_email != "", rx.text(d.customer_email, size="2")),
                  rx.text(d.customer_zone, " · ", d.customer_local, size="1", color_scheme="gray")),
            rx.text("No customer linked.", size="2", color_scheme="gray"),
        ),
        rx.cond(
            d.conversation_id > 0,
            _card("Raised by a voice-agent call", "bot",
                  rx.hstack(rx.badge(d.conversation_intent, variant="soft"),
                            rx.text(d.conversation_when, size="1", color_scheme="gray"), spacing="2"),
                  rx.cond(d.conversation_summary != "", rx.text(d.conversation_summary, size="2")),
                  rx.cond(d.conversation_lines.length() > 0, rx.vstack(
                      rx.foreach(d.conversation_lines, lambda line: rx.text(
                          rx.text.strong(line["role"], ": "), line["text"], size="1")),
                      spacing="1", max_height="180px", overflow_y="auto", width="100%",
                  )),
                  rx.link("Open in Conversations", size="2",
                          href="/conversations?id=" + d.conversation_id.to_string())),
        ),
        rx.heading("Activity", size="3", as_="h3", margin_top="0.5rem"),
        rx.vstack(rx.foreach(S.timeline, _timeline_item), spacing="3", width="100%", id="ticket-timeline"),
        rx.form(
            rx.vstack(
                rx.text_area(name="body", placeholder="Add a comment", rows="2", width="100%", max_length=4000,
                             id="ticket-comment"),
                field_error(S.comment_error),
                rx.button(rx.icon("send", size=14), "Comment", type="submit", size="2", id="ticket-comment-submit"),
                spacing="2", width="100%", align="end",
            ),
            on_submit=S.add_comment, reset_on_submit=True, width="100%",
            key=S.comment_key.to_string(),
        ),
        spacing="4", width="100%", padding="1.25rem",
    )


def _detail_drawer() -> rx.Component:
    return rx.drawer.root(
        rx.drawer.overlay(z_index="20"),
        rx.drawer.portal(
            rx.drawer.content(
                rx.drawer.title(S.detail.title, display="none"),
                rx.drawer.description("Ticket details", display="none"),
                _detail_body(),
                top="0", right="0", left="auto", height="100%", width=["100%", "520px"], overflow_y="auto",
                background=rx.color("gray", 1), z_index="30", position="fixed",
                border_left=f"1px solid {rx.color('gray', 5)}", id="ticket-detail",
            )
        ),
        direction="right",
        open=S.detail_open,
        on_open_change=S.set_detail_open,
    )


def tickets_page() -> rx.Component:
    return rx.vstack(
        live_ticker(S.poll_changes),
        viewer_zone_probe(S),
        rx.hstack(
            search_input("Search title and description", S.search, S.set_search, width=["100%", "340px"],
                         id="ticket-search"),
            rx.spacer(),
            rx.button(rx.icon("plus", size=16), "New ticket", on_click=S.open_new, id="new-ticket"),
            width="100%", spacing="3", flex_wrap="wrap", align="center",
        ),
        _filters(),
        _tabs(
            field_error(S.load_error),
            _table(),
            rx.cond(S.total > S.page_size, pager(S)),
        ),
        _new_dialog(),
        _detail_drawer(),
        spacing="4", width="100%",
    )
