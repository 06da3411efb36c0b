"""Dialogs page states share: a form dialog (new or edit) and delete with a confirmation."""

from __future__ import annotations

import reflex as rx
from sqlmodel import Session

from navaia_app.auth.state import actor, authenticated
from navaia_app.core.db import session_scope
from navaia_app.core.errors import DomainError


class FormDialogMixin(rx.State, mixin=True):
    """A page's create/edit dialog (see ui.layout.edit_dialog): open or not, the record being edited (0: a
    new one), what the form holds, and the errors per field. Closing it forgets the errors."""

    form_open: bool = False
    editing_id: int = 0
    form_values: dict[str, str] = {}
    form_errors: dict[str, str] = {}

    @rx.event
    def set_form_open(self, value: bool):
        self._assign(form_open=bool(value))
        if not value:
            self._assign(form_errors={})


class DeleteConfirmMixin(rx.State, mixin=True):
    """Mixed into a page state that implements `_delete(session, record_id, actor)` (the service call)
    and `_reload()`. The dialog opens while `delete_id` is set."""

    delete_id: int = 0
    delete_name: str = ""

    @rx.event
    def ask_delete(self, record_id: int, name: str):
        self.delete_id, self.delete_name = record_id, name

    @rx.event
    def cancel_delete(self):
        self.delete_id, self.delete_name = 0, ""

    @rx.event
    @authenticated
    def confirm_delete(self):
        name = self.delete_name
        try:
            with session_scope() as session:
                self._delete(session, self.delete_id, actor())
        except DomainError as exc:
            self.delete_id = 0
            return rx.toast.error(exc.message)
        self.delete_id, self.delete_name = 0, ""
        self._reload()
        return rx.toast.success(f"Deleted {name}.")

    def _delete(self, session: Session, record_id: int, user) -> None:
        raise NotImplementedError


def delete_dialog(state, *, title: str, description: rx.Component, button_id: str) -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(description),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray",
                                                 on_click=state.cancel_delete)),
                rx.alert_dialog.action(rx.button("Delete", color_scheme="red", on_click=state.confirm_delete,
                                                 id=button_id)),
                justify="end", spacing="3", margin_top="1rem",
            ),
        ),
        open=state.delete_id > 0,
    )
