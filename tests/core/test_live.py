"""Live-update versions: every transaction that bumps a topic moves its version once, also when many writers
are the first to touch a topic; a rolled-back transaction moves nothing."""

from __future__ import annotations

import threading

from sqlmodel import Session

from navaia_app.core import live
from navaia_app.core.db import get_engine


def test_bumps_move_each_topic_once_per_transaction(session):
    assert live.versions(session, ("tickets", "bookings")) == {"tickets": 0, "bookings": 0}
    live.bump(session, "tickets")
    live.bump(session, "tickets", "bookings")
    assert live.versions(session, ("tickets", "bookings")) == {"tickets": 1, "bookings": 1}  # its own, pending
    with Session(get_engine()) as other:  # nobody else sees anything before the commit
        assert live.versions(other, ("tickets", "bookings")) == {"tickets": 0, "bookings": 0}
    session.commit()
    with Session(get_engine()) as other:
        assert live.versions(other, ("tickets", "bookings")) == {"tickets": 1, "bookings": 1}
    live.bump(session, "tickets")
    session.commit()
    assert live.versions(session, ("tickets", "bookings")) == {"tickets": 2, "bookings": 1}


def test_a_rolled_back_transaction_moves_nothing_and_a_savepoint_keeps_its_bump(session):
    live.bump(session, "customers")
    session.rollback()
    session.commit()
    assert live.versions(session, ("customers",)) == {"customers": 0}
    nested = session.begin_nested()
    live.bump(session, "customers")
    nested.rollback()
    session.commit()
    assert live.versions(session, ("customers",)) == {"customers": 1}


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
