"""Live updates: each write bumps a per-topic version in the same transaction; open pages poll the
versions every few seconds (one indexed read) and reload only what changed. Works across processes."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel

TOPICS = ("customers", "tickets", "bookings", "conversations", "campaigns")


class DataVersion(SQLModel, table=True):
    __tablename__ = "data_versions"

    topic: str = Field(primary_key=True, max_length=40)
    version: int = Field(default=0)


_PENDING = "navaia_live_topics"


def bump(session: Session, *topics: str) -> None:
    """Mark topics as changed; commits with the caller's unit of work.

    The versions are written once per topic just before the transaction commits, whatever the number of
    bumps in it: each topic's row is a hot spot that every writer updates, and a row lock taken at the
    first change and held until the commit would make concurrent workers (and a batch of webhook events)
    wait on each other. A bump in a savepoint that is rolled back still counts (an extra reload, harmless).
    An upsert, so two writers that are the first ever to touch a topic cannot collide."""
    session.connection()  # in a transaction from here on, so that its rollback forgets the bump
    session.info.setdefault(_PENDING, set()).update(topics)


@sa_event.listens_for(OrmSession, "before_commit")
def _write_versions(session: Session) -> None:
    if _PENDING not in session.info or session.in_nested_transaction():  # nothing, or a savepoint's release
        return
    topics = sorted(session.info.pop(_PENDING, ()))  # always in the same order: no deadlock between writers
    if not topics:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for topic in topics:
        stmt = insert(DataVersion).values(topic=topic, version=1)
        stmt = stmt.on_conflict_do_update(index_elements=[DataVersion.topic],
                                          set_={"version": DataVersion.version + 1})
        session.exec(stmt)


@sa_event.listens_for(OrmSession, "after_soft_rollback")
def _forget_versions(session: Session, previous) -> None:
    """The whole transaction was rolled back: nothing changed, nothing to tell (a savepoint's rollback keeps
    them)."""
    if not previous.nested and _PENDING in session.info:
        session.info.pop(_PENDING, None)


def versions(session: Session, topics: tuple[str, ...] | list[str]) -> dict[str, int]:
    """Each topic's version; in a transaction that bumped a topic, the version its commit will write."""
    rows = session.exec(sa.select(DataVersion.topic, DataVersion.version).where(DataVersion.topic.in_(topics)))
    found = {topic: version for topic, version in rows}
    pending = session.info.get(_PENDING, ())
    return {topic: found.get(topic, 0) + (topic in pending) for topic in topics}
