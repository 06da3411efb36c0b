"""The Hand-off numbers card of the Settings page. Thin: the rules live in service.py."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from navaia_app.auth.state import AuthState, actor, authenticated, field_errors
from navaia_app.core.db import session_scope
from navaia_app.core.errors import DomainError
from navaia_app.handoff import service
from navaia_app.handoff.models import HandoffNumberIn


@dataclass
class HandoffRow:
    id: int
    label: str
    phone: str
    days: str
    hours: str


class HandoffState(AuthState):
    handoff_numbers: list[HandoffRow] = []
    handoff_zone: str = ""
    handoff_status: str = ""
    handoff_errors: dict[str, str] = {}

    def _load(self) -> None:
        with session_scope() as session:
            view = service.settings_view(session=session)
        self.handoff_numbers = [HandoffRow(id=n.id, label=n.label or "-", phone=n.phone, days=", ".join(n.days),
                                           hours=f"{n.start}-{n.end}") for n in view.numbers]
        self.handoff_zone = view.timezone
        if view.staffed_now is not None:
            self.handoff_status = f"Staffed now: {view.staffed_now.label or view.staffed_now.phone}"
        elif view.next_staffed_at is not None:
            self.handoff_status = f"Nobody staffed now; next from {view.next_staffed_at:%Y-%m-%d %H:%M} UTC"
        else:
            self.handoff_status = "No hand-off number: callers who ask for a person get a call-back ticket."

    @rx.event
    @authenticated
    def load_handoff(self):
        self._load()

    def _current(self) -> list[HandoffNumberIn]:
        with session_scope() as session:
            return [HandoffNumberIn(label=n.label, phone=n.phone, days=n.days.split(","), start=n.start, end=n.end)
                    for n in service.list_numbers(session=session)]

    def _save(self, numbers: list[HandoffNumberIn]):
        with session_scope() as session:
            service.replace_numbers(session=session, actor=actor(), numbers=numbers)
        self._load()

    @rx.event
    @authenticated(admin=True)
    def add_handoff_number(self, form_data: dict):
        self.handoff_errors = {}
        days = [d for d in str(form_data.get("days", "")).replace(" ", ",").split(",") if d]
        try:
            given = HandoffNumberIn(label=str(form_data.get("label", ""))[:80], phone=str(form_data.get("phone", ""))[:40],
                                    days=days[:7], start=str(form_data.get("start", ""))[:5],
                                    end=str(form_data.get("end", ""))[:5])
            numbers = self._current()
            self._save([*numbers, given])
        except DomainError as exc:
            index = len(self._current())
            self.handoff_errors = {k.removeprefix(f"numbers.{index}."): v for k, v in field_errors(exc).items()}
            return
        except ValueError:
            self.handoff_errors = {"_form": "Check the fields: label up to 80 characters, times HH:MM."}
            return
        return rx.toast.success("Hand-off number added.")

    @rx.event
    @authenticated(admin=True)
    def remove_handoff_number(self, number_id: int):
        with session_scope() as session:
            keep = [HandoffNumberIn(label=n.label, phone=n.phone, days=n.days.split(","), start=n.start, end=n.end)
                    for n in service.list_numbers(session=session) if n.id != number_id]
        try:
            self._save(keep)
        except DomainError as exc:
            return rx.toast.error(exc.message)
        return rx.toast.success("Hand-off number removed.")
