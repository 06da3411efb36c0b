"""The dispatcher: claims due calls, paces them, places them, and follows the calls it placed.

One dispatcher runs at a time, whatever the number of workers: it holds a lease row in the
database (renewed every half second; a worker that died on this machine loses it at once,
one elsewhere when it expires). It works in slices of CAMPAIGN_DISPATCH_SLICE_SECONDS and hands
the lease to a fresh job for the next slice, so other jobs get their turn and a crash costs at
most one slice. Being alone lets it pace every campaign at its calls per second *and* the
provider at its own limit (Twilio: 1 call/s per account by default) with plain clocks; the
pacing clocks travel with the lease, so a new slice goes on where the last one stopped.

Safety does not rest on the lease, though. The database is the source of truth:

- a call is claimed with a conditional UPDATE (status 'pending' -> 'queued'); on PostgreSQL the
  row is picked with `FOR UPDATE SKIP LOCKED`, so claims never collide;
- before the provider is asked, an attempt row with a unique idempotency key is committed; a
  later job finds it and never asks again for the same attempt (a crash between asking and
  recording is resolved by asking the provider which call that key placed);
- Redis only carries the jobs: the reconciler (jobs.calls.reconcile_campaigns, periodic, and at
  every worker start or Redis restart) rebuilds the work from the tables.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import json
import time
import uuid
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, func, select

from navaia_app.campaigns import service
from navaia_app.campaigns.models import (
    ACTIVE_CALL_STATUSES,
    Campaign,
    CampaignCall,
    CampaignCallAttempt,
    DispatchLease,
)
from navaia_app.campaigns.schedule import CallingWindow
from navaia_app.core import leases, live
from navaia_app.core.db import get_engine, session_scope
from navaia_app.core.logging import get_logger, log_scope, mask_phone
from navaia_app.core.settings import get_settings
from navaia_app.core.types import utcnow
from navaia_app.customers.models import Customer
from navaia_app.telephony import CallRequest, PlacementError, get_provider

log = get_logger(__name__)

LEASE_NAME = "dispatcher"
LEASE_TTL = timedelta(seconds=10)
QUEUED_GRACE = timedelta(seconds=30)  # how long a queued dispatcher job may take to start
REFRESH_EVERY = 0.5  # seconds between re-reading campaigns (pause/cancel take effect within this)
BURST_SECONDS = 1.0  # a campaign behind its schedule (a slice hand-over) catches up at most this much
MAX_SLICE_SECONDS = 120.0  # a slice is extended while no other job waits, up to this long
LINGER_SECONDS = 10.0  # keep the slice going when the next call is due this soon
CANDIDATES = 200
ADHOC_CONCURRENCY = 20
BUSY_CUSTOMER_DEFER = timedelta(minutes=5)
PLACING_THREADS = 8
POST_CALL_THREADS = 4

_in_dispatcher: ContextVar[bool] = ContextVar("navaia_in_dispatcher", default=False)


def in_dispatcher() -> bool:
    return _in_dispatcher.get()


# --- the lease --------------------------------------------------------------------------------------


def run_owner(job_id: str) -> str:
    return leases.process_owner("run", job_id)


def _owner_dead(owner: str) -> bool:
    """A dispatcher that ran on this machine in a process that no longer exists."""
    return leases.owner_dead(owner, "run")


def _lease(session: Session) -> DispatchLease:
    lease = session.get(DispatchLease, LEASE_NAME, populate_existing=True)
    if lease is None:  # the migration creates the row; this covers a database made another way
        if session.get_bind().dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        session.execute(insert(DispatchLease).values(
            name=LEASE_NAME, owner="", expires_at=datetime(2000, 1, 1, tzinfo=UTC), pacing={},
            updated_at=utcnow()).on_conflict_do_nothing())
        lease = session.get(DispatchLease, LEASE_NAME, populate_existing=True)
    return lease


def _take(session: Session, lease: DispatchLease, owner: str, expires: datetime) -> bool:
    """Compare-and-set on the lease row: only wins if nobody changed it since we read it."""
    now = utcnow()
    changed = session.execute(sa.update(DispatchLease).where(
        DispatchLease.name == LEASE_NAME, DispatchLease.owner == lease.owner,
        DispatchLease.expires_at == lease.expires_at).values(owner=owner, expires_at=expires, updated_at=now))
    return changed.rowcount == 1


def lease_free(lease: DispatchLease, now: datetime) -> bool:
    return not lease.owner or lease.expires_at <= now or _owner_dead(lease.owner)


def reserve(job_id: str, now: datetime | None = None) -> bool:
    """Book the lease for a dispatcher job about to be queued (False: one runs or is queued)."""
    now = now or utcnow()
    with session_scope() as session:
        lease = _lease(session)
        if not lease_free(lease, now):
            return False
        return _take(session, lease, f"queued:{job_id}", now + QUEUED_GRACE)


def _acquire(job_id: str, owner: str, *, take_queued: bool = False) -> dict[str, Any] | None:
    now = utcnow()
    with session_scope() as session:
        lease = _lease(session)
        mine = lease.owner == f"queued:{job_id}" or (take_queued and lease.owner.startswith("queued:"))
        if not mine and not lease_free(lease, now):
            return None
        pacing = dict(lease.pacing or {})
        if not _take(session, lease, owner, now + LEASE_TTL):
            return None
        return pacing


def _renew(owner: str) -> bool:
    now = utcnow()
    with session_scope() as session:
        changed = session.execute(sa.update(DispatchLease).where(
            DispatchLease.name == LEASE_NAME, DispatchLease.owner == owner).values(
            expires_at=now + LEASE_TTL, updated_at=now))
        return changed.rowcount == 1


def _hand_over(owner: str, next_owner: str, expires: datetime, pacing: dict[str, Any]) -> bool:
    with session_scope() as session:
        changed = session.execute(sa.update(DispatchLease).where(
            DispatchLease.name == LEASE_NAME, DispatchLease.owner == owner).values(
            owner=next_owner, expires_at=expires, pacing=pacing, updated_at=utcnow()))
        return changed.rowcount == 1


def _release(owner: str, pacing: dict[str, Any] | None = None) -> None:
    with session_scope() as session:
        values: dict[str, Any] = {"owner": "", "expires_at": utcnow(), "updated_at": utcnow()}
        if pacing is not None:
            values["pacing"] = pacing
        session.execute(sa.update(DispatchLease).where(DispatchLease.name == LEASE_NAME,
                                                       DispatchLease.owner == owner).values(**values))


def kick(*, reason: str = "") -> str | None:
    """Make sure a dispatcher runs soon: queue one unless one runs or is queued. Returns its job id."""
    from navaia_app.jobs.queues import CALLS_QUEUE, enqueue

    if in_dispatcher():
        return None  # the running dispatcher sees its own work
    job_id = f"navaia-dispatch-{uuid.uuid4().hex[:16]}"
    if not reserve(job_id):
        return None
    job = enqueue("navaia_app.jobs.calls.run_dispatcher", queue_name=CALLS_QUEUE, job_id=job_id,
                  job_timeout=600,
                  result_ttl=300, failure_ttl=7 * 24 * 3600, description=f"dispatch calls ({reason or 'kick'})")
    if job is None:  # Redis is down: free the booking; the reconciler queues one when Redis is back
        _release(f"queued:{job_id}")
        return None
    log.debug("dispatcher.kicked", job_id=job_id, reason=reason)
    return job_id


# --- claiming ---------------------------------------------------------------------------------------


@dataclass
class Claim:
    call_id: int
    attempt_id: int
    campaign_id: int | None
    key: str
    to: str
    customer_id: int
    customer_name: str
    variables: dict[str, str]
    claimed_at: datetime


def _due_ids(session: Session, campaign_id: int | None, now: datetime, limit: int) -> list[int]:
    where = [CampaignCall.status == "pending", CampaignCall.next_attempt_at <= now,
             CampaignCall.campaign_id == campaign_id if campaign_id is not None
             else CampaignCall.campaign_id.is_(None)]
    return list(session.exec(select(CampaignCall.id).where(*where)
                             .order_by(CampaignCall.next_attempt_at, CampaignCall.id).limit(limit)))


def claim_next(session: Session, campaign_id: int | None, now: datetime, candidates: deque) -> int | None:
    """Flip one due call from 'pending' to 'queued'; returns its id (None: nothing due).

    PostgreSQL: the row is chosen with FOR UPDATE SKIP LOCKED, so concurrent claimers never wait
    on or take each other's rows. SQLite (one writer at a time): a conditional UPDATE per
    candidate is the compare-and-set; a row someone else took fails it and the next is tried."""
    if session.get_bind().dialect.name == "postgresql":
        where = [CampaignCall.status == "pending", CampaignCall.next_attempt_at <= now,
                 CampaignCall.campaign_id == campaign_id if campaign_id is not None
                 else CampaignCall.campaign_id.is_(None)]
        picked = session.exec(select(CampaignCall.id).where(*where)
                              .order_by(CampaignCall.next_attempt_at, CampaignCall.id)
                              .limit(1).with_for_update(skip_locked=True)).first()
        if picked is None:
            return None
        session.execute(sa.update(CampaignCall).where(CampaignCall.id == picked, CampaignCall.status == "pending")
                        .values(status="queued", last_attempt_at=now, updated_at=now))
        return picked
    while candidates:
        call_id = candidates.popleft()
        flipped = session.execute(sa.update(CampaignCall).where(
            CampaignCall.id == call_id, CampaignCall.status == "pending", CampaignCall.next_attempt_at <= now)
            .values(status="queued", last_attempt_at=now, updated_at=now))
        if flipped.rowcount == 1:
            return call_id
    return None


def prepare_attempt(session: Session, call_id: int, now: datetime, provider_name: str) -> Claim | None:
    """After a claim: the last checks (do-not-call, number, window, not already on a call), then the
    attempt row with its idempotency key. None when the call must not ring now (it is put back)."""
    call = session.get(CampaignCall, call_id)
    customer = session.get(Customer, call.customer_id)
    campaign = session.get(Campaign, call.campaign_id) if call.campaign_id is not None else None

    def put_back(status: str, *, reason: str | None = None, at: datetime | None = None) -> None:
        call.status, call.next_attempt_at, call.updated_at = status, at, now
        if reason:
            call.skip_reason = reason
        session.add(call)

    if customer is None or customer.do_not_call:
        put_back("skipped", reason="do not call")
        return None
    if not service._valid_phone(customer.phone):
        put_back("skipped", reason="invalid number")
        return None
    if campaign is not None:
        window = service.window_of(campaign)
        zone = service.customer_zone(customer.timezone)
        if not window.contains(now, zone):
            opening = window.next_opening(now, zone)
            if opening is None:
                put_back("skipped", reason="no calling day in the window")
            else:
                put_back("pending", at=opening)
            return None
    elsewhere = session.exec(select(CampaignCall.id).where(
        CampaignCall.customer_id == customer.id, CampaignCall.id != call.id,
        CampaignCall.status.in_(ACTIVE_CALL_STATUSES)).limit(1)).first()
    if elsewhere is not None:  # on another call right now: never ring someone twice at once
        put_back("pending", at=now + BUSY_CUSTOMER_DEFER)
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
                 variables=service.call_variables(call=call, customer=customer, campaign=campaign), claimed_at=now)


def store_placed(session: Session, claim: Claim, provider_call_id: str, external_conversation_id: str | None,
                 now: datetime) -> None:
    attempt = session.get(CampaignCallAttempt, claim.attempt_id)
    call = session.get(CampaignCall, claim.call_id)
    if attempt.provider_call_id is None:
        attempt.provider_call_id = provider_call_id
    if attempt.status in ("placing", "not_placed"):
        attempt.status = "ringing"
    attempt.placed_at = attempt.placed_at or now
    attempt.external_conversation_id = external_conversation_id
    attempt.updated_at = now
    if call.status == "queued":  # (a Twilio callback may have adopted it first, and counted it)
        call.status = "ringing"
        call.attempts += 1
    call.provider_call_id = provider_call_id
    call.updated_at = now
    session.add(attempt)
    session.add(call)
    service.bump(session)


def placement_failed(session: Session, claim: Claim, error: PlacementError, now: datetime) -> None:
    attempt = session.get(CampaignCallAttempt, claim.attempt_id)
    call = session.get(CampaignCall, claim.call_id)
    if error.kind in ("rate_limited", "unavailable"):
        # Nothing rang: the attempt does not count, and the call waits a little.
        attempt.status, attempt.detail, attempt.updated_at = "not_placed", error.reason, now
        call.status, call.next_attempt_at, call.last_detail = "pending", now + timedelta(seconds=error.retry_after), \
            error.reason
        call.updated_at = now
        session.add(attempt)
        session.add(call)
        service.bump(session)
        log.warning("call.not_placed", campaign_call_id=call.id, reason=error.reason)
        return
    call.attempts += 1
    session.add(call)
    session.flush()
    service.record_call_outcome(session=session, outcome="failed", campaign_call_id=call.id, detail=error.reason)
    log.warning("call.failed_to_place", campaign_call_id=call.id, kind=error.kind, reason=error.reason)
    if error.kind == "auth" and call.campaign_id is not None:
        campaign = session.get(Campaign, call.campaign_id)
        if campaign is not None and campaign.status in ("running", "scheduled"):
            service.pause_campaign(session=session, campaign_id=campaign.id, reason=error.reason)


def recover_orphans(session: Session, now: datetime) -> int:
    """Attempts left 'placing' by a dispatcher that died between asking the provider and writing down
    its answer. The provider says which call the key placed: adopt it, or try again (nothing rang);
    a provider that cannot tell gets a final 'failed' (better than calling someone twice)."""
    orphans = list(session.exec(select(CampaignCallAttempt).where(CampaignCallAttempt.status == "placing")))
    for attempt in orphans:
        call = session.get(CampaignCall, attempt.campaign_call_id)
        customer = session.get(Customer, call.customer_id) if call else None
        if call is None or customer is None:
            attempt.status, attempt.outcome, attempt.detail = "ended", "failed", "customer deleted"
            session.add(attempt)
            continue
        provider = get_provider(attempt.provider)
        can_find = getattr(provider, "can_find_calls", True)
        try:
            found = provider.find_call(idempotency_key=attempt.idempotency_key, to=customer.phone,
                                       since=attempt.created_at) if can_find else None
        except PlacementError as exc:
            log.warning("call.recovery_deferred", campaign_call_id=call.id, reason=exc.reason)
            continue
        claim = Claim(call_id=call.id, attempt_id=attempt.id, campaign_id=call.campaign_id,
                      key=attempt.idempotency_key, to=customer.phone, customer_id=customer.id,
                      customer_name=customer.name, variables={}, claimed_at=attempt.created_at)
        if found is not None:
            store_placed(session, claim, found.provider_call_id, found.external_conversation_id, attempt.created_at)
            log.info("call.recovered", campaign_call_id=call.id, provider_call_id=found.provider_call_id)
        elif can_find:
            attempt.status, attempt.detail, attempt.updated_at = "not_placed", "not placed (dispatcher stopped)", now
            if call.status == "queued":
                call.status, call.next_attempt_at, call.updated_at = "pending", now, now
            session.add(attempt)
            session.add(call)
            log.info("call.recovered_not_placed", campaign_call_id=call.id)
        else:
            call.attempts += 1 if call.status == "queued" else 0
            session.add(call)
            session.flush()
            service.record_call_outcome(session=session, outcome="failed", campaign_call_id=call.id,
                                        detail="placement interrupted; outcome unknown (not retried, to avoid "
                                               "calling twice)")
    if orphans:
        service.bump(session)
    return len(orphans)


# --- the post-call event of a simulated answered call -------------------------------------------


def sign_elevenlabs(body: bytes, secret: str, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v0={mac.hexdigest()}"


def send_post_call_event(payload: dict[str, Any]) -> int | None:
    """POST a signed post-call event to our own ElevenLabs webhook, as ElevenLabs would."""
    import httpx

    settings = get_settings()
    if not settings.elevenlabs_webhook_secret:
        return None
    body = json.dumps(payload).encode()
    url = settings.public_base_url.rstrip("/") + "/api/webhooks/elevenlabs"
    headers = {"Content-Type": "application/json",
               "ElevenLabs-Signature": sign_elevenlabs(body, settings.elevenlabs_webhook_secret, int(time.time()))}
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=10)
    except httpx.HTTPError as exc:
        log.warning("simulated.post_call_failed", url=url, error=type(exc).__name__)
        return None
    if response.status_code >= 300:
        log.warning("simulated.post_call_refused", status=response.status_code, body=response.text[:200])
    return response.status_code


# --- the dispatcher -----------------------------------------------------------------------------


@dataclass
class Lane:
    """One campaign (or the one-off calls, id None) as the dispatcher paces it."""

    campaign_id: int | None
    rate: float
    max_concurrent: int
    active: int = 0
    pending_due: int = 0
    next_slot: float = 0.0
    candidates: deque = field(default_factory=deque)
    fetched_at: float = 0.0
    window: CallingWindow | None = None

    @property
    def key(self) -> str:
        return "adhoc" if self.campaign_id is None else str(self.campaign_id)


class Dispatcher:
    def __init__(self, job_id: str, *, slice_seconds: float | None = None, take_queued: bool = False):
        self.job_id = job_id
        self.take_queued = take_queued
        self.owner = run_owner(job_id)
        self.slice_seconds = slice_seconds or get_settings().campaign_dispatch_slice_seconds
        self.provider = get_provider()
        self.provider_rate = max(0.01, self.provider.max_calls_per_second)
        self.provider_slot = 0.0
        self.lanes: dict[str, Lane] = {}
        self.events: list[tuple[float, int]] = []  # (when, attempt id) for pollable providers
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
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            # Nothing is cached across units (every read is fresh) but the campaigns, which _refresh
            # re-reads every half second: their settings are what every claim and outcome consult.
            for obj in list(session.identity_map.values()):
                if not isinstance(obj, Campaign):
                    session.expunge(obj)

    def _close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._connection.close()
            self._session = self._connection = None

    def run(self) -> dict[str, Any]:
        pacing = _acquire(self.job_id, self.owner, take_queued=self.take_queued)
        if pacing is None:
            return {"status": "busy"}
        token = _in_dispatcher.set(True)
        self.bumps: list = []
        bumps_token = service._deferred_bumps.set(self.bumps)
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
                _release(self.owner, state)
            service._deferred_bumps.reset(bumps_token)
            if self.bumps:
                with session_scope() as session:
                    live.bump(session, "campaigns")
            _in_dispatcher.reset(token)
        report = {"status": "ok", "placed": self.placed, "updates": self.updates, "next": handed,
                  "seconds": round(time.monotonic() - started, 2)}
        log.info("dispatcher.slice", **report)
        return report

    def _continue(self, state: dict[str, Any]) -> str | None:
        from navaia_app.jobs.queues import CALLS_QUEUE, enqueue

        job_id = f"navaia-dispatch-{uuid.uuid4().hex[:16]}"
        if not _hand_over(self.owner, f"queued:{job_id}", utcnow() + QUEUED_GRACE, state):
            return None
        job = enqueue("navaia_app.jobs.calls.run_dispatcher", queue_name=CALLS_QUEUE, job_id=job_id,
                      job_timeout=600, result_ttl=300,
                      failure_ttl=7 * 24 * 3600, description="dispatch calls (next slice)")
        if job is None:
            _release(f"queued:{job_id}", state)
            return None
        return job_id

    # --- the loop ---

    def _others_waiting(self) -> bool:
        """Whether other jobs wait in the queues (then the slice ends and hands over)."""
        import redis

        from navaia_app.core.redis import get_redis
        from navaia_app.jobs.queues import QUEUE_NAMES

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
        for lane in self.lanes.values():
            if (lane.candidates or lane.pending_due) and lane.active < lane.max_concurrent:
                return True
        return self._due_soon()

    def _due_soon(self) -> bool:
        """A call becomes due soon in a lane with room for it (a full lane waits for a callback's kick)."""
        horizon = self._now() + timedelta(seconds=LINGER_SECONDS)
        with self._unit() as session:
            keys = session.exec(select(CampaignCall.campaign_id).join(
                Campaign, Campaign.id == CampaignCall.campaign_id, isouter=True).where(
                CampaignCall.status == "pending", CampaignCall.next_attempt_at <= horizon,
                sa.or_(CampaignCall.campaign_id.is_(None), Campaign.status == "running")).distinct()).all()
        for cid in keys:
            lane = self.lanes.get("adhoc" if cid is None else str(cid))
            if lane is None or lane.active < lane.max_concurrent:
                return True
        return False

    def _refresh(self) -> bool:
        """Re-read campaigns (pause/cancel/resume), active and due counts; renew the lease."""
        now = self._now()
        with self._unit() as session:
            renewed = session.execute(sa.update(DispatchLease).where(
                DispatchLease.name == LEASE_NAME, DispatchLease.owner == self.owner).values(
                expires_at=now + LEASE_TTL, updated_at=now)).rowcount == 1
            if renewed and self.bumps:  # one bump for all the changes since the last refresh
                self.bumps.clear()
                live.bump(session, "campaigns")
        if not renewed:
            self.lost_lease = True
            log.warning("dispatcher.lease_lost", owner=self.owner)
            return False
        with self._unit() as session:
            service.start_due_scheduled(session=session, now=now)
            campaigns = {c.id: c for c in session.exec(select(Campaign).where(Campaign.status == "running")
                                                       .execution_options(populate_existing=True))}
            active = dict(session.exec(select(CampaignCall.campaign_id, func.count()).where(
                CampaignCall.status.in_(ACTIVE_CALL_STATUSES)).group_by(CampaignCall.campaign_id)).all())
            due = dict(session.exec(select(CampaignCall.campaign_id, func.count()).where(
                CampaignCall.status == "pending", CampaignCall.next_attempt_at <= now).group_by(
                CampaignCall.campaign_id)).all())
            finished = [cid for cid in campaigns if not active.get(cid) and not due.get(cid)]
            for cid in finished:
                if service.complete_if_done(session=session, campaign_id=cid, now=now):
                    campaigns.pop(cid)
        wanted = {str(cid): cid for cid in campaigns}
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
                campaign = campaigns[cid]
                lane.rate = max(0.01, min(campaign.calls_per_second, self.provider_rate))
                lane.max_concurrent = campaign.max_concurrent_calls
            lane.active = active.get(cid, 0)
            lane.pending_due = due.get(cid, 0)
        return True

    def _next_slot_time(self) -> float:
        """Monotonic time at which the next call could be placed (far away when none is waiting)."""
        best = float("inf")
        wall, mono = time.time(), time.monotonic()
        for lane in self.lanes.values():
            if (lane.candidates or lane.pending_due) and lane.active < lane.max_concurrent:
                slot = max(lane.next_slot, self.provider_slot)
                best = min(best, mono + max(0.0, slot - wall))
        return best

    def _place_next(self) -> bool:
        """Place the call whose slot comes first, if its slot has come. True when one was placed."""
        wall = time.time()
        ready = [lane for lane in self.lanes.values()
                 if (lane.candidates or lane.pending_due) and lane.active < lane.max_concurrent
                 and max(lane.next_slot, self.provider_slot) <= wall]
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
                service.bump(session)
        if claim is None:
            lane.pending_due = max(0, lane.pending_due - 1)
            return True  # not eligible now; it was put back or skipped: try the next one
        # the pacing clocks: a campaign a little behind (a slice hand-over) catches up, one that was idle
        # starts afresh (no burst), and the provider's own limit never bends
        lane.next_slot = (lane.next_slot if lane.next_slot >= wall - BURST_SECONDS else wall) + 1.0 / lane.rate
        self.provider_slot = max(self.provider_slot, wall) + 1.0 / self.provider_rate
        lane.active += 1
        lane.pending_due = max(0, lane.pending_due - 1)
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
        token = _in_dispatcher.set(True)
        try:
            request = CallRequest(idempotency_key=claim.key, to=claim.to, campaign_call_id=claim.call_id,
                                  customer_id=claim.customer_id, campaign_id=claim.campaign_id,
                                  customer_name=claim.customer_name, variables=claim.variables)
            try:
                placed = self.provider.place_call(request)
            except PlacementError as error:
                if error.kind == "unknown":
                    log.warning("call.placement_unknown", campaign_call_id=claim.call_id, reason=error.reason)
                    return  # left 'placing': the next slice asks the provider what happened
                if error.kind in ("rate_limited", "unavailable"):
                    self.provider_slot = max(self.provider_slot, time.time() + error.retry_after)
                with self._unit_for_placing() as session:
                    placement_failed(session, claim, error, self._now())
                return
            now = self._now()
            with self._unit_for_placing() as session:
                store_placed(session, claim, placed.provider_call_id, placed.external_conversation_id, now)
            log.info("call.placed", campaign_call_id=claim.call_id, campaign_id=claim.campaign_id,
                     provider=self.provider.name, provider_call_id=placed.provider_call_id, to=mask_phone(claim.to))
            if self.provider.pollable:
                self._schedule(claim.attempt_id, placed.provider_call_id, now, "ringing")
        except Exception:
            log.exception("call.place_crashed", campaign_call_id=claim.call_id)
        finally:
            _in_dispatcher.reset(token)

    def _unit_for_placing(self):
        # placing threads (providers with a network round trip) each use a pooled session of their own
        return self._unit() if self.provider.instant else session_scope()

    # --- following pollable calls (the simulated carrier) ---

    def _schedule(self, attempt_id: int, provider_call_id: str, placed_at: datetime, status: str) -> None:
        next_at = getattr(self.provider, "next_event_at", None)
        when = next_at(provider_call_id, placed_at, status) if next_at else self._now() + timedelta(seconds=5)
        if when is not None:
            heapq.heappush(self.events, (when.timestamp(), attempt_id))

    def _load_events(self) -> None:
        if not self.provider.pollable:
            return
        with self._unit() as session:
            rows = session.exec(select(CampaignCallAttempt.id, CampaignCallAttempt.provider_call_id,
                                       CampaignCallAttempt.placed_at, CampaignCallAttempt.status).where(
                CampaignCallAttempt.provider == self.provider.name,
                CampaignCallAttempt.status.in_(("ringing", "in_progress")),
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
        posts = []
        with self._unit() as session:
            attempts = list(session.exec(select(CampaignCallAttempt).where(CampaignCallAttempt.id.in_(due))))
            for attempt in attempts:
                if attempt.outcome is not None or attempt.status not in ("ringing", "in_progress"):
                    continue
                updates = self.provider.poll_updates([attempt], now)
                if not updates:  # still ringing or talking: check again at its next event
                    self._schedule(attempt.id, attempt.provider_call_id, attempt.placed_at, attempt.status)
                    continue
                for update in updates:
                    call = service.report_call_update(
                        session=session, provider_call_id=update.provider_call_id, status=update.status,
                        duration_seconds=update.duration_seconds, detail=update.detail,
                        answered_at=update.answered_at, attempt=attempt)
                    self.updates += 1
                    if call is None:
                        continue
                    if update.status in ("ringing", "in_progress"):
                        self._schedule(attempt.id, attempt.provider_call_id, attempt.placed_at, update.status)
                        continue
                    lane = self.lanes.get("adhoc" if call.campaign_id is None else str(call.campaign_id))
                    if lane is not None:
                        lane.active = max(0, lane.active - 1)
                    if update.status == "completed":
                        posts.append(self._post_call_payload(session, call, attempt, update.duration_seconds or 0))
        for payload in posts:
            if payload is not None:
                self._post(payload)

    def _post_call_payload(self, session: Session, call: CampaignCall, attempt: CampaignCallAttempt,
                           duration: int) -> dict[str, Any] | None:
        from navaia_app.telephony.simulated import post_call_event

        settings = get_settings()
        if not settings.elevenlabs_webhook_secret:
            if not self.warned_no_secret:
                log.warning("simulated.post_call_skipped", reason="no ELEVENLABS_WEBHOOK_SECRET; outcomes are "
                                                                  "recorded without conversations")
                self.warned_no_secret = True
            return None
        customer = session.get(Customer, call.customer_id)
        campaign = session.get(Campaign, call.campaign_id) if call.campaign_id is not None else None
        if customer is None:
            return None
        return post_call_event(
            provider_call_id=attempt.provider_call_id,
            external_conversation_id=attempt.external_conversation_id or f"conv_sim_{attempt.provider_call_id[3:23]}",
            to=customer.phone, placed_at=attempt.placed_at, duration_seconds=duration,
            variables=service.call_variables(call=call, customer=customer, campaign=campaign),
            purpose=campaign.purpose if campaign else "", business_timezone=settings.business_timezone,
            agent_id=settings.elevenlabs_agent_id)

    def _post(self, payload: dict[str, Any]) -> None:
        if self.poster is None:
            self.poster = ThreadPoolExecutor(POST_CALL_THREADS, thread_name_prefix="navaia-postcall")
        self.poster.submit(send_post_call_event, payload)

    # --- the end of a slice ---

    def _drain(self) -> None:
        if self.placer is not None:
            self.placer.shutdown(wait=True)
        if self.poster is not None:
            self.poster.shutdown(wait=True)

    def _complete_finished(self) -> None:
        """Campaigns whose last call ended in this slice complete now (not at the next reconcile)."""
        try:
            with session_scope() as session:
                for cid in session.exec(select(Campaign.id).where(Campaign.status == "running")).all():
                    service.complete_if_done(session=session, campaign_id=cid)
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
            for lane in self.lanes.values():
                if (lane.candidates or lane.pending_due) and lane.active < lane.max_concurrent:
                    return True
            return self._due_soon()
        except sa.exc.SQLAlchemyError:
            return False


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
        report["started"] = service.start_due_scheduled(session=session, now=now)
        running = list(session.exec(select(Campaign.id).where(Campaign.status == "running")))
        report["completed"] = [cid for cid in running
                               if service.complete_if_done(session=session, campaign_id=cid, now=now)]
        report["stale"] = _settle_stale_calls(session, now)
        due = session.exec(select(CampaignCall.id).join(Campaign, Campaign.id == CampaignCall.campaign_id,
                                                        isouter=True).where(
            CampaignCall.status == "pending", CampaignCall.next_attempt_at <= now + timedelta(seconds=LINGER_SECONDS),
            sa.or_(CampaignCall.campaign_id.is_(None), Campaign.status == "running")).limit(1)).first()
        pollable = session.exec(select(CampaignCallAttempt.id).where(
            CampaignCallAttempt.status.in_(("placing", "ringing", "in_progress")),
            CampaignCallAttempt.provider == "simulated").limit(1)).first()
        placing = session.exec(select(CampaignCallAttempt.id).where(
            CampaignCallAttempt.status == "placing").limit(1)).first()
    report["kicked"] = kick(reason="reconcile") if (due or pollable or placing) else None
    if report["started"] or report["completed"] or report["stale"] or report["kicked"]:
        log.info("campaigns.reconciled", **{k: v for k, v in report.items() if v})
    return report


STALE_POLL_AFTER = timedelta(minutes=15)
STALE_GIVE_UP_AFTER = timedelta(hours=2)


def _settle_stale_calls(session: Session, now: datetime) -> int:
    """Calls whose callbacks never came: ask the provider (Twilio), or give up after two hours."""
    stale = list(session.exec(select(CampaignCallAttempt).where(
        CampaignCallAttempt.status.in_(("ringing", "in_progress")), CampaignCallAttempt.provider != "simulated",
        CampaignCallAttempt.updated_at < now - STALE_POLL_AFTER).limit(200)))
    settled = 0
    for attempt in stale:
        provider = get_provider(attempt.provider)
        updates = provider.poll_updates([attempt], now)
        for update in updates:
            service.report_call_update(session=session, provider_call_id=update.provider_call_id,
                                       status=update.status, duration_seconds=update.duration_seconds,
                                       detail=update.detail)
            settled += 1
        if not updates and attempt.updated_at < now - STALE_GIVE_UP_AFTER:
            service.record_call_outcome(session=session, outcome="failed", provider_call_id=attempt.provider_call_id,
                                        campaign_call_id=attempt.campaign_call_id,
                                        detail="no outcome reported by the provider")
            settled += 1
    return settled
