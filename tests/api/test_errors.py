"""How the API turns failures into answers: always JSON, never a success for what was not stored."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from navaia_app.core.api import DB, _describe
from navaia_app.core.http import create_api
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
