"""What a person sees when a page event fails unexpectedly: a reference they can quote, and the log line that has it.

Expected failures (a domain error: bad input, a conflict, a refusal) never reach this: page states turn them
into their own specific messages. This is Reflex's app-level `backend_exception_handler`, for everything else.
"""

from __future__ import annotations

import secrets

import reflex as rx
from reflex.event import EventSpec

from navaia_app.core.logging import get_logger, remembered_log_context

log = get_logger(__name__)

# Six characters a person can read out on the phone: no 0/O or 1/I/L to confuse.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_reference() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(6))


def failure_message(reference: str) -> str:
    return f"Something went wrong on our side; it has been logged (reference {reference})."


def backend_exception_handler(exception: Exception) -> EventSpec:
    """Log the failure with a fresh request id and show that id to the person whose click failed."""
    reference = new_reference()
    # who and which handler (kept by `authenticated`, whose log scope has ended by now)
    context = {k: v for k, v in remembered_log_context(exception).items() if k not in ("request_id", "exc_info")}
    log.error("ui.event_failed", request_id=reference, error_type=type(exception).__name__, **context,
              exc_info=exception)
    return rx.toast.error(failure_message(reference), id="backend_error", duration=20_000, close_button=True)
