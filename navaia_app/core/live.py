"""Live updates: each write bumps a per-topic version in the same transaction; open pages poll the
versions every few seconds (one indexed read) and reload only what changed. Works across processes."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel

TOPICS = ("customers", "tickets", "bookings", "conversations", "campaigns")


class DataVersion(SQLModel, table=True):
    __tablename__ = "data_versions"

    topic: str = Field(primary_key=True, max_length=40)
    version: int = Field(default=0)


def bump(session: Session, *topics: str) -> None:
    """Mark topics as changed; commits with the caller's unit of work. An upsert, so two writers that
    are the first ever to touch a topic cannot collide."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for topic in topics:
        stmt = insert(DataVersion).values(topic=topic, version=1)
        stmt = stmt.on_conflict_do_update(index_elements=[DataVersion.topic],
                                          set_={"version": DataVersion.version + 1})
        session.exec(stmt)


def versions(session: Session, topics: tuple[str, ...] | list[str]) -> dict[str, int]:
    rows = session.exec(sa.select(DataVersion.topic, DataVersion.version).where(DataVersion.topic.in_(topics)))
    found = {topic: version for topic, version in rows}
    return {topic: found.get(topic, 0) for topic in topics}
