from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from navaia_app.core.types import utc_column, utcnow

ROLES = ("admin", "agent")


class User(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (sa.CheckConstraint("role IN ('admin','agent')", name="ck_users_role"),)

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, sa_column_kwargs={"unique": True}, index=False)
    name: str = Field(max_length=120)
    password_hash: str = Field(max_length=255)
    role: str = Field(default="agent", max_length=16)
    is_active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    last_login_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class AuthSession(SQLModel, table=True):
    """A signed-in session (web) or bearer token (api); only the SHA-256 of the token is stored."""

    __tablename__ = "auth_sessions"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    kind: str = Field(default="web", max_length=8)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    last_seen_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    expires_at: datetime = Field(sa_column=utc_column())
    revoked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    client: str = Field(default="", max_length=120)
    # SHA-256 of the browser's User-Agent at sign-in (web sessions): the cookie is readable by scripts
    # (Reflex cannot make it HttpOnly), so a copied cookie only works from the same kind of browser.
    agent_hash: str = Field(default="", max_length=64)


class LoginThrottle(SQLModel, table=True):
    """Failed sign-ins per account and per client, for back-off and short locks."""

    __tablename__ = "login_throttles"

    key: str = Field(primary_key=True, max_length=300)
    failures: int = Field(default=0)
    locked_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    last_failure_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
