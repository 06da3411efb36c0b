"""Reflex configuration, driven by the same settings as the rest of the app (navaia_app/core/settings.py)."""

import os

import reflex as rx

from navaia_app.core.settings import get_settings

settings = get_settings()

config = rx.Config(
    app_name="navaia_app",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    frontend_port=int(os.environ.get("PORT", "3000")),
    backend_port=int(os.environ.get("BACKEND_PORT", os.environ.get("PORT", "3000"))),
    api_url=os.environ.get("REFLEX_API_URL", settings.public_base_url),
    deploy_url=settings.public_base_url,
    cors_allowed_origins=settings.origins,
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(accent_color="indigo", gray_color="slate", radius="medium", scaling="100%")
        )
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
