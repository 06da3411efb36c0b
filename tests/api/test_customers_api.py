"""Customers through the REST API, plus the operational routes (health, OpenAPI, docs)."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from navaia_app.customers.models import Customer

CONTRACT_FIELDS = {"id", "name", "phone", "email", "timezone", "do_not_call", "created_at"}


def _count(session) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(Customer)).one()


def _create(api_client, headers, **fields):
    fields.setdefault("name", "Ada Lovelace")
    fields.setdefault("phone", "(415) 555-0123")
    response = api_client.post("/api/v1/customers", json=fields, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_crud(api_client, auth_headers, session):
    created = _create(api_client, auth_headers, name="Ada Lovelace", phone="(415) 555-0123",
                      email="Ada@Example.com", timezone="Europe/London")
    assert CONTRACT_FIELDS <= set(created)
    assert (created["name"], created["phone"], created["email"], created["timezone"], created["do_not_call"]) == (
        "Ada Lovelace", "+14155550123", "ada@example.com", "Europe/London", False)
    assert created["created_at"].endswith(("Z", "+00:00"))
    row = session.get(Customer, created["id"])
    assert row.phone == "+14155550123"

    fetched = api_client.get(f"/api/v1/customers/{created['id']}", headers=auth_headers)
    assert fetched.status_code == 200 and fetched.json() == created

    patched = api_client.patch(f"/api/v1/customers/{created['id']}", headers=auth_headers,
                               json={"do_not_call": True, "email": None})
    assert patched.status_code == 200
    assert (patched.json()["do_not_call"], patched.json()["email"], patched.json()["name"]) == (True, None, "Ada Lovelace")
    session.expire_all()
    assert (row.do_not_call, row.email) == (True, None)

    deleted = api_client.delete(f"/api/v1/customers/{created['id']}", headers=auth_headers)
    assert deleted.status_code == 204 and deleted.content == b""
    assert _count(session) == 0
    assert api_client.get(f"/api/v1/customers/{created['id']}", headers=auth_headers).status_code == 404


@pytest.mark.parametrize(("method", "body"), [("GET", None), ("PATCH", {"name": "X"}), ("DELETE", None)])
def test_unknown_id_is_404(api_client, auth_headers, method, body):
    response = api_client.request(method, "/api/v1/customers/424242", headers=auth_headers, json=body)
    assert response.status_code == 404
    assert response.json()["detail"] == "Customer 424242 not found."


def test_non_numeric_id_is_422(api_client, auth_headers):
    response = api_client.get("/api/v1/customers/abc", headers=auth_headers)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("customer_id:")


def test_list_paginates_and_filters(api_client, auth_headers):
    for n in range(12):
        _create(api_client, auth_headers, name=f"Customer {n:02d}", phone=f"415 555 01{n:02d}",
                email=f"c{n:02d}@example.com")
    _create(api_client, auth_headers, name="Grace Hopper", phone="+44 20 7946 0958", email="grace@navy.example.org")

    page = api_client.get("/api/v1/customers", params={"limit": 5, "offset": 10}, headers=auth_headers)
    assert page.status_code == 200
    body = page.json()
    assert {"items", "total"} <= set(body)
    assert body["total"] == 13
    assert [c["name"] for c in body["items"]] == ["Customer 10", "Customer 11", "Grace Hopper"]
    assert all(CONTRACT_FIELDS <= set(item) for item in body["items"])

    def names(**params):
        result = api_client.get("/api/v1/customers", params=params, headers=auth_headers).json()
        if "limit" not in params:
            assert result["total"] == len(result["items"])
        return [c["name"] for c in result["items"]]

    assert names(q="hopper") == ["Grace Hopper"]
    assert names(q="navy.example") == ["Grace Hopper"]
    assert names(q="555-0107") == ["Customer 07"]
    assert names(phone="(415) 555-0103") == ["Customer 03"]
    assert names(phone="+14155550103") == ["Customer 03"]
    assert names(email="C04@example.com") == ["Customer 04"]
    assert names(q="customer", email="c05@example.com") == ["Customer 05"]
    assert names(q="grace", email="c05@example.com") == []
    assert names(sort="name", desc="true", limit=2) == ["Grace Hopper", "Customer 11"]


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 100000}, {"offset": -1}, {"sort": "password"},
                                    {"limit": "ten"}, {"phone": "12"}])
def test_bad_list_parameters_are_422(api_client, auth_headers, params):
    response = api_client.get("/api/v1/customers", params=params, headers=auth_headers)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail
    assert next(iter(params)) in detail.lower()


@pytest.mark.parametrize(("body", "fields"), [
    ({"name": "Ada", "phone": "12"}, {"phone"}),
    ({"name": "", "phone": "(415) 555-0123"}, {"name"}),
    ({"name": "Ada", "phone": "(415) 555-0123", "email": "nope"}, {"email"}),
    ({"name": "Ada", "phone": "(415) 555-0123", "timezone": "Mars/Base"}, {"timezone"}),
    ({"name": " ", "phone": "x", "email": "nope", "timezone": "Nowhere"}, {"name", "phone", "email", "timezone"}),
])
def test_invalid_customer_is_422_with_clear_detail_and_nothing_written(api_client, auth_headers, session, body,
                                                                       fields):
    response = api_client.post("/api/v1/customers", json=body, headers=auth_headers)
    assert response.status_code == 422
    payload = response.json()
    assert isinstance(payload["detail"], str) and payload["detail"]
    assert set(payload["errors"]) == fields
    assert _count(session) == 0


@pytest.mark.parametrize(("body", "detail"), [
    ({"phone": "(415) 555-0123"}, "name: Field required"),
    ({"name": "Ada", "phone": "(415) 555-0123", "colour": "blue"}, "colour: Extra inputs are not permitted"),
    ({"name": "Ada", "phone": 4155550123}, "phone: Input should be a valid string"),
])
def test_wrongly_shaped_customer_is_422(api_client, auth_headers, session, body, detail):
    response = api_client.post("/api/v1/customers", json=body, headers=auth_headers)
    assert response.status_code == 422
    assert response.json()["detail"] == detail
    assert _count(session) == 0


def test_malformed_json_is_a_clear_4xx_and_nothing_written(api_client, auth_headers, session):
    response = api_client.post("/api/v1/customers", content=b'{"name": "Ada", "phone": "(415) 555-01',
                               headers={**auth_headers, "Content-Type": "application/json"})
    assert 400 <= response.status_code < 500
    assert response.json()["detail"] == "The request body is not valid JSON."
    assert _count(session) == 0


def test_duplicate_phone_is_409_naming_the_phone(api_client, auth_headers, session):
    first = _create(api_client, auth_headers, name="Ada", phone="(415) 555-0123")
    response = api_client.post("/api/v1/customers", json={"name": "Bob", "phone": "+1 415 555 0123"},
                               headers=auth_headers)
    assert response.status_code == 409
    assert "phone" in response.json()["detail"] and "+14155550123" in response.json()["detail"]
    assert response.json()["errors"] == {"phone": response.json()["detail"]}
    assert _count(session) == 1

    other = _create(api_client, auth_headers, name="Bob", phone="415 555 0124")
    response = api_client.patch(f"/api/v1/customers/{other['id']}", json={"phone": "4155550123"},
                                headers=auth_headers)
    assert response.status_code == 409
    session.expire_all()
    assert session.get(Customer, other["id"]).phone == "+14155550124"
    assert session.get(Customer, first["id"]).name == "Ada"


def test_invalid_patch_is_422_and_changes_nothing(api_client, auth_headers, session):
    created = _create(api_client, auth_headers)
    response = api_client.patch(f"/api/v1/customers/{created['id']}", json={"name": "Ada K", "email": "nope"},
                                headers=auth_headers)
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"email"}
    session.expire_all()
    assert session.get(Customer, created["id"]).name == "Ada Lovelace"


def test_csv_import_through_the_api(api_client, auth_headers, session):
    _create(api_client, auth_headers, name="Existing", phone="415 555 0199")
    csv_text = "Name,Phone\nAda,(415) 555-0101\nBad,123\nExisting again,+1 415 555 0199\n"
    response = api_client.post("/api/v1/customers/import", headers=auth_headers,
                               files={"file": ("customers.csv", csv_text.encode(), "text/csv")})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["created"] == 1
    assert [s["row"] for s in body["skipped"]] == [3, 4]
    assert _count(session) == 2


def test_csv_import_of_an_unusable_file_is_422(api_client, auth_headers, session):
    response = api_client.post("/api/v1/customers/import", headers=auth_headers,
                               files={"file": ("customers.csv", b"email\nada@example.com\n", "text/csv")})
    assert response.status_code == 422
    assert "name, phone" in response.json()["detail"]
    assert _count(session) == 0


# --- operations ---------------------------------------------------------------------------------


def test_health_reports_database_and_redis(api_client):
    response = api_client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["redis"] in ("ok", "down")


def test_health_is_503_when_the_database_is_down(api_client, set_env):
    set_env(DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    response = api_client.get("/api/health")
    assert response.status_code == 503
    assert response.json()["database"] == "down"


def test_a_route_needing_the_database_is_503_when_it_is_down(api_client, auth_headers, set_env):
    set_env(DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    response = api_client.get("/api/v1/customers", headers=auth_headers)
    assert response.status_code == 503
    assert "database" in response.json()["detail"].lower()


def test_openapi_and_docs(api_client):
    schema = api_client.get("/api/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert schema.json()["openapi"].startswith("3.")
    assert {"/api/v1/auth/token", "/api/v1/customers", "/api/v1/customers/{customer_id}"} <= set(paths)
    docs = api_client.get("/api/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower() and "/api/openapi.json" in docs.text


def test_unknown_api_route_is_json_404(api_client):
    response = api_client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_csv_import_larger_than_20_mb_is_refused(api_client, auth_headers, session):
    big = b"name,phone\n" + b"Ada,4155550101\n" * (20 * 1024 * 1024 // 15 + 10)
    response = api_client.post("/api/v1/customers/import", headers=auth_headers,
                               files={"file": ("customers.csv", big, "text/csv")})
    # The size guard in front of every route refuses it before the body is read.
    assert response.status_code == 413
    assert response.json()["detail"] == "The request body is larger than 20 MB."
    assert _count(session) == 0


def test_csv_import_that_is_not_readable_csv_is_422(api_client, auth_headers, session):
    # Found by tests/api/test_fuzz_openapi.py: a lone carriage return in the header row was a 500 (csv.Error).
    response = api_client.post("/api/v1/customers/import", headers=auth_headers,
                               files={"file": ("customers.csv", b"na\rme,phone\nAda,+14155550123\n", "text/csv")})
    assert response.status_code == 422, response.text
    assert "not readable CSV" in response.json()["detail"]
