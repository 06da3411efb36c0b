"""Outgoing-webhook test helpers: a receiver of the test's own, an admin, and settings that keep every
request on this machine (loopback receivers allowed, no Redis: senders are run inline)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from navaia_app.core.db import session_scope
from tests.support.receiver import Receiver

DEAD_REDIS = "redis://127.0.0.1:6390/0"  # nothing listens there: kicks find no Redis and say so


@pytest.fixture
def hooks_env(app_env, set_env):
    set_env(REDIS_URL=DEAD_REDIS, OUTGOING_WEBHOOKS_ALLOW_PRIVATE="true")
    return app_env


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def admin(hooks_env, make_user):
    return make_user(email="admin-hooks@example.com", role="admin")


@pytest.fixture
def customer_id(hooks_env) -> int:
    from navaia_app.customers.models import CustomerIn
    from navaia_app.customers.service import create_customer

    with session_scope() as session:
        return create_customer(session=session, customer_in=CustomerIn(
            name="Ada Lovelace", phone="+12125550100", email="ada@example.com")).id


from tests.conversations.conftest import call_env, deliver, post_webhook  # noqa: E402,F401 (fixtures)
