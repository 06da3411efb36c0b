"""The Reminders settings page: what an admin changes, and a preview with a real booking's values."""

from __future__ import annotations

import reflex as rx

from navaia_app.auth.state import AuthState, actor, authenticated, field_errors
from navaia_app.core.db import session_scope
from navaia_app.core.errors import DomainError
from navaia_app.reminders import service

OFF = ""


def _lead_text(minutes: int | None) -> str:
    return OFF if minutes is None else str(minutes)


class RemindersSettingsState(AuthState):
    enabled: bool = False
    call_lead: str = "1440"
    sms_lead: str = "120"
    sms_fallback: bool = True
    order: str = "call,sms"
    window_start: str = "09:00"
    window_end: str = "20:00"
    excluded_services: str = ""
    business_name: str = ""
    sms_template: str = ""
    call_opening: str = ""
    errors: dict[str, str] = {}
    preview_sms: str = ""
    preview_call: str = ""
    preview_source: str = ""
    can_change: bool = False
    form_key: int = 0  # a new key re-renders the form with the stored values
    draft: dict[str, str] = {}  # texts typed but not saved, for the preview

    def _show(self, session) -> None:
        row = service.get_reminder_settings(session=session)
        out = service.settings_out(row)
        self.enabled, self.sms_fallback = out.enabled, out.sms_fallback
        self.call_lead, self.sms_lead = _lead_text(out.call_lead_minutes), _lead_text(out.sms_lead_minutes)
        self.order = ",".join(out.channel_order)
        self.window_start, self.window_end = out.window_start, out.window_end
        self.excluded_services = ", ".join(out.excluded_services)
        self.business_name, self.sms_template, self.call_opening = out.business_name, out.sms_template, \
            out.call_opening
        self.draft = {}
        self.form_key += 1
        self._preview(session, row)

    def _preview(self, session, row) -> None:
        shown = service.preview(session=session, settings=row)
        self.preview_sms, self.preview_call = shown["sms"], shown["call_opening"]
        self.preview_source = (f"With the values of booking #{shown['booking_id']} (the next upcoming one)."
                               if shown["booking_id"] else "With example values (no upcoming booking yet).")

    @rx.event
    @authenticated
    def load(self):
        self.errors = {}
        self.can_change = actor().role == "admin"
        with session_scope() as session:
            self._show(session)

    def _update_preview(self, field: str, value: str):
        self.draft = {**self.draft, field: str(value or "")[:600]}
        with session_scope() as session:
            row = service.get_reminder_settings(session=session)
            if row in session:
                session.expunge(row)  # a detached copy: the draft is never saved
            for name, text in self.draft.items():
                setattr(row, name, text)
            self._preview(session, row)

    @rx.event
    @authenticated
    def preview_sms_template(self, value: str):
        self._update_preview("sms_template", value)

    @rx.event
    @authenticated
    def preview_call_opening(self, value: str):
        self._update_preview("call_opening", value)

    @rx.event
    @authenticated
    def preview_business_name(self, value: str):
        self._update_preview("business_name", value)

    @rx.event
    def set_enabled(self, value: bool):
        self.enabled = bool(value)

    @rx.event
    def set_sms_fallback(self, value: bool):
        self.sms_fallback = bool(value)

    @rx.event
    def set_order(self, value: str):
        self.order = value

    @rx.event
    @authenticated(admin=True)
    def save(self, form_data: dict):
        def lead(name: str):
            text = str(form_data.get(name, "") or "").strip()
            if not text:
                return None
            try:
                return int(text)
            except ValueError:
                return text  # the service says what is wrong with it

        changes = {
            "enabled": self.enabled, "sms_fallback": self.sms_fallback,
            "call_lead_minutes": lead("call_lead_minutes"), "sms_lead_minutes": lead("sms_lead_minutes"),
            "channel_order": self.order.split(","),
            "window_start": str(form_data.get("window_start", "")), "window_end": str(form_data.get("window_end", "")),
            "excluded_services": [s.strip() for s in str(form_data.get("excluded_services", "")).split(",")
                                  if s.strip()],
            "business_name": str(form_data.get("business_name", "")),
            "sms_template": str(form_data.get("sms_template", "")),
            "call_opening": str(form_data.get("call_opening", "")),
        }
        try:
            with session_scope() as session:
                service.update_reminder_settings(session=session, actor=actor(), changes=changes)
        except DomainError as exc:
            self.errors = field_errors(exc)
            return rx.toast.error(exc.message)
        self.errors = {}
        with session_scope() as session:
            self._show(session)
        return rx.toast.success("Reminder settings saved; upcoming bookings re-planned.")
