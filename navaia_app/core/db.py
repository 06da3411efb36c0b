"""The database engine and sessions (one engine per process and URL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import zlib

import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Session

from navaia_app.core.errors import Conflict, NotFound
from navaia_app.core.settings import get_settings


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets readers run beside the writer; NORMAL sync is safe with WAL and far faster.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


@lru_cache(maxsize=8)
def engine_for(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # A server that does not answer must not hang a request (or `make run`) for minutes: give up after
    # DATABASE_CONNECT_TIMEOUT seconds unless the URL says otherwise.
    connect_args = {} if "connect_timeout" in url else {"connect_timeout": get_settings().database_connect_timeout}
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, pool_recycle=1800,
                            connect_args=connect_args)


def lock_until_commit(session: Session, name: str, *, sqlite_table: str) -> None:
    """Serialize transactions that take the lock `name` until they end (check-then-insert made atomic).

    PostgreSQL: a transaction-scoped advisory lock. SQLite has one writer at a time: a write (even one
    that changes no row, on `sqlite_table`) takes that lock now, before the caller's check, instead of at
    its insert, when another writer may have checked too."""
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(name.encode()) - 2**31  # fits a signed 32-bit int
        session.exec(sa.select(sa.func.pg_advisory_xact_lock(key)))
    else:
        session.exec(sa.text(f"UPDATE {sqlite_table} SET rowid = rowid WHERE 1 = 0"))


def get_engine() -> sa.Engine:
    return engine_for(get_settings().database_url)


@contextmanager
def committed(session: Session) -> Iterator[Session]:
    """Commits `session` when the block ends cleanly, rolls it back (and re-raises) otherwise; the caller
    closes it."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


@contextmanager
def session_scope() -> Iterator[Session]:
    """A unit of work: commits when the block ends cleanly, rolls back otherwise."""
    session = Session(get_engine(), expire_on_commit=False)
    try:
        with committed(session):
            yield session
    finally:
        session.close()


def begin_now(session: Session) -> None:
    """Open the database transaction now, so that savepoints nest inside it.

    On SQLite, Python's driver starts a transaction only before an INSERT, UPDATE or DELETE; a SAVEPOINT
    as the first statement starts one of its own, and its RELEASE then commits everything so far. A unit
    of work that runs several savepoints and must commit them together (or not at all) calls this first."""
    conn = session.connection()
    if conn.dialect.name == "sqlite" and not conn.connection.dbapi_connection.in_transaction:
        conn.exec_driver_sql("BEGIN")


def savepoint(session: Session):
    """`session.begin_nested()` inside a real transaction (see begin_now): what happens in the block is undone
    alone when it raises, and otherwise commits with the rest of the unit of work, never before."""
    begin_now(session)
    return session.begin_nested()


def add_unique(session: Session, row, *, conflict: str, field: str):
    """Add `row` and flush it; a unique constraint that a concurrent insert won is a Conflict on `field` with
    the message `conflict`, not a 500. Only this insert is undone (a savepoint): what the caller's
    transaction did before stays, so a batch of work in one transaction loses nothing else."""
    try:
        with savepoint(session):
            session.add(row)
    except sa.exc.IntegrityError as exc:
        raise Conflict(conflict, field=field) from exc
    return row


def get_or_not_found(session: Session, model: type, record_id: int, noun: str, *, lock: bool = False):
    """The row of `model` with this primary key. Raises NotFound ("<noun> <id> not found.").

    `lock`: the row is read afresh and locked until the unit of work ends (PostgreSQL), so two changes to it
    apply one after the other."""
    row = (session.get(model, record_id, with_for_update=True, populate_existing=True) if lock
           else session.get(model, record_id))
    if row is None:
        raise NotFound(f"{noun} {record_id} not found.")
    return row


# A feature may point at a record of a feature above it (a booking at the call that made it) without
# importing that feature: these two reach the other table by name, as its foreign keys do.


def row_exists(session: Session, table: str, record_id: int) -> bool:
    """Whether `table` has a row with this id."""
    rows = sa.table(table, sa.column("id"))
    return session.exec(sa.select(rows.c.id).where(rows.c.id == record_id)).first() is not None


def clear_references(session: Session, table: str, column: str, record_id: int) -> None:
    """Set `table.column` to NULL wherever it points at `record_id` (a record about to be deleted)."""
    rows = sa.table(table, sa.column(column))
    session.exec(sa.update(rows).where(rows.c[column] == record_id).values({column: None}))


def ping_database() -> bool:
    try:
        with get_engine().connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return True
    except Exception:
        return False
