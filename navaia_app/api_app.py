"""Builds the FastAPI app that serves /api/* beside Reflex (same origin, port 3000)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from starlette.types import ASGIApp

from navaia_app.core.api import RequestContextMiddleware, install_error_handlers
from navaia_app.core.logging import configure_logging
from navaia_app.core.settings import get_settings


def _warn_if_jobs_unavailable(settings) -> None:
    from navaia_app.core.logging import get_logger
    from navaia_app.core.redis import redis_available

    if not redis_available():
        host = settings.redis_url.split("@")[-1]
        get_logger("navaia.startup").warning(
            "background jobs unavailable: Redis is not answering; the web app runs, webhooks are stored "
            "and processed once Redis is back", redis=host)


def create_api() -> FastAPI:
    from navaia_app.auth.api import router as auth_router, users_router
    from navaia_app.bookings.api import router as bookings_router
    from navaia_app.core.health import router as health_router
    from navaia_app.customers.api import router as customers_router
    from navaia_app.tickets.api import router as tickets_router

    settings = get_settings()
    settings.check_production()
    configure_logging()
    _warn_if_jobs_unavailable(settings)
    from navaia_app.auth.service import announce_first_admin_setup

    announce_first_admin_setup()
    api = FastAPI(
        title="Navaia API",
        version="1.0.0",
        description="REST API of the Navaia operations portal. Get a token from `POST /api/v1/auth/token` "
                    "and send it as `Authorization: Bearer <token>`.",
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
        swagger_ui_oauth2_redirect_url="/api/docs/oauth2-redirect",  # everything of the API lives under /api
    )
    install_error_handlers(api)
    from navaia_app.conversations import api as conversations_api

    # The post-call webhook first: FastAPI tries routes in order, and it is the route that takes bursts.
    api.include_router(conversations_api.webhooks_router)
    for router in (health_router, auth_router, users_router, customers_router, tickets_router, bookings_router):
        api.include_router(router)
    from navaia_app.analytics import api as analytics_api
    from navaia_app.conversations import tools_api
    from navaia_app.reminders import tools_api as reminder_tools_api

    # the reminder tools before the generic tools router (its /api/tools/{tool} answers unknown tools)
    for router in (analytics_api.router, conversations_api.router,
                   conversations_api.browser_router, reminder_tools_api.router, tools_api.router):
        api.include_router(router)
    from navaia_app.campaigns import api as campaigns_api
    from navaia_app.handoff import api as handoff_api
    from navaia_app.outreach import twilio_webhooks

    for router in (campaigns_api.router, campaigns_api.customer_calls_router, twilio_webhooks.router,
                   handoff_api.router):
        api.include_router(router)
    from navaia_app.calendar_feeds import api as calendar_api
    from navaia_app.privacy import api as privacy_api
    from navaia_app.webhooks_out import api as webhooks_out_api

    for router in (webhooks_out_api.router, privacy_api.customers_router, privacy_api.settings_router,
                   calendar_api.router, calendar_api.feed_router):
        api.include_router(router)
    from navaia_app.reminders import api as reminders_api, webhooks as reminder_webhooks

    for router in (reminders_api.router, reminder_webhooks.router):
        api.include_router(router)
    from navaia_app.core.security import TokenBucket
    from navaia_app.system.metrics import router as metrics_router

    api.include_router(metrics_router)
    # Added innermost first: request id (outermost) -> security -> metrics -> routes.
    for layer, options in reversed(edge_layers(settings, rate_limits={
        "/api/v1/auth/token": TokenBucket(rate=settings.rate_limit_token_per_minute / 60, burst=10),
        "/api/webhooks/": TokenBucket(rate=settings.rate_limit_webhooks_per_second,
                                      burst=2 * settings.rate_limit_webhooks_per_second),
    })):
        api.add_middleware(layer, **options)
    return api


def edge_layers(settings, *, rate_limits: dict) -> list[tuple[type, dict]]:
    """What every request passes through, outermost first: its request id, the security checks and headers,
    the metrics. The same layers for the API and for Reflex's own routes (pages, uploads, /ping)."""
    from navaia_app.core.security import SecurityMiddleware
    from navaia_app.system.metrics import MetricsMiddleware

    return [(RequestContextMiddleware, {}),
            (SecurityMiddleware, {"hsts": settings.public_base_url.startswith("https://"), "rate_limits": rate_limits}),
            (MetricsMiddleware, {})]


class _ApiOrSite:
    """/api/* goes to the REST API, everything else straight to Reflex's own app (pages, /_event, /ping,
    uploads). Mounting Reflex under the FastAPI app instead made every non-API request walk all the API's
    routes first (about 0.2 ms each on this machine)."""

    def __init__(self, api: ASGIApp, site: ASGIApp):
        self.api, self.site = api, site

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "") if scope["type"] in ("http", "websocket") else ""
        if path.startswith("/api/") or path == "/api":
            return await self.api(scope, receive, send)
        return await self.site(scope, receive, send)


def mount_api(api: FastAPI) -> Callable[[ASGIApp], ASGIApp]:
    """Reflex's `api_transformer`: the backend with the REST API beside Reflex's app, the same edge layers
    (request id, security headers and body limits, metrics) on both."""

    def transform(reflex_app: ASGIApp) -> ASGIApp:
        site = reflex_app
        for layer, options in reversed(edge_layers(get_settings(), rate_limits={})):
            site = layer(site, **options)
        return _ApiOrSite(api, site)

    return transform
