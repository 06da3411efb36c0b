"""Who is calling a REST route: `CurrentUser`, the signed-in user behind the bearer token."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from navaia_app.auth import service as auth_service
from navaia_app.auth.models import User
from navaia_app.core.api import DB

_bearer = HTTPBearer(auto_error=False, description="A token from POST /api/v1/auth/token")


def _resolve_user(
    session: DB, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "Not signed in: send Authorization: Bearer <token>.",
                            headers={"WWW-Authenticate": "Bearer"})
    user = auth_service.resolve_session(session=session, token=credentials.credentials, kind="api")
    if user is None:
        raise HTTPException(401, "The token is invalid, expired or revoked.", headers={"WWW-Authenticate": "Bearer"})
    return user


async def current_user(user: Annotated[User, Depends(_resolve_user)]) -> User:
    # bound here, in the request's own task: a sync dependency runs in a worker thread's copy of the
    # context, and what it binds would never reach the route's log lines
    structlog.contextvars.bind_contextvars(user_id=user.id)
    return user


CurrentUser = Annotated[User, Depends(current_user)]
