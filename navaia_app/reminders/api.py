"""REST: the reminder settings and each booking's reminders."""

from __future__ import annotations

from fastapi import APIRouter

from navaia_app.auth.deps import CurrentUser
from navaia_app.core.api import DB, SIGNED_IN_ERRORS, problem
from navaia_app.core.types import DbInt
from navaia_app.reminders import service
from navaia_app.reminders.models import ReminderOut, ReminderPage, ReminderSettingsIn, ReminderSettingsOut

router = APIRouter(tags=["reminders"], responses=SIGNED_IN_ERRORS)


@router.get("/api/v1/settings/reminders", response_model=ReminderSettingsOut, summary="Booking reminder settings")
def get_settings(user: CurrentUser, session: DB) -> ReminderSettingsOut:
    return service.settings_out(service.get_reminder_settings(session=session))


@router.put("/api/v1/settings/reminders", response_model=ReminderSettingsOut,
            summary="Change booking reminder settings (admin; only the fields sent change)",
            description="Every upcoming booking's reminders are re-planned with the new settings in the same "
                        "transaction. A lead time of null turns that channel off.",
            responses={403: problem("Only an administrator can change settings")})
def put_settings(body: ReminderSettingsIn, user: CurrentUser, session: DB) -> ReminderSettingsOut:
    row = service.update_reminder_settings(session=session, actor=user, changes=body.model_dump(exclude_unset=True))
    return service.settings_out(row)


@router.get("/api/v1/bookings/{booking_id}/reminders", response_model=ReminderPage,
            summary="A booking's reminders (planned, sent, answered, and their results)",
            responses={404: problem("No such booking")})
def booking_reminders(booking_id: DbInt, user: CurrentUser, session: DB) -> ReminderPage:
    items = service.list_booking_reminders(session=session, booking_id=booking_id)
    return ReminderPage(items=[ReminderOut.model_validate(r) for r in items], total=len(items))
