from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from navaia_app.auth import service
from navaia_app.auth.deps import CurrentUser
from navaia_app.core.api import DB, FORBIDDEN, SIGNED_IN_ERRORS, client_address, problem
from navaia_app.core.types import DbInt

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=254)
    password: str = Field(max_length=512)


class TokenResponse(BaseModel):
    """Exactly the contract's shape: {"access_token": "...", "token_type": "bearer"}."""

    access_token: str
    token_type: str = "bearer"


class Me(BaseModel):
    id: int
    email: str
    name: str
    role: str


@router.post("/token", response_model=TokenResponse, summary="Exchange email and password for a bearer token",
             responses={401: problem("Bad credentials"), 422: problem("Invalid input"),
                        429: problem("Too many attempts")})
def issue_token(body: TokenRequest, session: DB, request: Request) -> TokenResponse:
    user = service.authenticate(session=session, email=body.email, password=body.password,
                                client=client_address(request))
    token = service.start_session(session=session, user=user, kind="api", client=client_address(request))
    return TokenResponse(access_token=token)


@router.post("/logout", status_code=204, summary="Revoke the token that makes this request",
             responses=SIGNED_IN_ERRORS)
def revoke_token(user: CurrentUser, session: DB, request: Request) -> None:
    token = request.headers.get("authorization", "").partition(" ")[2]
    service.end_session(session=session, token=token)


@router.get("/me", response_model=Me, summary="Who the token belongs to", responses=SIGNED_IN_ERRORS)
def me(user: CurrentUser) -> Me:
    return Me(id=user.id, email=user.email, name=user.name, role=user.role)


# --- users (admin) ---------------------------------------------------------------------------------

users_router = APIRouter(prefix="/api/v1/users", tags=["users"], responses={**SIGNED_IN_ERRORS, **FORBIDDEN})


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    role: str
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None = None


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=254)
    name: str = Field(max_length=120)
    password: str = Field(max_length=512)
    role: Literal["admin", "agent"] = "agent"


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["admin", "agent"] | None = None
    is_active: bool | None = None


class UserList(BaseModel):
    items: list[UserOut]
    total: int


def _user_out(user) -> UserOut:
    return UserOut.model_validate(user, from_attributes=True)


@users_router.get("", response_model=UserList, summary="Every user (admin)")
def list_users(user: CurrentUser, session: DB) -> UserList:
    users = service.list_users(session=session, actor=user)
    return UserList(items=[_user_out(u) for u in users], total=len(users))


@users_router.post("", response_model=UserOut, status_code=201, summary="Add a user (admin)",
                   responses={409: problem("A user with this email exists")})
def create_user(body: UserIn, user: CurrentUser, session: DB) -> UserOut:
    return _user_out(service.create_user(session=session, email=body.email, password=body.password, name=body.name,
                                         role=body.role, actor=user))


@users_router.patch("/{user_id}", response_model=UserOut, summary="Change a user's role or deactivate them (admin)",
                    responses={404: problem("No such user")})
def update_user(user_id: DbInt, body: UserPatch, user: CurrentUser, session: DB) -> UserOut:
    return _user_out(service.update_user(session=session, actor=user, user_id=user_id, role=body.role,
                                         is_active=body.is_active))
