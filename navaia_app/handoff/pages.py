"""The Hand-off numbers card (Settings page): components only."""

from __future__ import annotations

import reflex as rx

from navaia_app.auth.state import AuthState
from navaia_app.handoff.state import HandoffState as H
from navaia_app.ui.layout import field_error, field_label


def _field(label: str, name: str, placeholder: str = "", type_: str = "text", **props) -> rx.Component:
    return rx.vstack(
        field_label(label, html_for=f"handoff-{name}", size="1"),
        rx.input(id=f"handoff-{name}", name=name, placeholder=placeholder, type=type_, size="2", **props),
        field_error(H.handoff_errors.get(name, "")),
        spacing="1",
    )


def _row(n) -> rx.Component:
    return rx.table.row(
        rx.table.cell(n.label), rx.table.cell(rx.code(n.phone)), rx.table.cell(n.days), rx.table.cell(n.hours),
        rx.table.cell(rx.cond(AuthState.is_admin, rx.button(
            "Remove", size="1", variant="soft", color_scheme="red", on_click=H.remove_handoff_number(n.id),
            aria_label="Remove hand-off number " + n.phone))),
    )


def handoff_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Hand-off numbers", size="4", as_="h2"),
            rx.text("Where the voice agent transfers a caller who asks for a person (request_handoff), in order of "
                    "preference, and the hours each is staffed (time zone ", H.handoff_zone, "). Outside them the "
                    "caller gets a call-back ticket.", size="2", color_scheme="gray"),
            rx.text(H.handoff_status, size="2", id="handoff-status"),
            rx.box(rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(t)
                                               for t in ("Label", "Number", "Days", "Hours", "")])),
                rx.table.body(rx.foreach(H.handoff_numbers, _row)),
                size="1", width="100%",
            ), width="100%", overflow_x="auto", class_name="scroll-x"),
            rx.cond(AuthState.is_admin, rx.form(
                rx.flex(
                    _field("Label", "label", "Front desk"),
                    _field("Phone", "phone", "+1 212 555 0100", required=True),
                    _field("Days", "days", "mon,tue,wed,thu,fri", default_value="mon,tue,wed,thu,fri"),
                    _field("From", "start", type_="time", default_value="09:00"),
                    _field("Until", "end", type_="time", default_value="17:00"),
                    rx.button("Add number", type="submit", size="2", align_self="end"),
                    wrap="wrap", spacing="3", align="end",
                ),
                field_error(H.handoff_errors.get("_form", "")),
                on_submit=H.add_handoff_number, reset_on_submit=False,
            )),
            spacing="3", width="100%",
        ),
        width="100%", on_mount=H.load_handoff, id="handoff-numbers",
    )
