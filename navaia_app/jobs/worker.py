"""The background worker: RQ's worker (jobs in its own process) and its scheduler, made to outlive Redis outages.

`make run` starts it beside the web app. When Redis is not answering it says so and keeps
trying (with backoff) instead of exiting, so the app keeps going and jobs resume on their own
once Redis is back. SIGTERM or SIGINT (Ctrl-C) stop it cleanly: a running job is allowed to
finish (a second signal forces it, as RQ does).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Sequence

import redis
from rq import SimpleWorker
from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT
from rq.scheduler import RQScheduler
from rq.worker import DequeueStrategy
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_never,
    stop_when_event_set,
    wait_exponential,
)

from navaia_app.core.logging import configure_logging, get_logger, log_scope
from navaia_app.core.queues import QUEUE_NAMES, describe_redis
from navaia_app.core.settings import get_settings
from navaia_app.jobs.periodic import periodic_jobs, run_startup_jobs, schedule_periodic_jobs

log = get_logger(__name__)

RETRY_MIN_SECONDS, RETRY_MAX_SECONDS = 1, 30
BURST_ATTEMPTS = 3  # a one-off drain (`worker --burst`) gives up on a dead Redis instead of waiting forever


class ResilientScheduler(RQScheduler):
    """RQ's scheduler process, which waits out a Redis outage instead of dying with a traceback."""

    def work(self):
        wait = RETRY_MIN_SECONDS
        while True:
            try:
                return super().work()
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                if self._stop_requested:
                    return None
                log.warning(f"background jobs unavailable: the scheduler lost Redis; retrying in {wait}s",
                            error=type(exc).__name__)
                deadline = time.monotonic() + wait
                while not self._stop_requested and time.monotonic() < deadline:
                    time.sleep(0.2)  # short naps: the worker waits for this process when it stops
                wait = min(wait * 2, RETRY_MAX_SECONDS)


class NavaiaWorker(SimpleWorker):
    """RQ's worker, with a scheduler that outlives Redis outages, keeping its periodic jobs booked.

    Jobs run in the worker's own process (RQ's SimpleWorker), not in a process forked per job: a fork
    costs far more than processing one post-call event (measured: 3.4 events/s forking, 54/s not),
    and the database connections stay warm between jobs. A job that crashes the process is what a
    killed worker is: the database is the source of truth, and the sweeper and the reconciler redo
    whatever was left half done."""

    def perform_job(self, job, queue, execution):
        # every line the job logs says which job it is and the request (and user) that queued it
        meta = job.meta or {}
        with log_scope(job_id=job.id, job=(job.func_name or "").rsplit(".", 1)[-1],
                       request_id=meta.get("request_id"), user_id=meta.get("user_id")):
            return super().perform_job(job, queue, execution)

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()
        book_periodic_jobs(self.connection, queues=self.queue_names())

    def heartbeat(self, timeout=None, pipeline=None):
        super().heartbeat(timeout=timeout, pipeline=pipeline)
        if pipeline is None:
            # Redis restarted without its data: the periodic bookings and queued work are gone;
            # book them again and rebuild the work from the database now, not at the next maintenance.
            try:
                if run_startup_jobs(self.connection, queues=self.queue_names(), force=False):
                    log.warning("worker.redis_was_reset", action="periodic jobs booked again, reconciling")
                    book_periodic_jobs(self.connection, queues=self.queue_names())
            except redis.RedisError:
                pass  # still down: RQ's loop retries, and so do we on the next heartbeat

    def _start_scheduler(self, burst=False, logging_level="INFO", date_format=DEFAULT_LOGGING_DATE_FORMAT,
                         log_format=DEFAULT_LOGGING_FORMAT):
        # rq 3.0's Worker._start_scheduler, with ResilientScheduler in place of RQScheduler.
        self.scheduler = ResilientScheduler(
            self.queues, connection=self.connection,
            logging_level=logging_level if logging_level is not None else self.log.level,
            date_format=date_format, log_format=log_format, serializer=self.serializer,
        )
        self.scheduler.acquire_locks()
        if self.scheduler.acquired_locks:
            if burst:
                try:
                    self.scheduler.register_birth()
                    self.scheduler.enqueue_scheduled_jobs()
                finally:
                    self.scheduler.release_locks()
                    self.scheduler.register_death()
            else:
                self.scheduler.start()


def book_periodic_jobs(connection: redis.Redis, *, queues: Sequence[str]) -> None:
    jobs = tuple(job for job in periodic_jobs() if job.queue in queues)
    if not jobs:
        return
    try:
        booked = schedule_periodic_jobs(connection, jobs=jobs)
    except Exception as exc:  # the next maintenance pass books it; never let this stop the worker
        log.warning("jobs.periodic_booking_failed", error=f"{type(exc).__name__}: {exc}"[:200])
        return
    if booked:
        log.info("jobs.periodic_booked", jobs=booked)


def _warm_up() -> None:
    # Imported once at start, so the first job does not pay for it.
    import navaia_app.jobs.calls  # noqa: F401
    import navaia_app.jobs.tasks  # noqa: F401
    import navaia_app.models  # noqa: F401
    from navaia_app.core.process import freeze_startup_heap

    freeze_startup_heap()


def wait_for_redis(
    connection: redis.Redis, *, stop: threading.Event, where: str, attempts: int | None = None,
) -> bool:
    """Block until Redis answers a PING (True), or until `stop` is set or the attempts run out (False)."""

    def say_unavailable(state) -> None:
        wait = state.next_action.sleep if state.next_action else 0
        error = state.outcome.exception() if state.outcome else None
        log.warning(f"background jobs unavailable: Redis at {where} is not answering; retrying in {wait:.0f}s",
                    attempt=state.attempt_number, error=type(error).__name__ if error else None)

    retrying = Retrying(
        retry=retry_if_exception_type(redis.RedisError),
        wait=wait_exponential(multiplier=1, min=RETRY_MIN_SECONDS, max=RETRY_MAX_SECONDS),
        stop=(stop_after_attempt(attempts) if attempts else stop_never) | stop_when_event_set(stop),
        sleep=stop.wait,  # a signal ends the wait at once
        before_sleep=say_unavailable,
        reraise=True,
    )
    try:
        retrying(connection.ping)
    except redis.RedisError as exc:
        if not stop.is_set():
            log.error(f"background jobs unavailable: Redis at {where} is not answering; giving up",
                      error=type(exc).__name__)
        return False
    return not stop.is_set()


def run_worker(burst: bool = False, *, queues: Sequence[str] = QUEUE_NAMES) -> int:
    """Serve `queues` (with RQ's scheduler) until SIGTERM/SIGINT; returns the process exit code.

    `burst` runs what is queued and due, then returns (1 if Redis never answered).
    """
    configure_logging()
    settings = get_settings()
    from navaia_app.telephony import get_provider

    try:  # a misspelt TELEPHONY_PROVIDER stops the worker now, not its first call
        get_provider()
    except ValueError as exc:
        log.error("worker.telephony_provider_unknown", error=str(exc))
        return 2
    url = settings.redis_url
    where = describe_redis(url)
    queues = list(queues)
    stop = threading.Event()

    def on_signal(signum, _frame) -> None:
        log.info("worker.stopping", signal=signal.Signals(signum).name)
        stop.set()

    def install_signal_handlers() -> None:
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

    previous_handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    install_signal_handlers()
    _warm_up()
    # Its own client: RQ raises the socket timeout above its blocking-pop timeout on the client it gets.
    connection = redis.Redis.from_url(url, socket_connect_timeout=2, health_check_interval=30)
    exit_code = 0
    try:
        while not stop.is_set():
            if not wait_for_redis(connection, stop=stop, where=where, attempts=BURST_ATTEMPTS if burst else None):
                exit_code = 0 if stop.is_set() else 1
                break
            # Maintenance every 30 s (RQ: 10 min), so a scheduler lock left by a killed worker is taken
            # over within a minute or two, not ten; an idle worker's blocking pop (worker_ttl - 15 s, RQ:
            # 405 s) must end as often, or an idle worker never gets to its maintenance.
            worker = NavaiaWorker(queues, connection=connection, maintenance_interval=30, worker_ttl=45)
            log.info("worker.started", queues=queues, redis=where, burst=burst, pid=os.getpid())
            try:
                book_periodic_jobs(connection, queues=queues)
                if not burst:
                    run_startup_jobs(connection, queues=queues)
                # RQ installs its own SIGTERM/SIGINT handlers meanwhile (warm shutdown, then cold on a second).
                # Round robin between queues: a long campaign on "calls" never starves "default".
                worker.work(burst=burst, with_scheduler=True, logging_level=settings.log_level.upper(),
                            dequeue_strategy=DequeueStrategy.ROUND_ROBIN)
            except redis.RedisError as exc:
                log.warning(f"background jobs unavailable: lost Redis at {where}; reconnecting",
                            error=type(exc).__name__)
            finally:
                install_signal_handlers()
            if burst or stop.is_set() or worker._shutdown_requested_date is not None:  # done, or told to stop
                break
            # RQ returns on its own only after a Redis fault it does not retry (a timeout): start over.
            stop.wait(RETRY_MIN_SECONDS)
    finally:
        for sig, handler in previous_handlers.items():
            signal.signal(sig, handler)
        connection.close()
    log.info("worker.stopped", exit_code=exit_code)
    return exit_code
