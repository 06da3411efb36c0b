"""Sign-in state for the Reflex UI. Every data handler checks the user itself via `authenticated`."""

from __future__ import annotations

import functools
import inspect
from contextlib import contextmanager
from contextvars import ContextVar

import reflex as rx

from navaia_app.auth import service
from navaia_app.auth.models import User
from navaia_app.core.db import session_scope
from navaia_app.core.errors import DomainError
from navaia_app.core.logging import log_scope, remember_log_context
from navaia_app.core.security import client_address
from navaia_app.core.settings import get_settings
from navaia_app.ui import routes

_actor: ContextVar[User | None] = ContextVar("navaia_actor", default=None)
COOKIE = "navaia_session"


def actor() -> User:
    """The user on whose behalf the current event handler runs (set by `authenticated`)."""
    user = _actor.get()
    if user is None:
        raise RuntimeError("actor() used outside an @authenticated handler")
    return user


def browser_user_agent(state) -> str:
    """The browser's User-Agent (of its websocket): web sessions are bound to it (auth.service)."""
    try:
        return state.router.headers.user_agent or ""
    except Exception:
        return ""


def _signed_out():
    return [rx.remove_cookie(COOKIE, {"path": "/"}), rx.redirect(routes.LOGIN)]


def authenticated(fn=None, *, admin: bool = False, touch: bool = True):
    """Run the handler only for a signed-in (and, if asked, admin) user; otherwise go to the login page.

    `touch=False` is for background polling: it checks the session without counting as activity."""

    def decorate(handler):
        def _resolve(self):
            with session_scope() as session:
                user = service.resolve_session(session=session, token=self.session_token, kind="web",
                                               touch=touch, user_agent=browser_user_agent(self))
            if user is None:
                return None, _signed_out()
            if admin and user.role != "admin":
                return None, rx.toast.error("Only an administrator can do this.")
            return user, None

        @contextmanager
        def _as(user):
            # the handler's actor, and its log lines carry who did it and which event it was
            token = _actor.set(user)
            try:
                with log_scope(user_id=user.id, event_handler=handler.__name__, conversation_id=None,
                               customer_id=None, campaign_id=None, call_id=None):
                    try:
                        yield
                    except Exception as exc:
                        # the app's exception handler runs after this scope: hand it who and which event
                        remember_log_context(exc)
                        raise
            finally:
                _actor.reset(token)

        if inspect.isasyncgenfunction(handler):
            @functools.wraps(handler)
            async def async_gen_wrapper(self, *args, **kwargs):
                user, refusal = _resolve(self)
                if user is None:
                    yield refusal
                    return
                with _as(user):
                    async for update in handler(self, *args, **kwargs):
                        yield update
            wrapper = async_gen_wrapper
        elif inspect.iscoroutinefunction(handler):
            @functools.wraps(handler)
            async def async_wrapper(self, *args, **kwargs):
                user, refusal = _resolve(self)
                if user is None:
                    return refusal
                with _as(user):
                    return await handler(self, *args, **kwargs)
            wrapper = async_wrapper
        elif inspect.isgeneratorfunction(handler):
            @functools.wraps(handler)
            def gen_wrapper(self, *args, **kwargs):
                user, refusal = _resolve(self)
                if user is None:
                    yield refusal
                    return
                with _as(user):
                    yield from handler(self, *args, **kwargs)
            wrapper = gen_wrapper
        else:
            @functools.wraps(handler)
            def plain_wrapper(self, *args, **kwargs):
                user, refusal = _resolve(self)
                if user is None:
                    return refusal
                with _as(user):
                    return handler(self, *args, **kwargs)
            wrapper = plain_wrapper
        wrapper.checks_user = True
        return wrapper

    return decorate(fn) if fn is not None else decorate


def field_errors(exc: DomainError) -> dict[str, str]:
    return dict(exc.errors) if exc.errors else {"_form": exc.message}


class AuthState(rx.State):
    session_token: str = rx.Cookie("", name=COOKIE, same_site="strict", path="/",
                                   secure=get_settings().public_base_url.startswith("https"),
                                   max_age=get_settings().session_absolute_hours * 3600)
    user_id: int = 0
    user_name: str = ""
    user_email: str = ""
    user_role: str = ""
    signup_open: bool = False
    signup_needs_setup_token: bool = False  # production, no user yet: the first admin needs the logged token
    setup_token: str = ""  # prefilled from ?setup_token= (the link the server log prints)
    auth_error: str = ""
    auth_field_errors: dict[str, str] = {}
    auth_busy: bool = False

    @rx.var
    def is_admin(self) -> bool:
        return self.user_role == "admin"

    @rx.var
    def user_initials(self) -> str:
        parts = [p for p in self.user_name.split() if p]
        return "".join(p[0] for p in parts[:2]).upper() or "?"

    def _client(self) -> str:
        """The browser's address, derived as for REST and webhooks (core.security.client_address): the
        websocket's peer, or what a trusted proxy (TRUSTED_PROXIES) says it saw."""
        try:
            # Reflex's own client_ip is the socket peer (its trusted_proxy_hops stays 0)
            peer = self.router.session.client_ip
            forwarded = self.router.headers.raw_headers.get("x-forwarded-for", "")
        except Exception:
            return "unknown"
        return client_address(peer, forwarded)

    def _assign(self, **values) -> None:
        """Set the vars whose value differs. Reflex sends every assigned var in the next delta, and each var
        sent re-renders whatever reads its state in the browser, so unchanged values are left alone."""
        for name, value in values.items():
            if getattr(self, name) != value:
                setattr(self, name, value)

    def _load_user(self, user: User) -> None:
        self._assign(user_id=user.id, user_name=user.name, user_email=user.email, user_role=user.role)

    def _clear_user(self) -> None:
        self.user_id, self.user_name, self.user_email, self.user_role = 0, "", "", ""

    @rx.event
    def require_login(self):
        """on_load of every protected page: no valid session, no page."""
        with session_scope() as session:
            user = service.resolve_session(session=session, token=self.session_token, kind="web",
                                           user_agent=browser_user_agent(self))
        if user is None:
            self._clear_user()
            return _signed_out()
        self._load_user(user)

    @rx.event
    def open_public_page(self):
        """on_load of login/register: signed-in people go to the dashboard."""
        self.auth_error, self.auth_field_errors = "", {}
        with session_scope() as session:
            user = service.resolve_session(session=session, token=self.session_token, kind="web",
                                           user_agent=browser_user_agent(self))
            mode = service.signup_mode(session=session)
        self.signup_open = mode != "closed"
        self.signup_needs_setup_token = mode == "setup"
        self.setup_token = str(self.router.url.query_parameters.get("setup_token", ""))[:64] if mode == "setup" else ""
        if user is not None:
            self._load_user(user)
            return rx.redirect(routes.DASHBOARD)

    @rx.event
    def login(self, form_data: dict):
        self.auth_error, self.auth_field_errors = "", {}
        email, password = str(form_data.get("email", "")), str(form_data.get("password", ""))
        try:
            with session_scope() as session:
                user = service.authenticate(session=session, email=email, password=password, client=self._client())
                self.session_token = service.start_session(session=session, user=user, kind="web",
                                                           client=self._client(), replaces=self.session_token,
                                                           user_agent=browser_user_agent(self))
                self._load_user(user)
        except DomainError as exc:
            self.auth_error = exc.message
            return
        return rx.redirect(routes.DASHBOARD)

    @rx.event
    def register(self, form_data: dict):
        self.auth_error, self.auth_field_errors = "", {}
        try:
            with session_scope() as session:
                user = service.register(session=session, email=str(form_data.get("email", "")),
                                        password=str(form_data.get("password", "")),
                                        name=str(form_data.get("name", "")),
                                        setup_token=str(form_data.get("setup_token", "")))
                self.session_token = service.start_session(session=session, user=user, kind="web",
                                                           client=self._client(), replaces=self.session_token,
                                                           user_agent=browser_user_agent(self))
                self._load_user(user)
        except DomainError as exc:
            self.auth_field_errors = field_errors(exc)
            self.auth_error = exc.message if not exc.errors else "Please correct the fields marked below."
            return
        return [rx.redirect(routes.DASHBOARD), rx.toast.success(f"Welcome, {user.name}!")]

    @rx.event
    def logout(self):
        with session_scope() as session:
            service.end_session(session=session, token=self.session_token)
        self.session_token = ""
        self._clear_user()
        return _signed_out()
