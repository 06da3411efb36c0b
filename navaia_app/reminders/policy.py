"""The booking-reminder purpose of the outbound pipeline (outreach.purposes): what outreach asks a reminder
call's rules. Registered through outreach's POLICY_MODULES. Thin: every rule lives in reminders/service.py
and reminders/planning.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from navaia_app.outreach.purposes import CallPolicy, register_purpose
from navaia_app.reminders import planning, service

PURPOSE = "reminder"


class ReminderPolicy(CallPolicy):
    """A reminder call rings inside the reminder hours of the customer's zone, carries the booking's values
    (and the booking in its token), is never retried (the next channel takes over), and settles its
    reminder when it is over."""

    purpose = PURPOSE

    def window(self, session: Session, call: Any):
        return planning.window_of(planning.load_settings(session))

    def variables(self, session: Session, call: Any) -> dict[str, str]:
        return service.call_variables_for(session=session, reminder_id=call.claims.get("reminder_id"))

    def topic(self, session: Session, call: Any) -> str:
        values = service.call_variables_for(session=session, reminder_id=call.claims.get("reminder_id"))
        return f"a reminder of the {values['service']} on {values['start_time']}" if values else "a booking reminder"

    def on_final(self, session: Session, call: Any, now: datetime, *, batched: bool) -> None:
        service.settle_reminder_call(session=session, call=call, now=now)

    def on_conversation(self, session: Session, call: Any, now: datetime) -> None:
        service.link_reminder_conversation(session=session, call=call, now=now)


register_purpose(ReminderPolicy())
