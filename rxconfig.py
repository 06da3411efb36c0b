"""Reflex configuration, driven by the same settings as the rest of the app (navaia_app/core/settings.py)."""

import os
import sys

import reflex as rx

from navaia_app.core.settings import get_settings

settings = get_settings()

# `make run` serves pages and API on one port (PORT, default 3000). The container runs the backend
# alone behind Caddy (`reflex run --backend-only --backend-port 8000`), where a frontend port is refused.
if "--backend-only" in sys.argv:
    ports = {}
else:
    port = int(os.environ.get("PORT", "3000"))
    ports = {"frontend_port": port, "backend_port": int(os.environ.get("BACKEND_PORT", port))}

# Several web processes share page state through Redis (CONTRACT: REDIS_URL carries it). In production
# REDIS_URL is used unless REFLEX_REDIS_URL names another Redis (or database); in dev and tests pages
# keep their state in memory, so `make run` works without Redis.
reflex_redis = os.environ.get("REFLEX_REDIS_URL") or (settings.redis_url if settings.is_prod else "")

config = rx.Config(
    app_name="navaia_app",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    **ports,
    api_url=os.environ.get("REFLEX_API_URL", settings.public_base_url),
    deploy_url=settings.public_base_url,
    cors_allowed_origins=settings.origins,
    **({"redis_url": reflex_redis} if reflex_redis else {}),
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(accent_color="indigo", gray_color="slate", radius="medium", scaling="100%")
        )
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
