"""\"Call now\" rings once (issue 10, item 7), on SQLite and PostgreSQL: simultaneous requests for one
customer (two clicks, two tabs, a retried API call) make one call; the others are told the customer is
already being called. The partial unique index uq_campaign_calls_one_open_call_now is the guarantee."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlmodel import select

from navaia_app.core.db import session_scope
from navaia_app.core.errors import Conflict
from navaia_app.outreach import calls
from navaia_app.outreach.models import CampaignCall


def test_simultaneous_call_now_requests_make_one_call(campaign_env, make_customers):
    (customer_id,) = make_customers(1)
    start = threading.Barrier(4)
    outcomes: list[str] = []

    def press() -> None:
        start.wait()
        try:
            with session_scope() as session:
                calls.call_customer_now(session=session, customer_id=customer_id)
            outcomes.append("called")
        except Conflict as exc:
            outcomes.append("conflict" if "already being called" in exc.message else exc.message)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcomes.append(f"{type(exc).__name__}: {exc}"[:160])

    threads = [threading.Thread(target=press) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sorted(outcomes) == ["called", "conflict", "conflict", "conflict"], outcomes
    with session_scope() as session:
        assert len(session.exec(select(CampaignCall).where(CampaignCall.customer_id == customer_id)).all()) == 1


def test_the_database_itself_refuses_a_second_open_call_now(campaign_env, make_customers):
    (customer_id,) = make_customers(1)
    with session_scope() as session:
        first = calls.call_customer_now(session=session, customer_id=customer_id)
    with pytest.raises(sa.exc.IntegrityError):  # a path that skipped the service's checks
        with session_scope() as session:
            session.add(CampaignCall(customer_id=customer_id, status="pending", purpose="call_now"))
            session.flush()
    with session_scope() as session:  # once the first is over, a new one may start
        session.get(CampaignCall, first.id).status = "completed"
    with session_scope() as session:
        assert calls.call_customer_now(session=session, customer_id=customer_id).id != first.id
