"""The dispatcher: claims due calls, paces them, places them, and follows the calls it placed.

One dispatcher runs at a time, whatever the number of workers: it holds the lease (lease.py). It
works in slices of CAMPAIGN_DISPATCH_SLICE_SECONDS and hands the lease to a fresh job for the
next slice, so other jobs get their turn and a crash costs at most one slice. Being alone lets it
pace every lane at its calls per second *and* the provider at its own limit with plain clocks
(pacing.py).

Safety does not rest on the lease, though. The database is the source of truth:

- a call is claimed with a conditional UPDATE (status 'pending' -> 'queued'); on PostgreSQL the
  row is picked with `FOR UPDATE SKIP LOCKED`, so claims never collide;
- just before dialling, the customer's eligibility is checked again (outreach.eligibility), and
  an attempt row with a unique idempotency key is committed; a later job finds it and never asks
  again for the same attempt (a crash between asking and recording is resolved by asking the
  provider which call that key placed, when it can tell);
- Redis only carries the jobs: the reconciler (jobs.calls.reconcile_campaigns, periodic, and at
  every worker start or Redis restart) rebuilds the work from the tables.

The provider's declared capabilities (telephony.base) decide how calls are followed: a POLLING
provider is polled at its `next_event_at`, a CALLBACKS provider reports through webhooks (and is
polled only when its callbacks are overdue); only a provider that `synthesizes_conversations` gets
the post-call webhook an answered call would have produced.
"""

from __future__ import annotations

import heapq
import time
import uuid
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, func, select

from navaia_app.core import live
from navaia_app.core.db import committed, get_engine, session_scope
from navaia_app.core.logging import get_logger, log_scope, mask_phone
from navaia_app.core.signing import send_to_own_webhook
from navaia_app.core.settings import get_settings
from navaia_app.core.types import utcnow
from navaia_app.customers.models import Customer
from navaia_app.outreach import calls, lease, states, voicemail
from navaia_app.outreach.eligibility import check_eligibility
from navaia_app.outreach.models import CampaignCall, CampaignCallAttempt
from navaia_app.outreach.outcomes import ACTIVE_CALL_STATUSES, PROGRESS_STATUSES
from navaia_app.outreach.pacing import Lane, lane_key, next_provider_slot
from navaia_app.outreach.purposes import policies, policy_for
from navaia_app.telephony import CallRequest, ErrorKind, PlacementError, Reporting, get_provider

log = get_logger(__name__)

REFRESH_EVERY = 0.5  # seconds between re-reading campaigns (pause/cancel take effect within this)
MAX_SLICE_SECONDS = 120.0  # a slice is extended while no other job waits, up to this long
LINGER_SECONDS = 10.0  # keep the slice going when the next call is due this soon
CANDIDATES = 200
ADHOC_CONCURRENCY = 20
BUSY_CUSTOMER_DEFER = timedelta(minutes=5)
PLACING_THREADS = 8
POST_CALL_THREADS = 4
IN_FLIGHT_ATTEMPT = ("placing", *PROGRESS_STATUSES)


# --- claiming ---------------------------------------------------------------------------------------


@dataclass
class Claim:
    """A claimed call with its attempt row: what placing it needs."""
    call_id: int
    attempt_id: int
    campaign_id: int | None
    key: str
    to: str
    customer_id: int
    customer_name: str
    variables: dict[str, str]
    claimed_at: datetime


def _lane_filter(campaign_id: int | None) -> Any:
    return CampaignCall.campaign_id == campaign_id if campaign_id is not None else CampaignCall.campaign_id.is_(None)


def _due_ids(session: Session, campaign_id: int | None, now: datetime, limit: int) -> list[int]:
    where = [CampaignCall.status == "pending", CampaignCall.next_attempt_at <= now, _lane_filter(campaign_id)]
    return list(session.exec(select(CampaignCall.id).where(*where)
                             .order_by(CampaignCall.next_attempt_at, CampaignCall.id).limit(limit)))


_CLAIMABLE = states.allowed_from("queued", "pending")


def claim_next(session: Session, campaign_id: int | None, now: datetime, candidates: deque) -> int | None:
    """Flip one due call of the lane from 'pending' to 'queued'; returns its id (None: nothing due).

    PostgreSQL: the row is chosen with FOR UPDATE SKIP LOCKED, so concurrent claimers never wait
    on or take each other's rows. SQLite (one writer at a time): a conditional UPDATE per
    candidate is the compare-and-set; a row someone else took fails it and the next is tried."""
    if session.get_bind().dialect.name == "postgresql":
        where = [CampaignCall.status.in_(_CLAIMABLE), CampaignCall.next_attempt_at <= now, _lane_filter(campaign_id)]
        picked = session.exec(select(CampaignCall.id).where(*where)
                              .order_by(CampaignCall.next_attempt_at, CampaignCall.id)
                              .limit(1).with_for_update(skip_locked=True)).first()
        if picked is None:
            return None
        session.execute(sa.update(CampaignCall).where(CampaignCall.id == picked, CampaignCall.status.in_(_CLAIMABLE))
                        .values(status="queued", last_attempt_at=now, updated_at=now))
        return picked
    while candidates:
        call_id = candidates.popleft()
        flipped = session.execute(sa.update(CampaignCall).where(
            CampaignCall.id == call_id, CampaignCall.status.in_(_CLAIMABLE), CampaignCall.next_attempt_at <= now)
            .values(status="queued", last_attempt_at=now, updated_at=now))
        if flipped.rowcount == 1:
            return call_id
    return None


def prepare_attempt(session: Session, call_id: int, now: datetime, provider_name: str) -> Claim | None:
    """After a claim: the last checks (eligibility now, not already on another call), then the attempt
    row with its idempotency key. None when the call must not ring now (it is put back or skipped)."""
    call = session.get(CampaignCall, call_id)
    customer = session.get(Customer, call.customer_id)
    if customer is None:
        calls.finish(session, call, "skipped", now=now, reason="customer deleted", source="dispatcher")
        return None
    policy = policy_for(call.purpose)
    verdict = check_eligibility(contact=customer, channel="call", now=now, window=policy.window(session, call))
    if verdict.verdict == "never":
        calls.finish(session, call, "skipped", now=now, reason=verdict.reason, source="dispatcher")
        return None
    if verdict.verdict == "later":
        states.move_call(call, "pending", now=now, source="window")
        call.next_attempt_at = verdict.at
        session.add(call)
        return None
    elsewhere = session.exec(select(CampaignCall.id).where(
        CampaignCall.customer_id == customer.id, CampaignCall.id != call.id,
        CampaignCall.status.in_(ACTIVE_CALL_STATUSES)).limit(1)).first()
    if elsewhere is not None:  # on another call right now: never ring someone twice at once
        states.move_call(call, "pending", now=now, source="busy_customer")
        call.next_attempt_at = now + BUSY_CUSTOMER_DEFER
        session.add(call)
        return None
    call.tries += 1
    key = f"navaia-{call.id}-{call.tries}"
    attempt = CampaignCallAttempt(campaign_call_id=call.id, campaign_id=call.campaign_id, number=call.tries,
                                  idempotency_key=key, provider=provider_name, status="placing",
                                  created_at=now, updated_at=now)
    session.add(call)
    session.add(attempt)
    session.flush()
    return Claim(call_id=call.id, attempt_id=attempt.id, campaign_id=call.campaign_id, key=key, to=customer.phone,
                 customer_id=customer.id, customer_name=customer.name,
                 variables=calls.call_variables(session=session, call=call, customer=customer), claimed_at=now)


def store_placed(session: Session, claim: Claim, provider_call_id: str, external_conversation_id: str | None,
                 now: datetime) -> None:
    """The provider took the call: the attempt rings, and counts (unless a callback adopted it first)."""
    attempt = session.get(CampaignCallAttempt, claim.attempt_id)
    call = session.get(CampaignCall, claim.call_id)
    if attempt.provider_call_id is None:
        attempt.provider_call_id = provider_call_id
    if attempt.status in ("placing", "not_placed"):
        states.move_attempt(attempt, "ringing", now=now, source="placed")
    attempt.placed_at = attempt.placed_at or now
    attempt.external_conversation_id = external_conversation_id
    attempt.updated_at = now
    if call.status == "queued" and states.move_call(call, "ringing", now=now, source="placed"):
        call.attempts += 1  # (a Twilio callback may have adopted it first, and counted it)
    call.provider_call_id = provider_call_id
    call.updated_at = now
    session.add(attempt)
    session.add(call)
    calls.bump(session)


def placement_failed(session: Session, claim: Claim, error: PlacementError, now: datetime) -> None:
    """The provider did not take the call; `error.kind` alone decides what follows: nothing placed
    (rate limited, unavailable: the call waits and the attempt does not count), or a "failed"
    attempt whose retry the kind allows or forbids (rejected, auth), and for auth the purpose is told
    (a campaign pauses). The kind is kept on the attempt."""
    attempt = session.get(CampaignCallAttempt, claim.attempt_id)
    call = session.get(CampaignCall, claim.call_id)
    attempt.error_kind = error.kind.value
    if error.kind.nothing_placed:
        states.move_attempt(attempt, "not_placed", now=now, source="placement_failed")
        attempt.detail = error.reason
        if states.move_call(call, "pending", now=now, source="placement_failed"):
            call.next_attempt_at = now + timedelta(seconds=error.retry_after)
        call.last_detail = error.reason
        session.add(attempt)
        session.add(call)
        calls.bump(session)
        log.warning("call.not_placed", campaign_call_id=call.id, kind=error.kind.value, reason=error.reason)
        return
    call.attempts += 1
    session.add(call)
    session.add(attempt)
    session.flush()
    calls.record_call_outcome(session=session, outcome="failed", campaign_call_id=call.id, detail=error.reason,
                              error_kind=error.kind)
    log.warning("call.failed_to_place", campaign_call_id=call.id, kind=error.kind.value, reason=error.reason)
    if error.kind is ErrorKind.AUTH:
        policy_for(call.purpose).on_auth_failure(session, call, error.reason)


def recover_orphans(session: Session, now: datetime) -> int:
    """Attempts left 'placing' by a dispatcher that died between asking the provider and writing down
    its answer. A provider that `can_find_calls` says which call the key placed: adopt it, or try
    again (nothing rang); one that cannot gets a final 'failed' of kind unknown, never retried
    (better than calling someone twice). Returns how many attempts were settled."""
    orphans = list(session.exec(select(CampaignCallAttempt).where(CampaignCallAttempt.status == "placing")))
    for attempt in orphans:
        call = session.get(CampaignCall, attempt.campaign_call_id)
        customer = session.get(Customer, call.customer_id) if call else None
        if call is None or customer is None:
            if states.move_attempt(attempt, "ended", now=now, source="orphan"):
                attempt.outcome, attempt.detail = "failed", "customer deleted"
            session.add(attempt)
            continue
        provider = get_provider(attempt.provider)
        try:
            found = provider.find_call(idempotency_key=attempt.idempotency_key, to=customer.phone,
                                       since=attempt.created_at) if provider.can_find_calls else None
        except PlacementError as exc:
            log.warning("call.recovery_deferred", campaign_call_id=call.id, reason=exc.reason)
            continue
        claim = Claim(call_id=call.id, attempt_id=attempt.id, campaign_id=call.campaign_id,
                      key=attempt.idempotency_key, to=customer.phone, customer_id=customer.id,
                      customer_name=customer.name, variables={}, claimed_at=attempt.created_at)
        if found is not None:
            store_placed(session, claim, found.provider_call_id, found.external_conversation_id, attempt.created_at)
            log.info("call.recovered", campaign_call_id=call.id, provider_call_id=found.provider_call_id)
        elif provider.can_find_calls:
            states.move_attempt(attempt, "not_placed", now=now, source="orphan")
            attempt.detail = "not placed (dispatcher stopped)"
            if call.status == "queued" and states.move_call(call, "pending", now=now, source="orphan"):
                call.next_attempt_at = now
            session.add(attempt)
            session.add(call)
            log.info("call.recovered_not_placed", campaign_call_id=call.id)
        else:
            call.attempts += 1 if call.status == "queued" else 0
            session.add(call)
            session.flush()
            calls.record_call_outcome(session=session, outcome="failed", campaign_call_id=call.id,
                                      detail="placement interrupted; outcome unknown (not retried, to avoid "
                                             "calling twice)", error_kind=ErrorKind.UNKNOWN)
    if orphans:
        calls.bump(session)
    return len(orphans)


# --- the dispatcher -----------------------------------------------------------------------------


class Dispatcher:
    """One slice of dispatching (see the module docstring); `run()` does it and reports."""

    def __init__(self, job_id: str, *, slice_seconds: float | None = None, take_queued: bool = False):
        self.job_id = job_id
        self.take_queued = take_queued
        self.owner = lease.run_owner(job_id)
        self.slice_seconds = slice_seconds or get_settings().campaign_dispatch_slice_seconds
        self.provider = get_provider()
        self.provider_rate = max(0.01, self.provider.max_calls_per_second)
        self.provider_slot = 0.0
        self.lanes: dict[str, Lane] = {}
        self.events: list[tuple[float, int]] = []  # (when, attempt id) for a provider that reports by polling
        self.polling = self.provider.reports is Reporting.POLLING
        self.cached_models = tuple(m for policy in policies() for m in policy.cached_models)
        self.placed = 0
        self.updates = 0
        self.placer: ThreadPoolExecutor | None = None
        self.in_flight: set[Future] = set()
        self.poster: ThreadPoolExecutor | None = None
        self.lost_lease = False
        self.warned_no_secret = False
        self._session: Session | None = None
        self._connection = None

    # the clock: wall time, as the rows store it
    @staticmethod
    def _now() -> datetime:
        return datetime.now(UTC)

    @contextmanager
    def _unit(self) -> Iterator[Session]:
        """A unit of work on the dispatcher's own connection (kept for the slice: at 50 calls a second,
        checking a pooled connection out and pinging it for every step would cost more than the work)."""
        if self._session is None:
            self._connection = get_engine().connect()
            self._session = Session(bind=self._connection, expire_on_commit=False)
        session = self._session
        try:
            with committed(session):
                yield session
        finally:
            # Nothing is cached across units (every read is fresh) but what the purposes ask to keep (the
            # campaigns, which _refresh re-reads every half second: every claim and outcome consults them).
            for obj in list(session.identity_map.values()):
                if not isinstance(obj, self.cached_models):
                    session.expunge(obj)

    def _close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._connection.close()
            self._session = self._connection = None

    def run(self) -> dict[str, Any]:
        """One slice: take the dispatch lease (or report {"status": "busy"} when another dispatcher holds it),
        recover orphaned attempts, place and update calls at the paced rates until the slice ends, then hand
        the lease on (a follow-up job when work is left) with the pacing state, so no call is placed twice.
        Returns what the slice did (placed, updates, next job, seconds)."""
        pacing = lease.acquire(self.job_id, self.owner, take_queued=self.take_queued)
        if pacing is None:
            return {"status": "busy"}
        token = lease.enter_dispatcher()
        self.bumps: list = []
        bumps_token = calls._deferred_bumps.set(self.bumps)
        started = time.monotonic()
        try:
            self.provider_slot = float(pacing.get("provider", {}).get(self.provider.name, 0.0))
            self.saved_slots = {k: float(v) for k, v in pacing.get("lanes", {}).items()}
            with session_scope() as session:
                recovered = recover_orphans(session, self._now())
            if recovered:
                log.info("dispatcher.orphans", count=recovered)
            self._load_events()
            self._loop(started + self.slice_seconds)
        finally:
            self._drain()
            self._close()
            self._complete_finished()
            more = self._work_left()
            state = {"provider": {self.provider.name: self.provider_slot},
                     "lanes": {lane.key: lane.next_slot for lane in self.lanes.values()}}
            handed = None
            if more and not self.lost_lease:
                handed = self._continue(state)
            if handed is None and not self.lost_lease:
                lease.release(self.owner, state)
            calls._deferred_bumps.reset(bumps_token)
            if self.bumps:
                with session_scope() as session:
                    live.bump(session, "campaigns")
            lease.leave_dispatcher(token)
        report = {"status": "ok", "placed": self.placed, "updates": self.updates, "next": handed,
                  "seconds": round(time.monotonic() - started, 2)}
        log.info("dispatcher.slice", **report)
        return report

    def _continue(self, state: dict[str, Any]) -> str | None:
        from navaia_app.core.queues import CALLS_QUEUE, enqueue

        job_id = f"navaia-dispatch-{uuid.uuid4().hex[:16]}"
        if not lease.hand_over(self.owner, f"queued:{job_id}", utcnow() + lease.QUEUED_GRACE, state):
            return None
        job = enqueue("navaia_app.jobs.calls.run_dispatcher", queue_name=CALLS_QUEUE, job_id=job_id,
                      job_timeout=600, result_ttl=300,
                      failure_ttl=7 * 24 * 3600, description="dispatch calls (next slice)")
        if job is None:
            lease.release(f"queued:{job_id}", state)
            return None
        return job_id

    # --- the loop ---

    def _others_waiting(self) -> bool:
        """Whether other jobs wait in the queues (then the slice ends and hands over)."""
        import redis

        from navaia_app.core.redis import get_redis
        from navaia_app.core.queues import QUEUE_NAMES

        try:
            pipe = get_redis().pipeline()
            for name in QUEUE_NAMES:
                pipe.llen(f"rq:queue:{name}")
            return any(pipe.execute())
        except redis.RedisError:
            return True

    def _loop(self, deadline: float) -> None:
        next_refresh = 0.0
        limit = time.monotonic() + MAX_SLICE_SECONDS
        while True:
            mono = time.monotonic()
            if mono >= deadline and mono + self.slice_seconds < limit and not self.lost_lease \
                    and not self._others_waiting():
                deadline = mono + self.slice_seconds  # nobody else waits: keep going (fewer hand-overs)
            if mono >= deadline or self.lost_lease:
                return
            if mono >= next_refresh:
                if not self._refresh():
                    return
                next_refresh = mono + REFRESH_EVERY
            self._deliver_due_events()
            placed_one = self._place_next()
            if placed_one:
                continue
            wake = min(deadline, next_refresh, self._next_event_time(), self._next_slot_time())
            if not self._anything_to_wait_for():
                return
            pause = wake - time.monotonic()
            if pause > 0:
                time.sleep(min(pause, REFRESH_EVERY))

    def _anything_to_wait_for(self) -> bool:
        if self.events or self.in_flight:
            return True
        if any(lane.wants_to_place for lane in self.lanes.values()):
            return True
        return self._due_soon()

    def _due_soon(self) -> bool:
        """A call becomes due soon in a lane with room for it (a full lane waits for a callback's kick)."""
        horizon = self._now() + timedelta(seconds=LINGER_SECONDS)
        with self._unit() as session:
            keys = _due_lanes(session, horizon)
        for cid in keys:
            lane = self.lanes.get(lane_key(cid))
            if lane is None or lane.active < lane.max_concurrent:
                return True
        return False

    def _refresh(self) -> bool:
        """Re-read campaigns (pause/cancel/resume), active and due counts; renew the lease."""
        now = self._now()
        with self._unit() as session:
            renewed = lease.renew_in(session, self.owner, now)
            if renewed and self.bumps:  # one bump for all the changes since the last refresh
                self.bumps.clear()
                live.bump(session, "campaigns")
        if not renewed:
            self.lost_lease = True
            log.warning("dispatcher.lease_lost", owner=self.owner)
            return False
        with self._unit() as session:
            for policy in policies():
                policy.before_dispatch(session, now)
            specs = _open_lanes(session, now)
            active = dict(session.exec(select(CampaignCall.campaign_id, func.count()).where(
                CampaignCall.status.in_(ACTIVE_CALL_STATUSES)).group_by(CampaignCall.campaign_id)).all())
            due = dict(session.exec(select(CampaignCall.campaign_id, func.count()).where(
                CampaignCall.status == "pending", CampaignCall.next_attempt_at <= now).group_by(
                CampaignCall.campaign_id)).all())
            finished = [cid for cid in specs if not active.get(cid) and not due.get(cid)]
            for cid in finished:
                if specs[cid][0].close_lane(session, cid, now):
                    specs.pop(cid)
        wanted = {lane_key(cid): cid for cid in specs}
        if due.get(None) or active.get(None):
            wanted["adhoc"] = None
        for key in list(self.lanes):
            if key not in wanted:
                del self.lanes[key]  # paused, cancelled or done: stop placing at once
        for key, cid in wanted.items():
            lane = self.lanes.get(key)
            if lane is None:
                lane = Lane(campaign_id=cid, rate=1.0, max_concurrent=1)
                lane.next_slot = self.saved_slots.get(key, 0.0)
                self.lanes[key] = lane
            if cid is None:
                lane.rate, lane.max_concurrent = self.provider_rate, ADHOC_CONCURRENCY
            else:
                spec = specs[cid][1]
                lane.rate = max(0.01, min(spec.rate, self.provider_rate))
                lane.max_concurrent = spec.max_concurrent
            lane.active = active.get(cid, 0)
            lane.pending_due = due.get(cid, 0)
        return True

    def _next_slot_time(self) -> float:
        """Monotonic time at which the next call could be placed (far away when none is waiting)."""
        best = float("inf")
        wall, mono = time.time(), time.monotonic()
        for lane in self.lanes.values():
            if lane.wants_to_place:
                best = min(best, mono + max(0.0, lane.slot(self.provider_slot) - wall))
        return best

    def _place_next(self) -> bool:
        """Place the call whose slot comes first, if its slot has come. True when one was placed."""
        wall = time.time()
        ready = [lane for lane in self.lanes.values()
                 if lane.wants_to_place and lane.slot(self.provider_slot) <= wall]
        if not ready:
            return False
        lane = min(ready, key=lambda ln: ln.next_slot)
        now = self._now()
        with self._unit() as session:
            is_pg = session.get_bind().dialect.name == "postgresql"
            if not is_pg and not lane.candidates and wall - lane.fetched_at > REFRESH_EVERY / 2:
                lane.candidates.extend(_due_ids(session, lane.campaign_id, now, CANDIDATES))
                lane.fetched_at = wall
            call_id = claim_next(session, lane.campaign_id, now, lane.candidates)
            if call_id is None:
                lane.pending_due = 0
                return False
            claim = prepare_attempt(session, call_id, now, self.provider.name)
            if claim is not None:
                calls.bump(session)
        if claim is None:
            lane.pending_due = max(0, lane.pending_due - 1)
            return True  # not eligible now; it was put back or skipped: try the next one
        lane.placed(wall)
        self.provider_slot = next_provider_slot(self.provider_slot, wall, self.provider_rate)
        self.placed += 1
        if self.provider.instant:
            self._place(claim)
        else:
            if self.placer is None:
                self.placer = ThreadPoolExecutor(PLACING_THREADS, thread_name_prefix="navaia-place")
            future = self.placer.submit(self._place, claim)
            self.in_flight.add(future)
            future.add_done_callback(self.in_flight.discard)
        return True

    def _place(self, claim: Claim) -> None:
        with log_scope(campaign_id=claim.campaign_id, call_id=claim.call_id, customer_id=claim.customer_id):
            self._place_in_scope(claim)

    def _place_in_scope(self, claim: Claim) -> None:
        token = lease.enter_dispatcher()
        try:
            request = CallRequest(idempotency_key=claim.key, to=claim.to, campaign_call_id=claim.call_id,
                                  customer_id=claim.customer_id, campaign_id=claim.campaign_id,
                                  customer_name=claim.customer_name, variables=claim.variables)
            try:
                placed = self.provider.place_call(request)
            except PlacementError as error:
                if error.kind is ErrorKind.UNKNOWN:
                    log.warning("call.placement_unknown", campaign_call_id=claim.call_id, reason=error.reason)
                    return  # left 'placing': the next slice asks the provider what happened
                if error.kind.nothing_placed:
                    self.provider_slot = max(self.provider_slot, time.time() + error.retry_after)
                with self._unit_for_placing() as session:
                    placement_failed(session, claim, error, self._now())
                return
            now = self._now()
            with self._unit_for_placing() as session:
                store_placed(session, claim, placed.provider_call_id, placed.external_conversation_id, now)
            log.info("call.placed", campaign_call_id=claim.call_id, campaign_id=claim.campaign_id,
                     provider=self.provider.name, provider_call_id=placed.provider_call_id, to=mask_phone(claim.to))
            if self.polling:
                self._schedule(claim.attempt_id, placed.provider_call_id, now, "ringing")
        except Exception:
            log.exception("call.place_crashed", campaign_call_id=claim.call_id)
        finally:
            lease.leave_dispatcher(token)

    def _unit_for_placing(self):
        # placing threads (providers with a network round trip) each use a pooled session of their own
        return self._unit() if self.provider.instant else session_scope()

    # --- following the calls of a provider that reports by polling ---

    def _schedule(self, attempt_id: int, provider_call_id: str, placed_at: datetime, status: str) -> None:
        when = self.provider.next_event_at(provider_call_id, placed_at, status)
        if when is not None:
            heapq.heappush(self.events, (when.timestamp(), attempt_id))

    def _load_events(self) -> None:
        if not self.polling:
            return
        with self._unit() as session:
            rows = session.exec(select(CampaignCallAttempt.id, CampaignCallAttempt.provider_call_id,
                                       CampaignCallAttempt.placed_at, CampaignCallAttempt.status).where(
                CampaignCallAttempt.provider == self.provider.name,
                CampaignCallAttempt.status.in_(PROGRESS_STATUSES),
                CampaignCallAttempt.placed_at.is_not(None))).all()
        for attempt_id, sid, placed_at, status in rows:
            self._schedule(attempt_id, sid, placed_at, status)

    def _next_event_time(self) -> float:
        if not self.events:
            return float("inf")
        return time.monotonic() + max(0.0, self.events[0][0] - time.time())

    def _deliver_due_events(self) -> None:
        wall = time.time()
        due = []
        while self.events and self.events[0][0] <= wall:
            due.append(heapq.heappop(self.events)[1])
        if not due:
            return
        now = self._now()
        posts, talks = [], []
        with self._unit() as session:
            attempts = list(session.exec(select(CampaignCallAttempt).where(CampaignCallAttempt.id.in_(due))))
            for attempt in attempts:
                if attempt.outcome is not None or attempt.status not in PROGRESS_STATUSES:
                    continue
                updates = self.provider.poll_updates([attempt], now)
                if not updates:  # still ringing or talking: check again at its next event
                    self._schedule(attempt.id, attempt.provider_call_id, attempt.placed_at, attempt.status)
                    continue
                for update in updates:
                    status, detail = update.status, update.detail
                    if update.machine:  # a machine's greeting ended: leave the message, or hang up
                        status, detail = voicemail.leave_or_hang_up(
                            self.provider, update.provider_call_id,
                            calls.voicemail_message_for(
                                session=session, call=session.get(CampaignCall, attempt.campaign_call_id)),
                            update.machine)
                    call = calls.report_call_update(
                        session=session, provider_call_id=update.provider_call_id, status=status,
                        duration_seconds=update.duration_seconds, detail=detail,
                        answered_at=update.answered_at, attempt=attempt)
                    self.updates += 1
                    if call is None:
                        continue
                    if update.status in PROGRESS_STATUSES:
                        self._schedule(attempt.id, attempt.provider_call_id, attempt.placed_at, update.status)
                        if update.status == "in_progress" and self.provider.synthesizes_conversations:
                            talks.append(self._conversation(session, call, attempt))
                        continue
                    lane = self.lanes.get(lane_key(call.campaign_id))
                    if lane is not None:
                        lane.active = max(0, lane.active - 1)
                    if update.status == "completed" and self.provider.synthesizes_conversations:
                        posts.append(self._post_call_payload(session, call, attempt, update.duration_seconds or 0))
        for talk in talks:  # committed first: the agent's tools see the call answered; done before it can end
            if talk is not None:
                talk()
        for payload in posts:
            if payload is not None:
                self._post(payload)

    def _conversation(self, session: Session, call: CampaignCall, attempt: CampaignCallAttempt) -> Any:
        """What the made-up voice agent does while the answered call lasts (the provider's `converse`), ready
        to run once this transaction commits (None: nothing to do)."""
        customer = session.get(Customer, call.customer_id)
        if customer is None:
            return None
        return partial(self.provider.converse, provider_call_id=attempt.provider_call_id,
                       variables=calls.call_variables(session=session, call=call, customer=customer))

    def _post_call_payload(self, session: Session, call: CampaignCall, attempt: CampaignCallAttempt,
                           duration: int) -> dict[str, Any] | None:
        """The post-call webhook the provider's made-up conversation would send (None: none to send)."""
        settings = get_settings()
        if not settings.elevenlabs_webhook_secret:
            if not self.warned_no_secret:
                log.warning("simulated.post_call_skipped", reason="no ELEVENLABS_WEBHOOK_SECRET; outcomes are "
                                                                  "recorded without conversations")
                self.warned_no_secret = True
            return None
        customer = session.get(Customer, call.customer_id)
        if customer is None:
            return None
        return self.provider.synthesized_conversation(
            provider_call_id=attempt.provider_call_id, external_conversation_id=attempt.external_conversation_id,
            to=customer.phone, placed_at=attempt.placed_at, duration_seconds=duration,
            variables=calls.call_variables(session=session, call=call, customer=customer),
            topic=policy_for(call.purpose).topic(session, call))

    def _post(self, payload: dict[str, Any]) -> None:
        if self.poster is None:
            self.poster = ThreadPoolExecutor(POST_CALL_THREADS, thread_name_prefix="navaia-postcall")
        self.poster.submit(send_to_own_webhook, payload)

    # --- the end of a slice ---

    def _drain(self) -> None:
        if self.placer is not None:
            self.placer.shutdown(wait=True)
        if self.poster is not None:
            self.poster.shutdown(wait=True)

    def _complete_finished(self) -> None:
        """Lanes (campaigns) whose last call ended in this slice close now (not at the next reconcile)."""
        try:
            with session_scope() as session:
                now = self._now()
                for cid, (policy, _spec) in _open_lanes(session, now).items():
                    policy.close_lane(session, cid, now)
        except sa.exc.SQLAlchemyError as exc:
            log.warning("dispatcher.completion_check_failed", error=type(exc).__name__)

    def _work_left(self) -> bool:
        """Whether the next slice has something to do now or very soon."""
        if self.events:
            return True
        try:
            with session_scope() as session:
                if session.exec(select(CampaignCallAttempt.id).where(
                        CampaignCallAttempt.status == "placing").limit(1)).first() is not None:
                    return True
            if any(lane.wants_to_place for lane in self.lanes.values()):
                return True
            return self._due_soon()
        except sa.exc.SQLAlchemyError:
            return False


def _open_lanes(session: Session, now: datetime) -> dict[int, tuple[Any, Any]]:
    """Campaign id -> (its policy, its LaneSpec) for every lane the purposes run now."""
    return {spec.campaign_id: (policy, spec) for policy in policies() for spec in policy.lanes(session, now)}


def _due_lanes(session: Session, horizon: datetime) -> list[int | None]:
    """The lanes (campaign ids; None: the shared lane) with a call due by `horizon` that may be placed."""
    keys = session.exec(select(CampaignCall.campaign_id).where(
        CampaignCall.status == "pending", CampaignCall.next_attempt_at <= horizon).distinct()).all()
    if all(cid is None for cid in keys):
        return list(keys)
    open_ids = _open_lanes(session, horizon)
    return [cid for cid in keys if cid is None or cid in open_ids]


def _providers_reporting(session: Session, reporting: Reporting) -> list[str]:
    """Names of the providers of attempts still in flight that report by `reporting`."""
    names = session.exec(select(CampaignCallAttempt.provider).where(
        CampaignCallAttempt.status.in_(IN_FLIGHT_ATTEMPT)).distinct()).all()
    out = []
    for name in names:
        try:
            if get_provider(name).reports is reporting:
                out.append(name)
        except ValueError:
            log.warning("dispatcher.unknown_provider", provider=name)
    return out


def run(job_id: str | None = None, *, slice_seconds: float | None = None, take_queued: bool = False,
        ) -> dict[str, Any]:
    """One dispatcher slice (what the `run_dispatcher` job does). `take_queued` lets an inline run
    (tests, benchmarks) take the lease booked for a queued job that will then find it taken."""
    return Dispatcher(job_id or f"inline-{uuid.uuid4().hex[:12]}", slice_seconds=slice_seconds,
                      take_queued=take_queued).run()


def reconcile(*, now: datetime | None = None) -> dict[str, Any]:
    """Rebuild the work from the database: start scheduled campaigns that are due, finish the
    campaigns with nothing left, give up on calls whose provider never reported back, and make
    sure a dispatcher runs when anything is due or in flight. Safe to run any time, any number
    of times (it is what makes a wiped Redis or a killed worker harmless)."""
    now = now or utcnow()
    report: dict[str, Any] = {}
    with session_scope() as session:
        for policy in policies():
            for key, value in policy.reconcile(session, now).items():
                report[key] = value
        report["stale"] = _settle_stale_calls(session, now)
        due = _due_lanes(session, now + timedelta(seconds=LINGER_SECONDS))
        polled = _providers_reporting(session, Reporting.POLLING)
        placing = session.exec(select(CampaignCallAttempt.id).where(
            CampaignCallAttempt.status == "placing").limit(1)).first()
    report["kicked"] = lease.kick(reason="reconcile") if (due or polled or placing) else None
    if any(report.values()):
        log.info("campaigns.reconciled", **{k: v for k, v in report.items() if v})
    return report


STALE_POLL_AFTER = timedelta(minutes=15)
STALE_GIVE_UP_AFTER = timedelta(hours=2)


def _settle_stale_calls(session: Session, now: datetime) -> int:
    """Calls whose callbacks never came (providers that report by callbacks; the dispatcher follows
    the others): ask the provider, or give up after two hours."""
    reporting = _providers_reporting(session, Reporting.CALLBACKS)
    if not reporting:
        return 0
    stale = list(session.exec(select(CampaignCallAttempt).where(
        CampaignCallAttempt.status.in_(PROGRESS_STATUSES), CampaignCallAttempt.provider.in_(reporting),
        CampaignCallAttempt.updated_at < now - STALE_POLL_AFTER).limit(200)))
    settled = 0
    for attempt in stale:
        provider = get_provider(attempt.provider)
        updates = provider.poll_updates([attempt], now)
        for update in updates:
            calls.report_call_update(session=session, provider_call_id=update.provider_call_id,
                                       status=update.status, duration_seconds=update.duration_seconds,
                                       detail=update.detail)
            settled += 1
        if not updates and attempt.updated_at < now - STALE_GIVE_UP_AFTER:
            calls.record_call_outcome(session=session, outcome="failed", provider_call_id=attempt.provider_call_id,
                                      campaign_call_id=attempt.campaign_call_id,
                                      detail="no outcome reported by the provider")
            settled += 1
    return settled
