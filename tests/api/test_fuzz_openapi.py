"""Schemathesis fuzzes every operation of /api/openapi.json, signed in as an admin, on SQLite and PostgreSQL.

Each operation gets a few positive (schema-conforming) and negative (schema-violating) cases, generated
derandomized so a run is the same on every machine and in CI. No answer may be a 5xx, and every answer
must be documented: its status code, its content type, its headers and its body schema. The operations
left out, and why, are in tests/api/openapi_fuzz.py (EXCLUDED); bench/fuzz_api.py runs the same fuzzer
deeper.
"""

from __future__ import annotations

import pytest

from tests.api import openapi_fuzz

# Small enough that the file runs in well under 90 s for both databases on a 2-core machine.
MAX_EXAMPLES = 8

pytestmark = pytest.mark.slow


@pytest.fixture
def fuzz_target(database_url, set_env) -> openapi_fuzz.Target:
    set_env(DATABASE_URL=database_url, **openapi_fuzz.FUZZ_ENV)
    return openapi_fuzz.prepare()


def test_every_operation_answers_as_documented(fuzz_target):
    from fastapi.testclient import TestClient

    # The fuzzer hits existing rows too (half the cases of an operation with an id), not only 404s.
    with TestClient(fuzz_target.app) as client:
        for kind, path in (("customer", "customers"), ("ticket", "tickets"), ("booking", "bookings"),
                           ("campaign", "campaigns"), ("conversation", "conversations")):
            response = client.get(f"/api/v1/{path}/{fuzz_target.ids[kind]}", headers=fuzz_target.auth)
            assert response.status_code == 200, (kind, response.text)

    report = openapi_fuzz.fuzz(fuzz_target, max_examples=MAX_EXAMPLES)

    fuzzed = set(report.stats)
    assert len(fuzzed) >= 40, f"the schema lost operations: {sorted(fuzzed)}"
    assert report.requests > 10 * len(fuzzed)
    assert not report.findings, (
        f"{len(report.findings)} distinct failure(s) in {report.requests} requests:\n{report.describe_findings()}")
