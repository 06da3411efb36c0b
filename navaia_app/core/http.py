"""Builds the FastAPI app that serves /api/* beside Reflex (same origin, port 3000)."""

from __future__ import annotations

from fastapi import FastAPI

from navaia_app.core.api import RequestContextMiddleware, install_error_handlers
from navaia_app.core.logging import configure_logging
from navaia_app.core.settings import get_settings


def create_api() -> FastAPI:
    from navaia_app.auth.api import router as auth_router
    from navaia_app.core.health import router as health_router
    from navaia_app.customers.api import router as customers_router

    settings = get_settings()
    settings.check_production()
    configure_logging()
    api = FastAPI(
        title="Navaia API",
        version="1.0.0",
        description="REST API of the Navaia operations portal. Get a token from `POST /api/v1/auth/token` "
                    "and send it as `Authorization: Bearer <token>`.",
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    install_error_handlers(api)
    for router in (health_router, auth_router, customers_router):
        api.include_router(router)
    api.add_middleware(RequestContextMiddleware)
    return api
