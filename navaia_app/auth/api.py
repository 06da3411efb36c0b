from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from navaia_app.auth import service
from navaia_app.core.api import DB, SIGNED_IN_ERRORS, CurrentUser, client_address, problem

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
