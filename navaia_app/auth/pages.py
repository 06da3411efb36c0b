from __future__ import annotations

import reflex as rx

from navaia_app.auth.state import AuthState
from navaia_app.ui import routes
from navaia_app.ui.layout import field_error, field_label


def _card(title: str, subtitle, *children) -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.center(rx.icon("audio-lines", size=20, color="white"), background=rx.color("accent", 9),
                              border_radius="8px", width="36px", height="36px"),
                    rx.heading("Navaia", size="6", as_="p"),
                    align="center", spacing="2",
                ),
                rx.heading(title, size="5", as_="h1", margin_top="0.5rem"),
                rx.text(subtitle, size="2", color_scheme="gray"),
                *children,
                spacing="3", width="100%",
            ),
            width=["92vw", "400px"], padding="1.5rem",
        ),
        rx.box(rx.color_mode.button(variant="ghost", aria_label="Switch light or dark mode"), position="fixed", top="1rem", right="1rem"),
        min_height="100vh", background=rx.color("gray", 2),
    )


def _input(label: str, name: str, type_: str, autocomplete: str, **props) -> rx.Component:
    return rx.vstack(
        field_label(label, html_for=name),
        rx.input(name=name, id=name, type=type_, auto_complete=autocomplete, width="100%", size="3", **props),
        field_error(AuthState.auth_field_errors.get(name, "")),
        spacing="1", width="100%",
    )


def login_page() -> rx.Component:
    return _card(
        "Sign in", "Welcome back. Sign in to work with your voice agent's calls.",
        rx.form(
            rx.vstack(
                _input("Email", "email", "email", "username", required=True),
                _input("Password", "password", "password", "current-password", required=True, max_length=128),
                field_error(AuthState.auth_error),
                rx.button("Sign in", type="submit", width="100%", size="3", id="login-submit"),
                spacing="3", width="100%",
            ),
            on_submit=AuthState.login,
            reset_on_submit=False,
        ),
        rx.cond(AuthState.signup_open,
                rx.text("New here? ", rx.link("Create an account", href=routes.REGISTER, underline="always"), size="2")),
    )


def register_page() -> rx.Component:
    return _card(
        "Create your account",
        rx.cond(AuthState.signup_open, "The first account of a new workspace is its administrator.",
                "Registration is closed: an administrator adds people from Settings."),
        rx.cond(
            AuthState.signup_open,
            rx.form(
                rx.vstack(
                    _input("Name", "name", "text", "name", required=True, max_length=120),
                    _input("Email", "email", "email", "username", required=True),
                    _input("Password", "password", "password", "new-password", required=True, min_length=8,
                           max_length=128),
                    rx.text("At least 8 characters. A few unrelated words make a strong password.", size="1",
                            color_scheme="gray"),
                    rx.cond(
                        AuthState.signup_needs_setup_token,
                        rx.vstack(
                            _input("Setup token", "setup_token", "text", "off", required=True, max_length=64,
                                   default_value=AuthState.setup_token),
                            rx.text("This new workspace has no administrator yet. The setup token is in the "
                                    "server log (or create the first administrator with the CLI).", size="1",
                                    color_scheme="gray"),
                            spacing="1", width="100%",
                        ),
                    ),
                    field_error(AuthState.auth_error),
                    rx.button("Create account", type="submit", width="100%", size="3", id="register-submit"),
                    spacing="3", width="100%",
                ),
                on_submit=AuthState.register,
                reset_on_submit=False,
            ),
        ),
        rx.text("Already have an account? ", rx.link("Sign in", href=routes.LOGIN, underline="always"), size="2"),
    )
