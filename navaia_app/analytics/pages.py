"""The Analytics page: components only (figures from AnalyticsState)."""

from __future__ import annotations

import reflex as rx

from navaia_app.analytics.state import AnalyticsState as S
from navaia_app.ui.layout import field_error, field_label


def _card(title: str, *children, **props) -> rx.Component:
    return rx.card(rx.vstack(rx.heading(title, size="3", as_="h2"), *children, spacing="3", width="100%"), width="100%",
                   **props)


def _controls() -> rx.Component:
    return rx.hstack(
        rx.vstack(
            field_label("Calls", html_for="analytics-scope", size="1"),
            rx.el.select(
                rx.foreach(S.campaigns, lambda o: rx.el.option(o.label, value=o.value)),
                id="analytics-scope", value=S.scope, on_change=S.set_scope,
                style={"padding": "0.4rem", "borderRadius": "6px", "border": "1px solid var(--gray-7)",
                       "background": "var(--color-panel-solid)", "color": "var(--gray-12)"},
            ),
            spacing="1",
        ),
        rx.form(
            rx.hstack(
                rx.vstack(field_label("From", html_for="analytics-start", size="1"),
                          rx.input(type="date", name="start", id="analytics-start", value=S.start,
                                   on_change=S.set_start), spacing="1"),
                rx.vstack(field_label("To (included)", html_for="analytics-end", size="1"),
                          rx.input(type="date", name="end", id="analytics-end", value=S.end, on_change=S.set_end),
                          spacing="1"),
                rx.button("Apply", type="submit", id="analytics-apply"),
                align="end", spacing="3",
            ),
            on_submit=S.apply_period,
        ),
        rx.spacer(),
        rx.cond(S.export_url != "",
                rx.link(rx.button(rx.icon("download", size=14), "Calls as CSV", variant="soft"),
                        href=S.export_url, is_external=True, id="analytics-export")),
        width="100%", align="end", spacing="4", flex_wrap="wrap",
    )


def _figure(f) -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.text(f.label, size="2"), rx.spacer(),
                  rx.text(rx.el.strong(f.count, id="funnel-" + f.key), " · ", f.share, size="2"), width="100%"),
        rx.box(rx.box(width=f.width, height="10px", background="var(--accent-9)", border_radius="4px"),
               width="100%", background="var(--gray-3)", border_radius="4px"),
        spacing="1", width="100%",
    )


def _beside(f) -> rx.Component:
    return rx.vstack(rx.text(f.label, size="1", color_scheme="gray"),
                     rx.text(f.count, size="4", weight="bold", id="funnel-" + f.key),
                     rx.text(f.share, size="1", color_scheme="gray"), spacing="0", min_width="6rem")


def _funnel() -> rx.Component:
    return _card(
        "Funnel",
        rx.text("Attempts that reached the carrier; answer rate ", rx.el.strong(S.answer_rate), ".", size="1",
                color_scheme="gray"),
        rx.vstack(rx.foreach(S.funnel, _figure), spacing="3", width="100%"),
        rx.flex(rx.foreach(S.beside, _beside), spacing="4", wrap="wrap"),
        id="analytics-funnel",
    )


def _heat_cell(cell) -> rx.Component:
    return rx.el.td(
        cell.text, title=cell.title, id="heat-" + cell.key,
        custom_attrs={"data-dialled": cell.dialled, "data-answered": cell.answered},
        style={"background": cell.background, "fontSize": "10px", "textAlign": "center", "minWidth": "1.6rem",
               "height": "1.6rem", "color": "var(--gray-12)"},
    )


def _heatmap() -> rx.Component:
    return _card(
        "When people answer",
        rx.text("Answer rate (%) by weekday and hour in each customer's local time; hover a cell for counts. "
                "Empty cells: no call placed then.", size="1", color_scheme="gray"),
        rx.box(
            rx.el.table(
                rx.el.thead(rx.el.tr(rx.el.th(rx.el.span("Day", class_name="rt-sr-only")),
                                     rx.foreach(S.hours, lambda h: rx.el.th(h, scope="col",
                                                                            style={"fontSize": "10px"})))),
                rx.el.tbody(rx.foreach(S.heatmap, lambda row: rx.el.tr(
                    rx.el.th(row.day, scope="row", style={"fontSize": "12px", "paddingRight": "0.5rem"}),
                    rx.foreach(row.cells, _heat_cell)))),
                style={"borderCollapse": "separate", "borderSpacing": "2px"},
            ),
            width="100%", overflow_x="auto", class_name="scroll-x",
        ),
        id="analytics-heatmap",
    )


def _talk_and_cost() -> rx.Component:
    return rx.grid(
        _card("Talk time",
              rx.data_list.root(
                  rx.data_list.item(rx.data_list.label("Answered calls with a duration"),
                                    rx.data_list.value(S.talk_calls)),
                  rx.data_list.item(rx.data_list.label("Median"), rx.data_list.value(S.talk_median, id="talk-median")),
                  rx.data_list.item(rx.data_list.label("90th percentile"), rx.data_list.value(S.talk_p90)),
                  size="2")),
        _card("Cost", rx.vstack(rx.foreach(S.cost_lines, lambda line: rx.text(line, size="2")), spacing="1")),
        _card("Conversations",
              rx.data_list.root(
                  rx.data_list.item(rx.data_list.label("Recorded"), rx.data_list.value(S.conversations_total)),
                  rx.data_list.item(rx.data_list.label("Goal reached"), rx.data_list.value(S.conversations_goal)),
                  rx.data_list.item(rx.data_list.label("Handed off to a person"),
                                    rx.data_list.value(S.conversations_handed_off, id="conversations-handed-off")),
                  rx.data_list.item(rx.data_list.label("Failed an evaluation criterion"),
                                    rx.data_list.value(S.conversations_failed_evaluation)),
                  size="2")),
        columns=rx.breakpoints(initial="1", md="3"), spacing="4", width="100%",
    )


def _criteria() -> rx.Component:
    return _card(
        "Evaluation criteria",
        rx.cond(
            S.criteria.length() > 0,
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(t) for t in
                                               ("Criterion", "Success", "Failure", "Unknown")])),
                rx.table.body(rx.foreach(S.criteria, lambda c: rx.table.row(
                    rx.table.cell(rx.code(c.criterion)), rx.table.cell(c.success), rx.table.cell(c.failure),
                    rx.table.cell(c.unknown)))),
                size="1", width="100%",
            ),
            rx.text("No evaluation results for these calls (configure evaluation criteria on the agent).", size="2",
                    color_scheme="gray"),
        ),
    )


def analytics_page() -> rx.Component:
    return rx.vstack(
        _controls(),
        field_error(S.error),
        rx.text("Showing ", S.period_label, ".", size="1", color_scheme="gray", id="analytics-period"),
        _funnel(),
        _heatmap(),
        _talk_and_cost(),
        _criteria(),
        spacing="4", width="100%",
    )
