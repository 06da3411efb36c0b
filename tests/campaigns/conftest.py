"""Campaign test helpers: customers in several zones, and settings for fast simulated calls."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from navaia_app.core.db import session_scope
from navaia_app.customers.models import CustomerIn
from navaia_app.customers.service import create_customer

DEAD_REDIS = "redis://127.0.0.1:6390/0"  # nothing listens there: kicks find no Redis and say so
ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@pytest.fixture
def campaign_env(app_env, set_env):
    """The test database, no Redis (the dispatcher is run inline), and a fast simulated carrier."""
    set_env(REDIS_URL=DEAD_REDIS, TELEPHONY_PROVIDER="simulated", SIMULATED_TIME_SCALE="0.01",
            SIMULATED_CALLS_PER_SECOND="100",
            SIMULATED_OUTCOMES="completed:70,no_answer:12,busy:8,voicemail:7,failed:3")
    return app_env


@pytest.fixture
def make_customers(campaign_env) -> Callable[..., list[int]]:
    """make_customers(n, timezone=..., dnc=set of indexes) -> ids (committed)."""
    counter = {"n": 0}

    def _make(count: int, *, timezone: str | None = "America/New_York", dnc: set[int] = frozenset(),
              prefix: str = "+1212555") -> list[int]:
        ids = []
        with session_scope() as session:
            for i in range(count):
                n = counter["n"]
                counter["n"] += 1
                customer = create_customer(session=session, customer_in=CustomerIn(
                    name=f"Customer {n}", phone=f"{prefix}{n:04d}", timezone=timezone, do_not_call=i in dnc))
                ids.append(customer.id)
        return ids

    return _make
