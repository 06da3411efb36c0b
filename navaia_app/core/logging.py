"""Structured logs: JSON in production, readable in dev; context (request id, user id) on every line."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import structlog

from navaia_app.core.settings import get_settings

_configured = False
# A phone number in any log text (E.164, bare digits, or URL-encoded "+") keeps only its last two digits.
_PHONE = re.compile(r"(?:(?<![0-9A-Za-z])\+|%2B|(?<![0-9A-Za-z%]))(\d{7,13})(\d{2})(?![0-9A-Za-z])")


# Written the way people write them: "+1 415 555 0123", "+44 (20) 7946-0958", "(415) 555-0123", "415.555.0123".
# Separators only count after a "+" or in the 3-3-4 shape, so dates, times and addresses stay as they are.
_FORMATTED_PHONE = re.compile(
    r"(?:(?<![\w+])\+|%2B)\d{1,4}(?:[ .\-]?\(\d{1,5}\)|[ .\-]\d{1,5}){1,6}(?![\w])"
    r"|(?<![\w.\-])(?:\(\d{3}\)\s?|\d{3}[ .\-])\d{3}[ .\-]\d{4}(?![\w.\-])"
)


def _mask_formatted(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group(0).replace("%2B", ""))
    return "***" + digits[-2:] if 7 <= len(digits) <= 15 else match.group(0)


def _mask_text(text: str) -> str:
    return _PHONE.sub(lambda m: "***" + m.group(2), _FORMATTED_PHONE.sub(_mask_formatted, text))


class _CurrentStderr:
    """Writes to whatever sys.stderr is now (so test capture and redirection see every line)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def redact_phone_numbers(_logger, _method, event_dict):
    """Last line of defence: whatever a library or a careless call logs, full phone numbers never reach it."""
    for key, value in event_dict.items():
        if isinstance(value, str):
            event_dict[key] = _mask_text(value)
    return event_dict


def configure_logging() -> None:
    global _configured
    if _configured:
        return
    settings = get_settings()
    level = getattr(logging, settings.log_level.upper(), logging.INFO)
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_phone_numbers,
    ]
    renderer = (
        structlog.processors.JSONRenderer()
        if settings.is_prod
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(_CurrentStderr()),
        cache_logger_on_first_use=True,
    )
    # Route the standard library's loggers (uvicorn, rq, alembic) through the same renderer.
    handler = logging.StreamHandler(_CurrentStderr())
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(foreign_pre_chain=shared, processor=renderer))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    _configured = True


def get_logger(name: str | None = None):
    return structlog.get_logger(name)


def mask_phone(phone: str | None) -> str:
    """Full phone numbers never reach a log line: keep the last two digits."""
    if not phone:
        return ""
    return f"***{phone[-2:]}"


@contextmanager
def log_scope(**values) -> Iterator[None]:
    """Every log line written inside the block carries `values` (a job, a webhook event, a call).

    A value of None reserves the key: `bind_log(key=...)` inside the block (say, the conversation id
    once it is known) then ends with the block too, instead of leaking into the next job."""
    with structlog.contextvars.bound_contextvars(**{k: (... if v is None else v) for k, v in values.items()}):
        yield


def bind_log(**values) -> None:
    """Add ids to the current log context (inside a request, a handler or a log_scope)."""
    structlog.contextvars.bind_contextvars(**values)


def log_context() -> dict:
    """The ids the current log context carries (request id, user id...), to hand on to a job."""
    return dict(structlog.contextvars.get_contextvars())


def remember_log_context(exc: BaseException) -> None:
    """Keep the current log context on an exception leaving its scope, for whoever logs it later."""
    if not hasattr(exc, "navaia_log_context"):
        exc.navaia_log_context = {k: v for k, v in log_context().items() if v is not ...}


def remembered_log_context(exc: BaseException) -> dict:
    return dict(getattr(exc, "navaia_log_context", None) or {})
