"""What every REST route shares: error mapping, request ids, the database dependency (who is signed in:
`navaia_app.auth.deps`)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Annotated, Any, Generic, TypeVar

import sqlalchemy as sa
import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from navaia_app.core.db import session_scope
from navaia_app.core.errors import DomainError, Throttled
from navaia_app.core.logging import get_logger

log = get_logger("navaia.api")

# FastAPI's own answer when a body cannot even be decoded (JSON that is not UTF-8, a form it cannot parse).
_UNREADABLE_BODY = "There was an error parsing the body"


class Problem(BaseModel):
    """Every error answer: what was wrong and, when fields were at fault, per field (a list from request
    validation, a field -> message map from the business rules)."""

    detail: str
    errors: list[dict[str, Any]] | dict[str, str] | None = None


Item = TypeVar("Item")


class Page(BaseModel, Generic[Item]):
    """One page of a list: its items, how many match in all, and the window that was asked for."""

    items: list[Item]
    total: int
    limit: int
    offset: int


def problem(description: str) -> dict[str, Any]:
    """An error entry for a route's `responses=`: documented with the shape it really has."""
    return {"model": Problem, "description": description}


# A route whose service checks the caller's role (navaia_app/auth/permissions.py) may also answer this.
FORBIDDEN: dict[int | str, dict[str, Any]] = {
    403: problem("Your role may not do this (the README's table of roles says who may)"),
}

# What every route behind a bearer token may answer besides its own responses (routers declare these).
SIGNED_IN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: problem("Not signed in: the bearer token is missing, invalid, expired or revoked"),
    422: problem("Invalid input: `detail` says what, `errors` says where"),
}


class HttpMiddleware:
    """A pure ASGI middleware that sees HTTP requests only (`handle`); lifespan and websocket traffic pass
    through untouched."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        return await self.handle(scope, receive, send)

    async def handle(self, scope, receive, send):
        raise NotImplementedError


class RequestContextMiddleware(HttpMiddleware):
    """Gives every HTTP request an id (from X-Request-ID or new) that every log line carries."""

    async def handle(self, scope, receive, send):
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming[:64] if incoming and incoming.replace("-", "").isalnum() else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        await self.app(scope, receive, send_with_id)


def _describe(errors) -> str:
    """One readable sentence for the client out of pydantic's error list."""
    parts = []
    for err in errors:
        kind = err.get("type")
        raw_loc = list(err.get("loc", ()))
        if kind == "json_invalid":
            # The location is a character offset, not a field; say what is wrong instead.
            return "The request body is not valid JSON."
        if raw_loc == ["body"]:
            if kind == "missing":
                parts.append("The request body is required.")
            elif kind in ("model_attributes_type", "dict_type", "model_type"):
                parts.append("The request body must be a JSON object.")
            else:
                parts.append(f"body: {err.get('msg')}")
            continue
        loc = [str(p) for p in raw_loc if p not in ("body", "query", "path", "header", "cookie")]
        where = ".".join(loc)
        parts.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
    return "; ".join(parts) or "The request is not valid."


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_request: Request, exc: DomainError):
        body = {"detail": exc.message}
        if exc.errors:
            body["errors"] = exc.errors
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Throttled) else None
        if exc.status_code == 401:
            headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
        return JSONResponse(body, status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError):
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in exc.errors()]
        return JSONResponse({"detail": _describe(exc.errors()), "errors": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 400 and (exc.detail == _UNREADABLE_BODY
                                       or isinstance(exc.__context__, MultiPartException)):
            # The same mistake as JSON that does not parse (422), not a different kind of error.
            return JSONResponse({"detail": "The request body could not be read: send UTF-8 JSON (or the "
                                           "multipart form the route takes)."}, status_code=422)
        return await http_exception_handler(request, exc)

    @app.exception_handler(sa.exc.OperationalError)
    async def _db_down(_request: Request, exc: sa.exc.OperationalError):
        log.error("database.unavailable", error=str(exc.orig)[:200])
        return JSONResponse({"detail": "The database is unavailable; try again shortly."}, status_code=503,
                            headers={"Retry-After": "5"})

    @app.exception_handler(sa.exc.DataError)
    async def _unstorable(_request: Request, exc: sa.exc.DataError):
        # PostgreSQL refuses values SQLite takes (a NUL character in text, a number out of range): bad input.
        log.info("database.data_error", error=str(exc.orig)[:200])
        what = "a NUL character" if "NUL" in str(exc.orig) else "a value out of range"
        return JSONResponse({"detail": f"The request contains {what}, which the database cannot store or search "
                                       "for."}, status_code=422)

    @app.exception_handler(sa.exc.IntegrityError)
    async def _integrity(_request: Request, exc: sa.exc.IntegrityError):
        # Services check their rules first; this is a concurrent change that won the race.
        log.warning("database.integrity_error", error=str(exc.orig)[:200])
        return JSONResponse({"detail": "The change conflicts with data stored meanwhile; reload and try again."},
                            status_code=409)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        # Errors stay JSON even when something we did not foresee breaks; the log has the details.
        log.exception("request.failed", path=request.url.path, error=type(exc).__name__)
        return JSONResponse({"detail": "Something went wrong on our side; it has been logged."}, status_code=500)


def get_db() -> Iterator[Session]:
    with session_scope() as session:
        yield session


# "function" scope: the unit of work commits when the route returns, before the response is sent,
# so a failed commit becomes an error response instead of a success that was never stored.
DB = Annotated[Session, Depends(get_db, scope="function")]
def client_address(request: Request) -> str:
    """Who is asking (TRUSTED_PROXIES decides whether X-Forwarded-For counts): core.security.client_address."""
    from navaia_app.core.security import client_address as derive

    return derive(request.client.host if request.client else None, request.headers.get("x-forwarded-for"))


def timed() -> float:
    return time.perf_counter()
