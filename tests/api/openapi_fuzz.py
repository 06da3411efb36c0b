"""Fuzzes every operation of the app's OpenAPI schema with schemathesis, in process (ASGI), signed in.

Shared by tests/api/test_fuzz_openapi.py (a small, derandomized run inside `make test`) and
bench/fuzz_api.py (a deeper run that prints figures). Not a test module itself.

The caller points the settings at a freshly migrated database (DATABASE_URL) first; `prepare()`
then builds the app, creates an admin, signs in and seeds a few rows so path ids resolve.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings, strategies as st
from schemathesis import GenerationMode
from schemathesis.core import NotSet
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

ADMIN_EMAIL = "fuzz-admin@example.com"
ADMIN_PASSWORD = "quiet harbour lantern 42"
TOOLS_SECRET = "fuzz-tools-secret-" + "x" * 16
WEBHOOK_SECRET = "fuzz-webhook-secret-" + "y" * 16
DEAD_REDIS = "redis://127.0.0.1:6390/0"  # nothing listens there: nothing is queued, no worker runs anything

# The settings the fuzzed app runs with: nothing leaves the process (simulated telephony, no Redis,
# no ElevenLabs agent), and the agent tools / the post-call webhook are configured so that their
# own authentication (a header of their own, not the bearer token) is what the fuzzer meets.
FUZZ_ENV = {
    "APP_ENV": "test",
    "ALLOW_SIGNUP": "false",
    "BUSINESS_TIMEZONE": "UTC",
    "DEFAULT_PHONE_REGION": "US",
    "REDIS_URL": DEAD_REDIS,
    "TELEPHONY_PROVIDER": "simulated",
    "SIMULATED_TIME_SCALE": "0.01",
    "AGENT_TOOLS_SECRET": TOOLS_SECRET,
    "ELEVENLABS_WEBHOOK_SECRET": WEBHOOK_SECRET,
    "ELEVENLABS_AGENT_ID": "",
    "ELEVENLABS_API_KEY": "",
    # The fuzzer signs in once; login throttling is tested elsewhere (tests/api/test_auth_api.py).
    "RATE_LIMIT_TOKEN_PER_MINUTE": "100000",
}

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Left out on purpose, with what they flag on this API (seen in bench/fuzz_api.py --all-checks):
# - negative_data_rejection: unknown query parameters that are ignored (as HTTP APIs do), strings
#   that fit once stripped of whitespace, pydantic's lax JSON true -> 1, the agent tools' deliberately
#   loose bodies;
# - use_after_free / ensure_resource_availability: need schemathesis' stateful runner and links
#   between operations, which this per-operation fuzzer does not drive.
EXTRA_CHECKS = [negative_data_rejection]

# What cannot be fuzzed blindly, and why. Everything else in the schema is fuzzed, including:
# - the agent tools and the initiation webhook, with their own X-Agent-Tools-Secret (see _strategy);
# - POST /api/webhooks/elevenlabs: its schema declares no body (it is HMAC-signed raw bytes), so the
#   fuzzer can only send it unsigned requests, which must be a documented 401;
# - routes that call out: simulated telephony and no Redis (FUZZ_ENV), so "call now" and "start" place
#   no real call and queue nothing; no ELEVENLABS_AGENT_ID, so the voice-agent session asks nobody.
# The Twilio webhooks are not in the schema (include_in_schema=False) and so not fuzzed here.
EXCLUDED = {
    # Revokes the very token every other request signs in with; tests/api/test_auth_api.py covers it.
    "POST /api/v1/auth/logout": "revokes the fuzzer's own token",
}

# Path parameter -> the kind of seeded row whose id it takes (half the cases use it, so that the
# code behind "found" is fuzzed too, not only 404s).
PATH_IDS = {
    "customer_id": "customer",
    "ticket_id": "ticket",
    "booking_id": "booking",
    "campaign_id": "campaign",
    "conversation_id": "conversation",
    "endpoint_id": "endpoint",
    "delivery_id": "delivery",
}


@dataclass
class Finding:
    operation: str
    check: str
    title: str
    status: int | None
    example: str


@dataclass
class OperationStats:
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)  # check name -> count


@dataclass
class Report:
    stats: dict[str, OperationStats] = field(default_factory=lambda: defaultdict(OperationStats))
    findings: dict[tuple[str, str, str], Finding] = field(default_factory=dict)  # one per distinct failure

    @property
    def requests(self) -> int:
        return sum(s.requests for s in self.stats.values())

    def failures_by_check(self) -> Counter:
        total: Counter = Counter()
        for s in self.stats.values():
            total.update(s.failures)
        return total

    def describe_findings(self) -> str:
        lines = []
        for f in self.findings.values():
            lines.append(f"- {f.operation}: [{f.check}] {f.title} (status {f.status})\n    {f.example}")
        return "\n".join(lines)


@dataclass
class Target:
    app: object
    schema: object
    token: str
    ids: dict[str, int]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def _next_weekday_at(hour: int) -> datetime:
    day = datetime.now(UTC).date() + timedelta(days=2)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(hour), tzinfo=UTC)


def _seed(client, auth: dict[str, str]) -> dict[str, int]:
    """A few rows of each kind, through the API itself (so they are what the API would store)."""
    from navaia_app.conversations.models import Conversation
    from navaia_app.core.db import session_scope

    def post(path: str, body: dict) -> dict:
        response = client.post(path, json=body, headers=auth)
        assert response.status_code in (200, 201, 202), (path, response.status_code, response.text)
        return response.json()

    customers = [post("/api/v1/customers", {"name": f"Fuzz Customer {i}", "phone": f"+1212555{i:04d}",
                                            "email": f"fuzz{i}@example.com", "timezone": "UTC"})
                 for i in range(3)]
    with session_scope() as session:
        conversation = Conversation(external_id=f"conv_{uuid.uuid4().hex[:12]}", customer_id=customers[0]["id"],
                                    intent="support", summary="Caller's printer jams.", outcome="ticket",
                                    transcript=[{"role": "user", "message": "My printer jams."}])
        session.add(conversation)
        session.flush()
        conversation_id = conversation.id
    tickets = [post("/api/v1/tickets", {"title": f"Fuzz ticket {i}", "customer_id": customers[i]["id"]})
               for i in range(2)]
    bookings = [post("/api/v1/bookings", {"customer_id": customers[i]["id"], "service": "Consultation",
                                          "starts_at": _next_weekday_at(10 + i).isoformat()})
                for i in range(2)]
    campaign = post("/api/v1/campaigns", {"name": "Fuzz campaign", "customer_ids": [c["id"] for c in customers]})
    post("/api/v1/campaigns", {"name": "Second fuzz campaign"})
    # a public address literal (no DNS lookup); nothing is sent: no Redis, no worker (FUZZ_ENV)
    endpoint = post("/api/v1/webhook-endpoints", {"url": "http://93.184.215.14/fuzz", "events": ["ticket.created"]})
    post(f"/api/v1/webhook-endpoints/{endpoint['id']}/test", {})
    delivery = client.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries", headers=auth).json()["items"][0]
    return {"customer": customers[0]["id"], "ticket": tickets[0]["id"], "booking": bookings[0]["id"],
            "campaign": campaign["id"], "conversation": conversation_id, "endpoint": endpoint["id"],
            "delivery": delivery["id"]}


def prepare() -> Target:
    """The app on the database in the settings, an admin signed in, and seeded rows."""
    from fastapi.testclient import TestClient

    from navaia_app.auth import service as auth_service
    from navaia_app.core.db import session_scope
    from navaia_app.api_app import create_api

    app = create_api()
    with session_scope() as session:
        auth_service.create_user(session=session, email=ADMIN_EMAIL, password=ADMIN_PASSWORD, name="Fuzz Admin",
                                 role="admin")
    with TestClient(app) as client:
        response = client.post("/api/v1/auth/token", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        assert response.status_code == 200, response.text
        token = response.json()["access_token"]
        ids = _seed(client, {"Authorization": f"Bearer {token}"})
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    return Target(app=app, schema=schema, token=token, ids=ids)


def operations(target: Target) -> list:
    """Every operation but the excluded ones; deletions last so the seeded rows live as long as possible."""
    ops = [result.ok() for result in target.schema.get_all_operations()]
    ops = [op for op in ops if op.label not in EXCLUDED]
    return sorted(ops, key=lambda op: (op.method.upper() == "DELETE", op.label))


def _example(case, response) -> str:
    parts = [f"{case.method.upper()} {case.formatted_path}"]
    if case.query:
        parts.append(f"query={case.query!r}")
    if case.headers:
        parts.append(f"headers={ {k: v for k, v in case.headers.items() if k.lower() != 'authorization'}!r}")
    if not isinstance(case.body, NotSet):
        text = repr(case.body)
        parts.append(f"body={text[:300]}{'...' if len(text) > 300 else ''}")
    if response is not None:
        parts.append(f"-> {response.status_code} {response.text[:200]!r}")
    return " ".join(parts)


def _strategy(target: Target, op, mode: GenerationMode):
    headers = {}
    if any(p.name.lower() == "x-agent-tools-secret" for p in op.headers):
        headers["x-agent-tools-secret"] = TOOLS_SECRET
    strategies = [op.as_strategy(generation_mode=mode, headers=headers or None)]
    seeded = {p.name: target.ids[PATH_IDS[p.name]] for p in op.path_parameters if p.name in PATH_IDS}
    if seeded:
        strategies.insert(0, op.as_strategy(generation_mode=mode, headers=headers or None, path_parameters=seeded))
    return st.one_of(strategies)


def fuzz_operation(target: Target, op, report: Report, *, max_examples: int, checks: list | None = None,
                   modes: tuple[GenerationMode, ...] = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)) -> None:
    """Runs `max_examples` cases of each mode; records every distinct failure instead of stopping at the first."""
    stats = report.stats[op.label]
    checks = checks or CHECKS

    def record(check: str, title: str, status: int | None, example: str) -> None:
        stats.failures[check] += 1
        report.findings.setdefault((op.label, check, title), Finding(op.label, check, title, status, example))

    for mode in modes:
        if mode is GenerationMode.NEGATIVE and not _can_negate(op):
            continue

        @settings(max_examples=max_examples, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
                  report_multiple_bugs=False)
        @given(case=_strategy(target, op, mode))
        def run(case) -> None:
            stats.requests += 1
            try:
                response = case.call(headers=target.auth)
            except Exception as exc:  # the app raised through the transport: a server error
                record("not_a_server_error", f"{type(exc).__name__}: {str(exc)[:120]}", None, _example(case, None))
                return
            stats.statuses[response.status_code] += 1
            try:
                case.validate_response(response, checks=checks, headers=target.auth)
            except FailureGroup as group:
                for failure in group.exceptions:
                    record(_check_name(failure), failure.title, response.status_code, _example(case, response))
            except Failure as failure:
                record(_check_name(failure), failure.title, response.status_code, _example(case, response))

        run()


def _can_negate(op) -> bool:
    """Whether the operation has any input that negative data could be generated for."""
    return bool(list(op.path_parameters) or list(op.query) or list(op.headers) or list(op.body))


def _check_name(failure: Failure) -> str:
    return failure.checks[0] if failure.checks else type(failure).__name__


def fuzz(target: Target, *, max_examples: int, checks: list | None = None, report: Report | None = None,
         on_operation=None) -> Report:
    """Fuzzes every operation; `on_operation(op, report)` is called after each (for progress output)."""
    report = report or Report()
    for op in operations(target):
        fuzz_operation(target, op, report, max_examples=max_examples, checks=checks)
        if on_operation is not None:
            on_operation(op, report)
    return report
