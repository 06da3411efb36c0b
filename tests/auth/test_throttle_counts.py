"""Sign-in failure counters are updated atomically (issue 10, item 8): failures that arrive together all
count, on SQLite and PostgreSQL, so a burst of guesses cannot slip under the lock."""

from __future__ import annotations

import threading

from sqlmodel import Session

from navaia_app.auth import service
from navaia_app.auth.models import LoginThrottle
from navaia_app.core.db import engine_for
from navaia_app.core.types import utcnow

THREADS, ROUNDS = 8, 3


def test_simultaneous_failures_all_count(app_env, database_url):
    keys = [("acct:target@example.com", service.ACCOUNT_FREE_FAILURES, service.ACCOUNT_MAX_LOCK),
            ("client:203.0.113.7", service.CLIENT_FREE_FAILURES, service.CLIENT_MAX_LOCK)]
    errors: list[str] = []

    def fail_once(start: threading.Barrier) -> None:
        start.wait()
        try:
            with Session(engine_for(database_url)) as db:
                service._record_failure(db, keys, utcnow())
                db.commit()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(f"{type(exc).__name__}: {exc}"[:200])

    for _ in range(ROUNDS):
        start = threading.Barrier(THREADS)
        threads = [threading.Thread(target=fail_once, args=(start,)) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

    assert errors == []
    with Session(engine_for(database_url)) as db:
        account = db.get(LoginThrottle, keys[0][0])
        client = db.get(LoginThrottle, keys[1][0])
        assert (account.failures, client.failures) == (THREADS * ROUNDS, THREADS * ROUNDS)
        assert account.locked_until is not None and account.locked_until > utcnow()  # 24 >= 5: locked
        assert client.locked_until is not None  # 24 >= 20
