"""Live-update versions: every bump counts, also when many writers are the first to touch a topic."""

from __future__ import annotations

import threading

from sqlmodel import Session

from navaia_app.core import live
from navaia_app.core.db import get_engine


def test_bump_counts_and_versions_reads(session):
    assert live.versions(session, ("tickets", "bookings")) == {"tickets": 0, "bookings": 0}
    live.bump(session, "tickets")
    live.bump(session, "tickets", "bookings")
    session.commit()
    assert live.versions(session, ("tickets", "bookings")) == {"tickets": 2, "bookings": 1}


def test_concurrent_first_bumps_do_not_collide(session):
    errors, count = [], 8
    barrier = threading.Barrier(count)

    def writer():
        try:
            with Session(get_engine()) as own:
                barrier.wait()
                live.bump(own, "campaigns")
                own.commit()
        except Exception as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert live.versions(session, ("campaigns",)) == {"campaigns": count}
