"""The Reminders settings page (admins change it; everyone may read it) and the small pieces the booking
screens show about reminders."""

from __future__ import annotations

import reflex as rx

from navaia_app.reminders.state import RemindersSettingsState as S
from navaia_app.ui import routes
from navaia_app.ui.layout import field_error, field_label


def _field(label: str, control: rx.Component, field_id: str, help_text: str = "", error=None) -> rx.Component:
    return rx.vstack(
        field_label(label, html_for=field_id),
        control,
        rx.cond(help_text != "", rx.text(help_text, size="1", color_scheme="gray")),
        field_error(error if error is not None else ""),
        spacing="1", width="100%",
    )


def _minutes_input(name: str, value, field_id: str) -> rx.Component:
    return rx.input(name=name, id=field_id, type="number", min="0", max="10080", step="1", default_value=value,
                    placeholder="off", width="100%", disabled=~S.can_change)


def _preview() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Preview", size="3", as_="h3"),
            rx.text(S.preview_source, size="1", color_scheme="gray"),
            rx.text("Text message", size="2", weight="medium"),
            rx.box(rx.text(S.preview_sms, size="2", white_space="pre-wrap", id="reminder-preview-sms"),
                   padding="0.75rem", border_radius="8px", background=rx.color("accent", 3), width="100%"),
            rx.text("Call opening line", size="2", weight="medium"),
            rx.box(rx.text(S.preview_call, size="2", white_space="pre-wrap", id="reminder-preview-call"),
                   padding="0.75rem", border_radius="8px", background=rx.color("gray", 3), width="100%"),
            spacing="2", width="100%",
        ),
        width="100%",
    )


def reminders_settings_page() -> rx.Component:
    errors = S.errors
    return rx.vstack(
        rx.heading("Booking reminders", size="6", as_="h2"),
        rx.text("Before each booking the voice agent calls or texts the customer, who can confirm, cancel or "
                "reschedule by voice or by SMS. Reminders go out only inside the allowed hours of the "
                "customer's own time zone.", size="2", color_scheme="gray"),
        rx.cond(~S.can_change, rx.callout("Only an administrator can change these settings.", icon="lock",
                                          size="1")),
        rx.grid(
            rx.card(rx.form(
                rx.vstack(
                    rx.hstack(
                        rx.switch(checked=S.enabled, on_change=S.set_enabled, id="reminders-enabled",
                                  disabled=~S.can_change),
                        field_label("Send booking reminders", html_for="reminders-enabled"),
                        spacing="2", align="center",
                    ),
                    rx.grid(
                        _field("Call lead time (minutes before the start)",
                               _minutes_input("call_lead_minutes", S.call_lead, "reminders-call-lead"),
                               "reminders-call-lead", "1440 = 24 h. Empty: no reminder calls.",
                               errors.get("call_lead_minutes", "")),
                        _field("Text lead time (minutes before the start)",
                               _minutes_input("sms_lead_minutes", S.sms_lead, "reminders-sms-lead"),
                               "reminders-sms-lead", "120 = 2 h. Empty: no reminder texts.",
                               errors.get("sms_lead_minutes", "")),
                        columns="2", spacing="3", width="100%",
                    ),
                    _field("Channel order", rx.select.root(
                        rx.select.trigger(width="100%", id="reminders-order", aria_label="Channel order"),
                        rx.select.content(rx.select.item("Call first, then text", value="call,sms"),
                                          rx.select.item("Text first, then call", value="sms,call")),
                        value=S.order, on_change=S.set_order, disabled=~S.can_change,
                    ), "reminders-order", "", errors.get("channel_order", "")),
                    rx.hstack(
                        rx.switch(checked=S.sms_fallback, on_change=S.set_sms_fallback, id="reminders-fallback",
                                  disabled=~S.can_change),
                        field_label("Use the second channel only when the first reaches nobody (no answer, busy, "
                                    "failed, voicemail, undelivered)", html_for="reminders-fallback"),
                        spacing="2", align="center",
                    ),
                    rx.grid(
                        _field("Not before (customer's local time)",
                               rx.input(name="window_start", id="reminders-window-start", type="time",
                                        default_value=S.window_start, width="100%", disabled=~S.can_change),
                               "reminders-window-start", "", errors.get("window_start", "")),
                        _field("Not after (customer's local time)",
                               rx.input(name="window_end", id="reminders-window-end", type="time",
                                        default_value=S.window_end, width="100%", disabled=~S.can_change),
                               "reminders-window-end", "", errors.get("window_end", "")),
                        columns="2", spacing="3", width="100%",
                    ),
                    _field("Services without reminders (comma-separated)",
                           rx.input(name="excluded_services", id="reminders-excluded", default_value=S.excluded_services,
                                    width="100%", disabled=~S.can_change),
                           "reminders-excluded", "", errors.get("excluded_services", "")),
                    _field("Business name (as the customer hears and reads it)",
                           rx.input(name="business_name", id="reminders-business-name", max_length=120,
                                    default_value=S.business_name, width="100%", disabled=~S.can_change,
                                    on_blur=S.preview_business_name),
                           "reminders-business-name", "", errors.get("business_name", "")),
                    _field("Text message",
                           rx.text_area(name="sms_template", id="reminders-sms-template", rows="3", max_length=600,
                                        default_value=S.sms_template, width="100%", disabled=~S.can_change,
                                        on_blur=S.preview_sms_template),
                           "reminders-sms-template",
                           "Variables: {customer_name}, {service}, {start_time}, {business_name}.",
                           errors.get("sms_template", "")),
                    rx.text("The preview follows the texts as you leave each field; nothing is saved until Save.",
                            size="1", color_scheme="gray"),
                    _field("Call opening line",
                           rx.text_area(name="call_opening", id="reminders-call-opening", rows="3", max_length=600,
                                        default_value=S.call_opening, width="100%", disabled=~S.can_change,
                                        on_blur=S.preview_call_opening),
                           "reminders-call-opening", "The same variables.", errors.get("call_opening", "")),
                    rx.hstack(
                        rx.button("Save", type="submit", id="reminders-save", disabled=~S.can_change),
                        justify="end", width="100%", spacing="3",
                    ),
                    spacing="4", width="100%",
                ),
                on_submit=S.save, id="reminders-form", key=S.form_key,
            ), width="100%"),
            _preview(),
            columns=rx.breakpoints(initial="1", lg="2"), spacing="4", width="100%", align_items="start",
        ),
        spacing="4", width="100%",
    )


def reminders_link_card() -> rx.Component:
    """On the Settings page: where reminders are set."""
    return rx.card(rx.hstack(
        rx.icon("bell-ring", size=18),
        rx.vstack(rx.heading("Booking reminders", size="4", as_="h2"),
                  rx.text("Calls and texts before each booking; customers confirm, cancel or reschedule.",
                          size="2", color_scheme="gray"), spacing="1"),
        rx.spacer(),
        rx.link(rx.button("Open", variant="soft"), href=routes.REMINDER_SETTINGS, id="open-reminder-settings"),
        align="center", width="100%", spacing="3",
    ), width="100%")
