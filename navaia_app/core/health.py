from __future__ import annotations

import anyio
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from navaia_app.core.db import ping_database
from navaia_app.core.redis import redis_available

router = APIRouter(tags=["operations"])


@router.get("/api/health", summary="Liveness and dependencies",
            responses={503: {"description": "The database is down"}})
async def health() -> JSONResponse:
    database_ok = await anyio.to_thread.run_sync(ping_database)
    try:
        redis_ok = await anyio.to_thread.run_sync(redis_available)
    except Exception:  # a malformed REDIS_URL is "down", not a failed health check
        redis_ok = False
    body = {"status": "ok" if database_ok else "error", "database": "ok" if database_ok else "down",
            "redis": "ok" if redis_ok else "down"}
    return JSONResponse(body, status_code=200 if database_ok else 503)
