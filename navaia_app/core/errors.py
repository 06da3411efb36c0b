"""Domain errors: services raise these; the API, the UI and jobs translate them."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the action. `field` names the input at fault, when one is."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, errors: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = errors or ({field: message} if field else {})


class ValidationFailed(DomainError):
    status_code = 422


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class AuthenticationFailed(DomainError):
    status_code = 401


class PermissionDenied(DomainError):
    status_code = 403


class Throttled(DomainError):
    status_code = 429

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after
