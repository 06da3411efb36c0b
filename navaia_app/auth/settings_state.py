"""The Settings page: people (admins add and manage users), your password, the system."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from navaia_app.auth import service
from navaia_app.auth.state import AuthState, browser_user_agent, actor, authenticated, field_errors
from navaia_app.core.db import session_scope
from navaia_app.core.errors import DomainError
from navaia_app.core.redis import redis_available
from navaia_app.core.settings import get_settings


@dataclass
class UserRow:
    id: int
    name: str
    email: str
    role: str
    active: bool
    last_login: str


class SettingsState(AuthState):
    users: list[UserRow] = []
    new_user_open: bool = False
    new_user_errors: dict[str, str] = {}
    password_errors: dict[str, str] = {}
    redis_ok: bool = False
    provider: str = ""
    public_base_url: str = ""
    business_timezone: str = ""
    signup_allowed: bool = False

    def _load_users(self) -> None:
        with session_scope() as session:
            self.users = [
                UserRow(id=u.id, name=u.name, email=u.email, role=u.role, active=u.is_active,
                        last_login=u.last_login_at.strftime("%Y-%m-%d %H:%M UTC") if u.last_login_at else "never")
                for u in service.list_users(session=session, actor=actor())
            ]

    @rx.event
    @authenticated
    def load(self):
        settings = get_settings()
        self.redis_ok = redis_available()
        self.provider = settings.telephony_provider
        self.public_base_url = settings.public_base_url
        self.business_timezone = settings.business_timezone
        self.signup_allowed = settings.allow_signup
        if actor().role == "admin":
            self._load_users()
        else:
            self.users = []

    @rx.event
    def set_new_user_open(self, value: bool):
        self.new_user_open, self.new_user_errors = value, {}

    @rx.event
    @authenticated(admin=True)
    def add_user(self, form_data: dict):
        try:
            with session_scope() as session:
                user = service.create_user(session=session, email=str(form_data.get("email", "")),
                                           password=str(form_data.get("password", "")),
                                           name=str(form_data.get("name", "")),
                                           role=str(form_data.get("role", "agent") or "agent"), actor=actor())
        except DomainError as exc:
            self.new_user_errors = field_errors(exc)
            return
        self.new_user_open, self.new_user_errors = False, {}
        self._load_users()
        return rx.toast.success(f"Added {user.name}. Share their password with them safely.")

    @rx.event
    @authenticated(admin=True)
    def set_role(self, user_id: int, role: str):
        try:
            with session_scope() as session:
                service.update_user(session=session, actor=actor(), user_id=user_id, role=role)
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self._load_users()

    @rx.event
    @authenticated(admin=True)
    def toggle_active(self, user_id: int):
        current = next((u for u in self.users if u.id == user_id), None)
        if current is None:
            return
        try:
            with session_scope() as session:
                service.update_user(session=session, actor=actor(), user_id=user_id, is_active=not current.active)
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self._load_users()

    @rx.event
    @authenticated
    def change_password(self, form_data: dict):
        self.password_errors = {}
        if form_data.get("new_password") != form_data.get("confirm_password"):
            self.password_errors = {"confirm_password": "The two new passwords differ."}
            return
        try:
            with session_scope() as session:
                user = session.merge(actor())
                service.change_password(session=session, user=user, current=str(form_data.get("current_password", "")),
                                        new=str(form_data.get("new_password", "")))
                # Every session was revoked; keep this one signed in with a fresh token.
                self.session_token = service.start_session(session=session, user=user, kind="web",
                                                           client=self._client(), user_agent=browser_user_agent(self))
        except DomainError as exc:
            errors = field_errors(exc)
            self.password_errors = {("new_password" if k == "password" else k): v for k, v in errors.items()}
            return
        return rx.toast.success("Password changed. Other devices were signed out.")
