"""Job entry points: what the worker runs. Each is thin (opens a unit of work, calls a service) and
safe to run twice."""

from __future__ import annotations

import time

from navaia_app.core.db import begin_now, session_scope
from navaia_app.core.logging import get_logger, log_scope
from navaia_app.core.types import utcnow

log = get_logger(__name__)


def purge_expired_sessions() -> dict[str, int]:
    """Hourly: delete long-dead sign-in sessions and stale sign-in throttle rows."""
    from navaia_app.auth.maintenance import purge_stale_auth_rows

    with session_scope() as session:
        removed = purge_stale_auth_rows(session=session, now=utcnow())
    log.info("auth.purged", sessions=removed["sessions"], throttles=removed["throttles"])
    return removed


# --- call automation: the ElevenLabs webhook inbox --------------------------------------------


def process_webhook_event(event_id: int) -> str:
    """Run one stored webhook (safe to run twice: a processed event is skipped).

    A failure is counted on the inbox row and re-raised; after the last try the row is marked failed
    (shown in the UI, re-runnable) and this returns "failed" without raising.
    """
    from navaia_app.conversations import service

    # its lines carry the inbox row, and the conversation's id once processing knows it
    with log_scope(webhook_event_id=event_id, conversation_id=None, customer_id=None):
        try:
            with session_scope() as session:
                return service.process_inbox_event(session=session, event_id=event_id)
        except Exception as exc:
            if _record_failure(service, event_id, exc) == "failed":
                return "failed"
            raise


# A batch of events shares one transaction (one commit, one round of live-page bumps) but holds the
# database's write lock (SQLite) no longer than this, so stored webhooks keep going in between batches.
BATCH_SECONDS = 0.03
BATCH_EVENTS = 100
SQLITE_YIELD_SECONDS = 0.001


def process_webhook_events(event_ids: list[int]) -> dict[str, int]:
    """Run stored webhooks in batches: each batch in one transaction, each event in a savepoint of it, so one
    bad event never holds up the others (its failure is counted after the batch commits).

    A batch that cannot commit (database gone) leaves its events pending: nothing of them was written. Raises
    at the end when some may succeed on another try, so RQ retries the job (what was done is skipped then);
    the sweeper takes over after RQ's last retry.
    """
    from navaia_app.conversations import service

    from navaia_app.core.db import get_engine

    counts: dict[str, int] = {}
    retry_later: list[int] = []
    waiting = list(event_ids)
    yield_lock = get_engine().dialect.name == "sqlite"
    while waiting:
        batch: list[int] = []
        failures: list[tuple[int, Exception]] = []
        outcomes: dict[str, int] = {}
        try:
            with session_scope() as session:
                begin_now(session)  # the events' savepoints commit together, at the end
                deadline = time.monotonic() + BATCH_SECONDS
                while waiting and len(batch) < BATCH_EVENTS and (not batch or time.monotonic() < deadline):
                    event_id = waiting.pop(0)
                    batch.append(event_id)
                    with log_scope(webhook_event_id=event_id, conversation_id=None, customer_id=None):
                        try:
                            with session.begin_nested():
                                outcome = service.process_inbox_event(session=session, event_id=event_id)
                        except Exception as exc:
                            failures.append((event_id, exc))
                            continue
                    outcomes[outcome] = outcomes.get(outcome, 0) + 1
        except Exception as exc:  # the batch did not commit: none of it happened
            log.warning("webhook.batch_not_committed", size=len(batch), error=f"{type(exc).__name__}: {exc}"[:200])
            retry_later.extend(batch)
            counts["retry"] = counts.get("retry", 0) + len(batch)
            continue
        if waiting and yield_lock:
            time.sleep(SQLITE_YIELD_SECONDS)  # a webhook waiting for the write lock gets it before our next batch
        for outcome, count in outcomes.items():
            counts[outcome] = counts.get(outcome, 0) + count
        for event_id, exc in failures:
            outcome = _record_failure(service, event_id, exc)
            counts[outcome] = counts.get(outcome, 0) + 1
            if outcome == "retry":
                retry_later.append(event_id)
    log.info("webhook.batch_done", size=len(event_ids), **counts)
    if retry_later:
        raise RuntimeError(f"{len(retry_later)} webhook event(s) failed and will be retried: {retry_later[:20]}")
    return counts


def _record_failure(service, event_id: int, exc: Exception) -> str:
    """Count a failed try on the inbox row: "failed" after its last try, else "retry" (also when the database
    cannot record it: RQ's retry and the sweeper try again later)."""
    error = f"{type(exc).__name__}: {exc}"
    try:
        with session_scope() as session:
            status = service.record_inbox_failure(session=session, event_id=event_id, error=error)
    except Exception:
        log.exception("webhook.failure_not_recorded", event_id=event_id)
        return "retry"
    return "failed" if status == "failed" else "retry"


def sweep_webhook_inbox() -> int:
    """Every minute: hand over again the inbox rows nobody ran (worker crash, Redis down on arrival)."""
    from navaia_app.conversations import dispatch, service
    from navaia_app.core.redis import get_redis

    with session_scope() as session:
        due = service.due_inbox_events(session=session, now=utcnow())
    if due and dispatch.schedule_inbox_events(due, connection=get_redis()):
        log.info("webhook.swept", requeued=len(due))
        return len(due)
    return 0


def sync_elevenlabs_conversations() -> dict[str, object]:
    """Every ELEVENLABS_SYNC_SECONDS: store the conversations whose post-call webhook never came."""
    from navaia_app.conversations import backstop
    from navaia_app.core.settings import get_settings

    if get_settings().elevenlabs_sync_seconds <= 0:  # switched off after this run was booked
        return {"status": "off"}
    with session_scope() as session:
        run = backstop.sync_conversations(session=session)
        return {"status": run.status, "listed": run.listed, "missing": run.missing, "recovered": run.recovered}


# --- outgoing webhooks ------------------------------------------------------------------------------


def deliver_webhooks(endpoint_id: int) -> dict[str, object]:
    """Send what is due for one endpoint, in order (safe to run twice: one sender holds the endpoint)."""
    from navaia_app.core.redis import get_redis
    from navaia_app.webhooks_out import outbox, service

    try:  # from now on a new kick queues a new job: this one may have looked already
        get_redis().delete(outbox.KICK_KEY.format(endpoint_id=endpoint_id))
    except Exception:
        pass
    with log_scope(endpoint_id=endpoint_id):
        report = service.run_endpoint(endpoint_id)
    return {"delivered": report.delivered, "failed_attempts": report.failed_attempts, "busy": report.busy}


def sweep_outgoing_webhooks() -> int:
    """Every few seconds: wake the senders of endpoints with a delivery due and nobody sending it (a lost
    kick, a killed worker, a retry whose scheduled job Redis forgot)."""
    from navaia_app.webhooks_out import outbox, service

    with session_scope() as session:
        due = service.endpoints_due(session=session, now=utcnow())
    if due:
        outbox.kick(due)
        log.info("webhook_out.swept", endpoints=len(due))
    return len(due)


def purge_past_retention() -> dict[str, object]:
    """Daily: delete recordings, transcripts and webhook payloads past their retention period."""
    from navaia_app.privacy import retention

    return retention.purge()


def roll_up_call_analytics() -> int:
    """Hourly: roll up the call analytics of the days that are over (safe to run twice: built days are
    skipped, and one lock serializes builders)."""
    from navaia_app.analytics import rollup

    return rollup.build(session_factory=session_scope)


# --- booking reminders ---------------------------------------------------------------------------


def send_due_reminders() -> dict[str, int]:
    """Periodic: send the reminders that are due and settle reminder calls that ended (safe to run twice:
    each reminder is claimed in the database before anything is sent)."""
    from navaia_app.core.redis import get_redis
    from navaia_app.jobs.periodic import REMINDERS, schedule_periodic_jobs
    from navaia_app.reminders import sender

    try:  # book the next run first: a failure below must not break the chain
        schedule_periodic_jobs(get_redis(), jobs=(REMINDERS,))
    except Exception as exc:
        log.warning("reminders.booking_failed", error=type(exc).__name__)
    return sender.run()
