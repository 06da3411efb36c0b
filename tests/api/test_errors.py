"""How the API turns failures into answers: always JSON, never a success for what was not stored."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from navaia_app.core.api import DB, _describe
from navaia_app.api_app import create_api
from navaia_app.customers.models import Customer


@pytest.fixture
def app_with_test_routes(app_env):
    api = create_api()

    @api.post("/api/test/unstored")
    def unstored(session: DB) -> dict:
        # Only the commit (after the route returns) finds the duplicate phone.
        session.add(Customer(name="Twin", phone="+14155550123"))
        return {"ok": True}

    @api.get("/api/test/broken")
    def broken() -> dict:
        raise RuntimeError("a bug")

    return api


def test_a_failed_commit_is_never_answered_as_a_success(app_with_test_routes, session):
    session.add(Customer(name="Ada", phone="+14155550123"))
    session.commit()
    with TestClient(app_with_test_routes, raise_server_exceptions=False) as client:
        response = client.post("/api/test/unstored")
    assert response.status_code == 409
    assert "conflicts" in response.json()["detail"]
    session.expire_all()
    assert [c.name for c in session.exec(select(Customer))] == ["Ada"]


def test_an_unexpected_error_is_a_json_500(app_with_test_routes):
    with TestClient(app_with_test_routes, raise_server_exceptions=False) as client:
        response = client.get("/api/test/broken")
    assert response.status_code == 500
    assert response.json() == {"detail": "Something went wrong on our side; it has been logged."}
    assert "a bug" not in response.text


@pytest.mark.parametrize(("errors", "expected"), [
    ([{"type": "json_invalid", "loc": ("body", 17), "msg": "JSON decode error"}], "The request body is not valid JSON."),
    ([{"type": "missing", "loc": ("body",), "msg": "Field required"}], "The request body is required."),
    ([{"type": "missing", "loc": ("body", "name"), "msg": "Field required"},
      {"type": "less_than_equal", "loc": ("query", "limit"), "msg": "Input should be less than or equal to 200"}],
     "name: Field required; limit: Input should be less than or equal to 200"),
    ([{"type": "string_type", "loc": ("body", "items", 0, "name"), "msg": "Input should be a valid string"}],
     "items.0.name: Input should be a valid string"),
    ([], "The request is not valid."),
])
def test_validation_errors_are_described_in_one_sentence(errors, expected):
    assert _describe(errors) == expected


def test_a_body_that_is_not_utf8_is_a_json_422_not_a_400(api_client, auth_headers):
    # Found by tests/api/test_fuzz_openapi.py: FastAPI answered an undocumented 400.
    response = api_client.post("/api/v1/tickets", content=b'{"title": "\xff\xfe"}',
                               headers={**auth_headers, "Content-Type": "application/json"})
    assert response.status_code == 422
    assert "could not be read" in response.json()["detail"]
    # Other HTTP errors keep FastAPI's own answer.
    assert api_client.get("/api/v1/no-such-route").json() == {"detail": "Not Found"}


def test_the_schema_documents_the_errors_routes_really_answer(api_client):
    # Found by the fuzzer: 401/404/409 answers were undocumented, and 422 was documented with FastAPI's
    # list-shaped `detail` while every error here answers {"detail": "<sentence>", "errors": ...}.
    schema = api_client.get("/api/openapi.json").json()
    problem = {"$ref": "#/components/schemas/Problem"}
    assert set(schema["components"]["schemas"]["Problem"]["required"]) == {"detail"}
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    customer = schema["paths"]["/api/v1/customers/{customer_id}"]
    for method in ("get", "patch", "delete"):
        for status in ("401", "404", "422"):
            assert customer[method]["responses"][status]["content"]["application/json"]["schema"] == problem
    pause = schema["paths"]["/api/v1/campaigns/{campaign_id}/pause"]["post"]["responses"]
    assert {"401", "404", "409", "422"} <= set(pause)
    assert {"401", "409", "502"} <= set(schema["paths"]["/api/voice-agent/session"]["get"]["responses"])


@pytest.mark.parametrize("path", [
    "/api/v1/customers/2147483648", "/api/v1/tickets/99999999999999999999", "/api/v1/bookings/-2147483649",
    "/api/v1/campaigns/2147483648/calls", "/api/v1/conversations/2147483648",
    "/api/v1/conversations?offset=2147483648", "/api/v1/tickets?customer_id=9223372036854775808",
    "/api/v1/campaigns?offset=99999999999999999999999",
])
def test_an_id_or_offset_no_integer_column_can_hold_is_a_422(api_client, auth_headers, path):
    # Found by the fuzzer: PostgreSQL raised "integer out of range" (SQLite an OverflowError): a 500.
    response = api_client.get(path, headers=auth_headers)
    assert response.status_code == 422, response.text


def test_a_broken_multipart_form_is_a_json_422_not_a_400(api_client, auth_headers):
    # Found by the fuzzer: Starlette's "Invalid multipart data." was an undocumented 400.
    response = api_client.post("/api/v1/customers/import", content=b"[false]",
                               headers={**auth_headers, "Content-Type": "multipart/form-data; boundary=x"})
    assert response.status_code == 422, response.text
    assert "could not be read" in response.json()["detail"]


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/api/v1/tickets", {"title": "Printer\x00jams"}),
    ("GET", "/api/v1/conversations?external_id=conv%00", None),
    ("GET", "/api/v1/customers?q=Ada%00", None),
])
def test_a_nul_character_is_never_a_500(api_client, auth_headers, database_url, method, path, body):
    # Found by bench/fuzz_api.py --pg: PostgreSQL refuses NUL in text ("cannot contain NUL (0x00) bytes"),
    # which was a 500; SQLite stores it.
    response = api_client.request(method, path, json=body, headers=auth_headers)
    if database_url.startswith("postgresql"):
        assert response.status_code == 422, response.text
        assert "NUL character" in response.json()["detail"]
    else:
        assert response.status_code in (200, 201), response.text
