"""Prometheus metrics: request counts and latency per route (this process), plus business gauges
read from the database and Redis at scrape time (true across every process)."""

from __future__ import annotations

import hmac
import time

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from navaia_app.core.api import HttpMiddleware
from navaia_app.core.logging import get_logger

log = get_logger("navaia.metrics")

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter("navaia_http_requests", "HTTP requests by route and status", ["method", "route", "status"],
                   registry=REGISTRY)
LATENCY = Histogram("navaia_http_request_duration_seconds", "HTTP request latency by route", ["route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10), registry=REGISTRY)


def _route_label(scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    if path:
        return path
    raw = scope.get("path", "")
    if raw.startswith("/api/"):
        return "/api/(unmatched)"
    if raw.startswith("/_event"):
        return "/_event"
    return "(pages)"


class MetricsMiddleware(HttpMiddleware):
    """Counts every HTTP request by method, route and status, and times it by route."""

    async def handle(self, scope, receive, send):
        started = time.perf_counter()
        status = {"code": 500}

        async def capture(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route = _route_label(scope)
            REQUESTS.labels(scope.get("method", ""), route, str(status["code"])).inc()
            LATENCY.labels(route).observe(time.perf_counter() - started)


class BusinessCollector:
    """Webhook events and campaign calls by status, and RQ queue depths, read when scraped."""

    def collect(self):
        from navaia_app.core.db import get_engine

        webhooks = GaugeMetricFamily("navaia_webhook_events", "Webhook inbox events by status", labels=["status"])
        calls = GaugeMetricFamily("navaia_campaign_calls", "Campaign calls by status", labels=["status"])
        try:
            with get_engine().connect() as conn:
                for status, count in conn.execute(sa.text("SELECT status, COUNT(*) FROM webhook_events GROUP BY status")):
                    webhooks.add_metric([status], count)
                for status, count in conn.execute(sa.text("SELECT status, COUNT(*) FROM campaign_calls GROUP BY status")):
                    calls.add_metric([status], count)
        except sa.exc.SQLAlchemyError as exc:
            log.warning("metrics.database_unavailable", error=type(exc).__name__)
        yield webhooks
        yield calls
        queues = GaugeMetricFamily("navaia_queue_depth", "Jobs waiting per RQ queue", labels=["queue"])
        up = GaugeMetricFamily("navaia_redis_up", "1 when Redis answers")
        try:
            from navaia_app.core.redis import get_redis, redis_available

            ok = redis_available()
            up.add_metric([], 1 if ok else 0)
            if ok:
                from rq import Queue

                from navaia_app.core.queues import QUEUE_NAMES

                for name in QUEUE_NAMES:
                    queues.add_metric([name], Queue(name, connection=get_redis()).count)
        except Exception as exc:  # metrics must never break the scrape
            log.warning("metrics.redis_unavailable", error=type(exc).__name__)
        yield up
        yield queues


REGISTRY.register(BusinessCollector())
router = APIRouter(tags=["operations"])


def _authorize(request: Request) -> None:
    """METRICS_TOKEN as a bearer token, or an admin's API token."""
    from navaia_app.auth import service as auth_service
    from navaia_app.core.db import session_scope
    from navaia_app.core.settings import get_settings

    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "Send Authorization: Bearer <METRICS_TOKEN or an admin API token>.",
                            headers={"WWW-Authenticate": "Bearer"})
    expected = get_settings().metrics_token
    if expected and hmac.compare_digest(token.encode(), expected.encode()):
        return
    with session_scope() as session:
        user = auth_service.resolve_session(session=session, token=token, kind="api")
    if user is None or user.role != "admin":
        raise HTTPException(401, "The token is not a metrics token or an admin's API token.",
                            headers={"WWW-Authenticate": "Bearer"})


@router.get("/api/metrics", summary="Prometheus metrics (METRICS_TOKEN or an admin token)",
            dependencies=[Depends(_authorize)], response_class=Response)
def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
