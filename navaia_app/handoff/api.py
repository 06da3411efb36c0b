"""REST API of the hand-off settings. Thin: the rules live in service.py."""

from __future__ import annotations

from fastapi import APIRouter

from navaia_app.auth.deps import CurrentUser
from navaia_app.core.api import DB, SIGNED_IN_ERRORS, problem
from navaia_app.handoff import service
from navaia_app.handoff.models import HandoffSettings, HandoffSettingsOut

router = APIRouter(prefix="/api/v1/settings/handoff", tags=["settings"], responses=SIGNED_IN_ERRORS)


@router.get("", response_model=HandoffSettingsOut, summary="Hand-off numbers and the hours each is staffed")
def get_handoff(user: CurrentUser, session: DB) -> HandoffSettingsOut:
    return service.settings_view(session=session)


@router.put("", response_model=HandoffSettingsOut, summary="Replace the hand-off numbers (admin)",
            description="`numbers` in order of preference, each `{label, phone, days, start, end}`; hours are "
                        "wall-clock HH:MM in BUSINESS_TIMEZONE (an end not after the start crosses midnight).",
            responses={403: problem("Only an administrator can change settings"), 422: problem("Invalid numbers")})
def put_handoff(body: HandoffSettings, user: CurrentUser, session: DB) -> HandoffSettingsOut:
    service.replace_numbers(session=session, actor=user, numbers=body.numbers)
    return service.settings_view(session=session)
