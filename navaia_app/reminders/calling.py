"""A reminder call goes through the one outbound pipeline (outreach), like every call: eligibility, pacing,
the call and attempt state machine with its idempotency keys, the providers and their callbacks all live
there; reminders/policy.py gives it the reminder's rules and hears back when the call is over. This module
is the reminders feature's one way in."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from navaia_app.outreach import calls
from navaia_app.outreach.models import CampaignCall
from navaia_app.reminders.models import BookingReminder
from navaia_app.reminders.policy import PURPOSE


def place(session: Session, *, reminder: BookingReminder, now: datetime) -> CampaignCall:
    """Hand the reminder's call to the pipeline (in the caller's transaction; it rings once committed). The
    reminder's idempotency key is the request key: asking twice gives back the same call. Raises
    outreach.calls.NotEligible when the customer may not be called."""
    return calls.request_call(session=session, now=now, request=calls.OutboundRequest(
        customer_id=reminder.customer_id, purpose=PURPOSE, request_key=reminder.idempotency_key,
        reference=f"booking:{reminder.booking_id}",
        claims={"booking_id": reminder.booking_id, "reminder_id": reminder.id}, not_before=now))


def withdraw(session: Session, call_id: int, now: datetime) -> None:
    """The booking no longer needs this call: cancel it if the pipeline has not started it."""
    call = session.get(CampaignCall, call_id)
    if call is not None and call.status == "pending":
        calls.finish(session, call, "cancelled", now=now, reason="booking reminder no longer needed",
                     source="reminders")
