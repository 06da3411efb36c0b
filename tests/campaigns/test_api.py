"""Campaigns through the REST API (the contract's fields and routes)."""

from __future__ import annotations

from .conftest import ALL_DAYS

CAMPAIGN_FIELDS = {"id", "name", "status", "counts", "calls_per_second", "max_concurrent_calls", "max_attempts",
                   "calling_window_start", "calling_window_end"}
CALL_FIELDS = {"id", "campaign_id", "customer_id", "status", "attempts", "last_outcome", "provider_call_id",
               "conversation_id"}


def _body(**fields):
    return {"name": "Renewals", "calls_per_second": 2, "max_concurrent_calls": 3, "max_attempts": 2,
            "calling_window_start": "00:00", "calling_window_end": "00:00", "calling_days": ALL_DAYS, **fields}


def test_crud_and_lifecycle(api_client, auth_headers, make_customers):
    ids = make_customers(3, dnc={2})
    created = api_client.post("/api/v1/campaigns", json=_body(customer_ids=ids[:2] + [ids[2]]), headers=auth_headers)
    assert created.status_code == 201, created.text
    campaign = created.json()
    assert CAMPAIGN_FIELDS <= set(campaign) and campaign["status"] == "draft"
    assert campaign["audience"] == {"type": "customers", "customer_ids": sorted(ids)}
    cid = campaign["id"]

    patched = api_client.patch(f"/api/v1/campaigns/{cid}", json={"name": "Renewals 2026", "calls_per_second": 3},
                               headers=auth_headers)
    assert patched.status_code == 200 and patched.json()["name"] == "Renewals 2026"
    listed = api_client.get("/api/v1/campaigns?status=draft", headers=auth_headers).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == cid

    started = api_client.post(f"/api/v1/campaigns/{cid}/start", headers=auth_headers)
    assert started.status_code == 200, started.text
    assert started.json()["status"] == "running"
    assert started.json()["counts"]["pending"] == 2 and started.json()["counts"]["skipped"] == 1
    assert api_client.post(f"/api/v1/campaigns/{cid}/start", headers=auth_headers).status_code == 409
    assert api_client.patch(f"/api/v1/campaigns/{cid}", json={"name": "x"}, headers=auth_headers).status_code == 409
    assert api_client.delete(f"/api/v1/campaigns/{cid}", headers=auth_headers).status_code == 409

    assert api_client.post(f"/api/v1/campaigns/{cid}/pause", headers=auth_headers).json()["status"] == "paused"
    assert api_client.post(f"/api/v1/campaigns/{cid}/resume", headers=auth_headers).json()["status"] == "running"
    cancelled = api_client.post(f"/api/v1/campaigns/{cid}/cancel", headers=auth_headers).json()
    assert cancelled["status"] == "cancelled" and cancelled["counts"]["cancelled"] == 2

    calls = api_client.get(f"/api/v1/campaigns/{cid}/calls?limit=10", headers=auth_headers).json()
    assert calls["total"] == 3 and CALL_FIELDS <= set(calls["items"][0])
    skipped = api_client.get(f"/api/v1/campaigns/{cid}/calls?status=skipped", headers=auth_headers).json()
    assert [c["customer_id"] for c in skipped["items"]] == [ids[2]]
    assert skipped["items"][0]["skip_reason"] == "do not call"

    copy = api_client.post(f"/api/v1/campaigns/{cid}/duplicate", headers=auth_headers)
    assert copy.status_code == 201 and copy.json()["status"] == "draft"
    assert api_client.delete(f"/api/v1/campaigns/{copy.json()['id']}", headers=auth_headers).status_code == 204


def test_omitted_customer_ids_means_everyone(api_client, auth_headers, make_customers):
    make_customers(4)
    cid = api_client.post("/api/v1/campaigns", json=_body(), headers=auth_headers).json()["id"]
    started = api_client.post(f"/api/v1/campaigns/{cid}/start", headers=auth_headers).json()
    assert started["total_calls"] == 4 and started["snapshot"]["included"] == 4


def test_bad_input_and_no_token(api_client, auth_headers):
    bad = api_client.post("/api/v1/campaigns", json=_body(calling_window_start="9am", calls_per_second=0),
                          headers=auth_headers)
    assert bad.status_code == 422 and set(bad.json()["errors"]) >= {"calling_window_start", "calls_per_second"}
    assert api_client.post("/api/v1/campaigns", json={"nme": "x"}, headers=auth_headers).status_code == 422
    assert api_client.get("/api/v1/campaigns").status_code == 401
    assert api_client.post("/api/v1/customers/1/call").status_code == 401
    assert api_client.get("/api/v1/campaigns/999", headers=auth_headers).status_code == 404
    assert api_client.get("/api/v1/campaigns/999/calls", headers=auth_headers).status_code == 404


def test_call_a_customer_now(api_client, auth_headers, make_customers):
    ok, dnc = make_customers(2, dnc={1})
    response = api_client.post(f"/api/v1/customers/{ok}/call", headers=auth_headers)
    assert response.status_code == 202, response.text
    assert response.json()["campaign_id"] is None and response.json()["status"] == "pending"
    assert api_client.post(f"/api/v1/customers/{ok}/call", headers=auth_headers).status_code == 409
    refused = api_client.post(f"/api/v1/customers/{dnc}/call", headers=auth_headers)
    assert refused.status_code == 409 and "do-not-call" in refused.json()["detail"]
    assert api_client.post("/api/v1/customers/424242/call", headers=auth_headers).status_code == 404


def test_csv_audience_upload(api_client, auth_headers, make_customers):
    cid = api_client.post("/api/v1/campaigns", json=_body(), headers=auth_headers).json()["id"]
    csv_text = "name,phone,plan\nAda,+14155550123,gold\nBob,+14155550124,silver\n"
    uploaded = api_client.post(f"/api/v1/campaigns/{cid}/audience/csv", headers=auth_headers,
                               files={"file": ("list.csv", csv_text, "text/csv")})
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["audience"] == {"type": "csv", "file_name": "list.csv", "rows": 2, "columns": ["plan"],
                                           "problems": 0}
    started = api_client.post(f"/api/v1/campaigns/{cid}/start", headers=auth_headers).json()
    assert started["snapshot"]["created_customers"] == 2 and started["total_calls"] == 2
    calls = api_client.get(f"/api/v1/campaigns/{cid}/calls", headers=auth_headers).json()["items"]
    assert sorted(c["variables"]["plan"] for c in calls) == ["gold", "silver"]


def test_a_customer_id_no_integer_column_can_hold_is_a_422(api_client, auth_headers, make_customers):
    # Found by tests/api/test_fuzz_openapi.py: a 500 ("integer out of range") on PostgreSQL.
    response = api_client.post("/api/v1/campaigns", json={"name": "Spring", "customer_ids": [2**31]},
                               headers=auth_headers)
    assert response.status_code == 422, response.text
    assert api_client.post(f"/api/v1/customers/{2**31}/call", headers=auth_headers).status_code == 422


def test_a_csv_audience_that_is_not_readable_csv_is_a_422(api_client, auth_headers, make_customers):
    # Found by tests/api/test_fuzz_openapi.py: a lone carriage return in the header row was a 500 (csv.Error).
    cid = api_client.post("/api/v1/campaigns", json=_body(), headers=auth_headers).json()["id"]
    uploaded = api_client.post(f"/api/v1/campaigns/{cid}/audience/csv", headers=auth_headers,
                               files={"file": ("list.csv", "na\rme,phone\nAda,+14155550123\n", "text/csv")})
    assert uploaded.status_code == 422, uploaded.text
    assert "not readable CSV" in uploaded.json()["detail"]


def test_csv_customer_ids_that_name_no_row_are_problems_not_errors(api_client, auth_headers, make_customers):
    # int("\u00b2") raised (isdigit() is true for it), and a huge id overflowed PostgreSQL's integer column.
    (known,) = make_customers(1)
    cid = api_client.post("/api/v1/campaigns", json=_body(), headers=auth_headers).json()["id"]
    csv_text = f"customer_id\n{known}\n\u00b2\n{2**31}\n{'9' * 40}\n"
    uploaded = api_client.post(f"/api/v1/campaigns/{cid}/audience/csv", headers=auth_headers,
                               files={"file": ("list.csv", csv_text, "text/csv")})
    assert uploaded.status_code == 200, uploaded.text
    assert (uploaded.json()["audience"]["rows"], uploaded.json()["audience"]["problems"]) == (1, 3)
