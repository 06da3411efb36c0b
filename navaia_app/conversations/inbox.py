"""Group commit for the webhook inbox: every request of this process hands its event to one writer
thread, which inserts whatever is waiting in ONE transaction and commits, then hands the new rows to
the worker (one job, one Redis round trip) and wakes the requests. Each request is answered only
after its own row is durably stored; under load, one commit serves many requests instead of one.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from dataclasses import dataclass

import sqlalchemy as sa

from navaia_app.conversations import dispatch, webhook
from navaia_app.core.logging import get_logger

log = get_logger(__name__)

MAX_BATCH = 256
SQLITE_LOCK_WAIT = 10.0  # as the app's busy_timeout: longer means the database is stuck (503, retried)


@dataclass
class _Pending:
    event: webhook.InboundEvent
    media_path: str | None
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future


def _settle_all(outcomes: list[tuple[asyncio.Future, object, BaseException | None]]) -> None:
    for future, result, error in outcomes:
        if future.done():  # the request gave up (client gone)
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)


class InboxWriter:
    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[_Pending] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._conn = None  # the writer thread's own connection, kept between batches
        self._engine = None

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="navaia-inbox-writer", daemon=True)
                self._thread.start()

    async def store(self, event: webhook.InboundEvent, media_path: str | None = None) -> int | None:
        """The new inbox row's id once committed (and handed to the worker), or None for a duplicate.
        Raises what the database raised (the route answers 503)."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._ensure_thread()
        self._queue.put(_Pending(event, media_path, loop, future))
        return await future

    def _run(self) -> None:
        from navaia_app.core.db import get_engine

        while True:
            batch = [self._queue.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                ids = _store(self._connection(get_engine()), [(p.event, p.media_path) for p in batch])
            except Exception as exc:  # the whole transaction failed: every request hears it (503)
                self._drop_connection()
                self._wake(batch, [None] * len(batch), error=exc)
                continue
            new_ids = [event_id for event_id in ids if event_id is not None]
            try:
                dispatch.schedule_inbox_events(new_ids)  # logs and returns False when Redis is down
            except Exception as exc:  # stored is what counts; the sweeper hands them over later
                log.warning("webhook.enqueue_failed", count=len(new_ids), error=type(exc).__name__)
            self._wake(batch, ids)

    def _connection(self, engine):
        if self._conn is None or self._engine is not engine:  # first batch, or DATABASE_URL changed
            self._drop_connection()
            conn = engine.connect()
            if conn.dialect.name == "sqlite":
                # Its own connection (never back to the pool): it waits for the write lock in our loop
                # (_store), not in SQLite's busy handler.
                conn.detach()
                conn.exec_driver_sql("PRAGMA busy_timeout=0")
                conn.commit()
            self._conn, self._engine = conn, engine
        return self._conn

    def _drop_connection(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # already broken: the point is to stop using it
                pass
        self._conn = self._engine = None

    @staticmethod
    def _wake(batch: list[_Pending], results: list, error: BaseException | None = None) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list] = {}
        for pending, result in zip(batch, results):
            by_loop.setdefault(pending.loop, []).append((pending.future, result, error))
        for loop, outcomes in by_loop.items():  # one wake-up per event loop, not one per request
            try:
                loop.call_soon_threadsafe(_settle_all, outcomes)
            except RuntimeError:  # that event loop is closed: nobody is waiting any more
                pass


def _store(conn, events: list[tuple[webhook.InboundEvent, str | None]]) -> list[int | None]:
    """The inbox INSERT in one committed transaction. On SQLite, the write lock is taken first (BEGIN
    IMMEDIATE), asking again every half millisecond: SQLite's own busy handler sleeps 1, 2, 5 ... up to 100 ms
    between tries, so a webhook waiting behind the worker's batches would lose every race to the next batch."""
    if conn.dialect.name != "sqlite":
        return webhook.store_events_on(conn, events)
    with conn.begin():
        deadline = time.monotonic() + SQLITE_LOCK_WAIT
        while True:
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                break
            except sa.exc.OperationalError as exc:
                if "locked" not in str(exc.orig) or time.monotonic() > deadline:
                    raise
                time.sleep(0.0005)
        return webhook.insert_events(conn, events)


writer = InboxWriter()
