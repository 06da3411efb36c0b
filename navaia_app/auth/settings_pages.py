from __future__ import annotations

import reflex as rx

from navaia_app.auth.settings_state import SettingsState as S
from navaia_app.bookings.pages import business_hours_card
from navaia_app.reminders.pages import reminders_link_card
from navaia_app.conversations.setup import voice_agent_setup
from navaia_app.handoff.pages import handoff_card
from navaia_app.ui.layout import dialog_actions, field_error, field_label, section_card


def _labelled(label: str, name: str, type_: str = "text", errors=None, **props) -> rx.Component:
    errors = errors if errors is not None else S.new_user_errors
    return rx.vstack(
        field_label(label, html_for=f"settings-{name}"),
        rx.input(name=name, id=f"settings-{name}", type=type_, width="100%", **props),
        field_error(errors.get(name, "")),
        spacing="1", width="100%",
    )


def _user_row(u) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.vstack(rx.text(u.name, weight="medium"), rx.text(u.email, size="1", color_scheme="gray"),
                                spacing="0")),
        rx.table.cell(
            rx.select(["admin", "agent"], value=u.role, on_change=lambda role: S.set_role(u.id, role), size="1",
                      custom_attrs={"aria-label": "Role of " + u.name})
        ),
        rx.table.cell(rx.cond(u.active, rx.badge("active", color_scheme="green"),
                              rx.badge("deactivated", color_scheme="gray"))),
        rx.table.cell(rx.text(u.last_login, size="1"), display=["none", "table-cell"]),
        rx.table.cell(rx.button(rx.cond(u.active, "Deactivate", "Reactivate"), size="1", variant="soft",
                                color_scheme=rx.cond(u.active, "red", "green"), on_click=S.toggle_active(u.id))),
        align="center",
    )


def _people() -> rx.Component:
    return section_card(
        "People",
        rx.table.root(
            rx.table.header(rx.table.row(
                rx.table.column_header_cell("Person"), rx.table.column_header_cell("Role"),
                rx.table.column_header_cell("Status"),
                rx.table.column_header_cell("Last sign-in", display=["none", "table-cell"]),
                rx.table.column_header_cell(""))),
            rx.table.body(rx.foreach(S.users, _user_row)),
            width="100%", size="2", class_name="cards-on-phone",
        ),
        intro=rx.cond(S.signup_allowed, "Self-registration is open (ALLOW_SIGNUP=true).",
                      "Self-registration is closed: add people here."),
        aside=rx.button(rx.icon("user-plus", size=16), "Add user", on_click=S.set_new_user_open(True), id="add-user"),
    )


def _new_user_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Add a user"),
            rx.form(
                rx.vstack(
                    _labelled("Name", "name", required=True, max_length=120),
                    _labelled("Email", "email", "email", required=True),
                    _labelled("Initial password", "password", "password", required=True, min_length=8,
                              max_length=128, auto_complete="new-password"),
                    rx.vstack(
                        field_label("Role", html_for="settings-new-role"),
                        rx.select(["agent", "admin"], name="role", default_value="agent", id="settings-new-role",
                                  custom_attrs={"aria-label": "Role"}),
                        spacing="1",
                    ),
                    field_error(S.new_user_errors.get("_form", "")),
                    dialog_actions("Add user"),
                    spacing="3",
                ),
                on_submit=S.add_user,
            ),
            max_width="440px",
        ),
        open=S.new_user_open,
        on_open_change=S.set_new_user_open,
    )


def _password_card() -> rx.Component:
    errors = S.password_errors
    return rx.card(
        rx.vstack(
            rx.heading("Your password", size="4", as_="h2"),
            rx.form(
                rx.vstack(
                    _labelled("Current password", "current_password", "password", errors=errors, required=True,
                              auto_complete="current-password"),
                    _labelled("New password", "new_password", "password", errors=errors, required=True,
                              min_length=8, max_length=128, auto_complete="new-password"),
                    _labelled("Repeat the new password", "confirm_password", "password", errors=errors,
                              required=True, auto_complete="new-password"),
                    rx.button("Change password", type="submit"),
                    spacing="3", width="100%",
                ),
                on_submit=S.change_password,
                reset_on_submit=True,
            ),
            spacing="3", width="100%",
        ),
        width="100%",
    )


def _system_card() -> rx.Component:
    def line(label, value):
        return rx.data_list.item(rx.data_list.label(label), rx.data_list.value(value))

    return rx.card(
        rx.vstack(
            rx.heading("System", size="4", as_="h2"),
            rx.data_list.root(
                line("Background jobs", rx.cond(S.redis_ok, rx.badge("running", color_scheme="green"),
                                                rx.badge("unavailable: Redis is down", color_scheme="orange"))),
                line("Telephony provider", S.provider),
                line("Public URL (webhooks)", rx.code(S.public_base_url)),
                line("Business time zone", S.business_timezone),
            ),
            spacing="3", width="100%",
        ),
        width="100%",
    )


def settings_page() -> rx.Component:
    return rx.vstack(
        rx.cond(S.is_admin, rx.fragment(_people(), _new_user_dialog())),
        rx.grid(_password_card(), _system_card(), columns=rx.breakpoints(initial="1", md="2"), spacing="4",
                width="100%"),
        business_hours_card(),
        reminders_link_card(),
        handoff_card(),
        voice_agent_setup(),
        spacing="4", width="100%",
    )
