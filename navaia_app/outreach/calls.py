"""Outbound calls as a service: ask for one, and record what became of it.

`request_call` is the one way in for a call that is not part of a campaign's audience snapshot
("Call now", a booking reminder); `record_call_outcome` and `report_call_update` are the one way
back for everything a provider or a webhook says (Twilio callbacks, the simulated carrier, a poll,
an ElevenLabs post-call webhook). Every status change goes through outreach.states; what a
purpose decides (retry or not, what to do when the call is over) is asked of its CallPolicy.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Session, select

from navaia_app.core import live
from navaia_app.core.call_tokens import issue_call_token
from navaia_app.core.db import lock_until_commit
from navaia_app.core.errors import Conflict, NotFound, ValidationFailed
from navaia_app.core.logging import get_logger, mask_phone
from navaia_app.core.types import utcnow
from navaia_app.core.zones import zone_named
from navaia_app.customers.models import Customer
from navaia_app.outreach import states
from navaia_app.outreach.eligibility import Eligibility, check_eligibility
from navaia_app.outreach.models import CampaignCall, CampaignCallAttempt
from navaia_app.outreach.outcomes import (
    ACTIVE_CALL_STATUSES,
    FINAL_OUTCOMES,
    OPEN_CALL_STATUSES,
    PROGRESS_STATUSES,
    is_call_status,
    normalize_outcome,
)
from navaia_app.outreach.purposes import policy_for
from navaia_app.telephony.base import ErrorKind

log = get_logger(__name__)

# Dynamic variables Navaia sets on every call (a campaign or a CSV row cannot override them).
RESERVED_VARIABLES = ("customer_id", "campaign_id", "campaign_call_id", "customer_name", "call_token")
CALL_TOKEN_VARIABLE = "call_token"

_deferred_bumps: ContextVar[list | None] = ContextVar("navaia_campaign_bumps", default=None)


def bump(session: Session) -> None:
    """Tell open call and campaign pages that something changed (a dispatcher slice batches these)."""
    deferred = _deferred_bumps.get()
    if deferred is not None:
        deferred.append(1)
        return
    live.bump(session, "campaigns")


def batching() -> bool:
    """Whether we run inside a dispatcher slice (which batches page bumps and completion checks)."""
    return _deferred_bumps.get() is not None


def kick_after_commit(session: Session) -> None:
    """Wake the dispatcher once this unit of work is committed (so it sees what was written). Never
    raises: when the kick fails, the periodic reconciler picks the work up.

    Releasing or rolling back a savepoint fires the same session events; only the outer commit counts
    (else the dispatcher woke before the calls were committed, and on SQLite waited on the write lock)."""
    from navaia_app.outreach import lease

    if session.info.get("navaia_kick_registered"):
        return
    session.info["navaia_kick_registered"] = True
    done = False

    def _after_commit(_session) -> None:
        nonlocal done
        if done or session.in_nested_transaction():
            return
        done = True
        session.info.pop("navaia_kick_registered", None)
        try:
            lease.kick(reason="commit")
        except Exception as exc:  # the reconciler picks the work up; never fail the caller's request
            log.warning("dispatcher.kick_failed", error=f"{type(exc).__name__}: {exc}"[:200])

    def _after_rollback(_session, previous) -> None:
        nonlocal done
        if done or previous.nested:
            return
        done = True
        session.info.pop("navaia_kick_registered", None)

    event.listen(session, "after_commit", _after_commit)
    event.listen(session, "after_soft_rollback", _after_rollback)


# --- asking for a call ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboundRequest:
    """One call to one customer, for a purpose other than a campaign's audience.

    `request_key` makes the request idempotent (the same key gives back the same call, never a
    second one: e.g. "reminder:42:call"); `reference` says what the call is about ("booking:12");
    `variables` are extra dynamic variables for the agent; `claims` extra claims of the call token
    (e.g. {"booking_id": 12}); `not_before` holds the call until then."""

    customer_id: int
    purpose: str
    request_key: str | None = None
    reference: str | None = None
    variables: dict[str, str] = field(default_factory=dict)
    claims: dict[str, Any] = field(default_factory=dict)
    not_before: datetime | None = None
    requested_by_id: int | None = None


class NotEligible(Conflict):
    """The customer may not be called (do not call, invalid or not-allowed number). `eligibility` says why."""

    def __init__(self, message: str, eligibility: Eligibility, *, field: str = "phone"):
        super().__init__(message, field=field)
        self.eligibility = eligibility


def request_call(*, session: Session, request: OutboundRequest, now: datetime | None = None) -> CampaignCall:
    """Queue `request` for the dispatcher (it rings once committed, within the rules of its purpose).

    Guarantees: the same `request_key` returns the call already made for it (whatever its state);
    the customer's eligibility is checked now and again just before dialling. Raises NotFound for
    an unknown customer, NotEligible (a Conflict, 409) when the customer may not be called at all,
    ValidationFailed for a purpose or reference that does not fit."""
    if not request.purpose or len(request.purpose) > 20 or request.purpose == "campaign":
        raise ValidationFailed("The purpose is 1 to 20 characters (campaign calls come from a campaign).",
                               field="purpose")
    if request.reference is not None and len(request.reference) > 64:
        raise ValidationFailed("The reference is 64 characters at most.", field="reference")
    if request.request_key is not None:
        if len(request.request_key) > 128:
            raise ValidationFailed("The request key is 128 characters at most.", field="request_key")
        existing = session.exec(select(CampaignCall).where(CampaignCall.request_key == request.request_key)).first()
        if existing is not None:
            return existing
    customer = session.get(Customer, request.customer_id)
    if customer is None:
        raise NotFound(f"Customer {request.customer_id} not found.")
    now = now or utcnow()
    verdict = check_eligibility(contact=customer, channel="call", now=now)
    if verdict.verdict == "never":
        raise NotEligible(f"{customer.name} cannot be called: {verdict.reason}.", verdict,
                          field="do_not_call" if verdict.code == "do_not_call" else "phone")
    call = CampaignCall(campaign_id=None, customer_id=customer.id, status="pending",
                        next_attempt_at=max(now, request.not_before or now), purpose=request.purpose,
                        reference=request.reference, request_key=request.request_key,
                        variables={k: str(v)[:500] for k, v in request.variables.items() if k not in RESERVED_VARIABLES},
                        claims=dict(request.claims), requested_by_id=request.requested_by_id,
                        created_at=now, updated_at=now)
    session.add(call)
    session.flush()
    bump(session)
    kick_after_commit(session)
    log.info("call.requested", campaign_call_id=call.id, customer_id=customer.id, purpose=call.purpose,
             reference=call.reference, phone=mask_phone(customer.phone))
    return call


def call_customer_now(*, session: Session, customer_id: int, requested_by_id: int | None = None) -> CampaignCall:
    """"Call now": one outbound call to one customer through the same pipeline as a campaign's calls.

    Raises NotFound (no such customer), Conflict (on the do-not-call list, in a country not allowed,
    already on a call or waiting for one), ValidationFailed (a number that cannot be called)."""
    # SQLite: take the write lock before the checks (a second writer would otherwise fail on a stale
    # snapshot); PostgreSQL: one "Call now" per customer at a time, the index below being the guarantee
    lock_until_commit(session, f"call_now:{customer_id}", sqlite_table="campaign_calls")
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"Customer {customer_id} not found.")
    verdict = check_eligibility(contact=customer, channel="call", now=utcnow())
    if verdict.code == "do_not_call":
        raise Conflict(f"{customer.name} is on the do-not-call list.", field="do_not_call")
    if verdict.code == "invalid_number":
        raise ValidationFailed(f"{customer.name}'s phone number cannot be called.", field="phone")
    busy = session.exec(select(CampaignCall.id).where(CampaignCall.customer_id == customer_id,
                                                      CampaignCall.status.in_(ACTIVE_CALL_STATUSES)).limit(1)).first()
    waiting = session.exec(select(CampaignCall.id).where(
        CampaignCall.customer_id == customer_id, CampaignCall.campaign_id.is_(None),
        CampaignCall.status == "pending").limit(1)).first()
    if busy is not None or waiting is not None:
        raise Conflict(f"{customer.name} is already being called.", field="customer_id")
    try:
        return request_call(session=session, request=OutboundRequest(
            customer_id=customer_id, purpose="call_now", requested_by_id=requested_by_id))
    except sa.exc.IntegrityError:
        # the partial unique index uq_campaign_calls_one_open_call_now: a second open "Call now" that got
        # past the checks (no savepoint here: its release would fire the after-commit kick too early)
        session.rollback()
        raise Conflict(f"{customer.name} is already being called.", field="customer_id") from None


def hang_up_call(*, session: Session, campaign_call_id: int) -> CampaignCall:
    """Hang up a ringing or answered call. Raises NotFound, or Conflict when the call is not on the
    line or the provider cannot hang it up. With a provider that reports by polling, the end is
    recorded at once (nobody else will report it)."""
    from navaia_app.telephony import PlacementError, Reporting, get_provider

    call = session.get(CampaignCall, campaign_call_id)
    if call is None:
        raise NotFound(f"Call {campaign_call_id} not found.")
    attempt = latest_attempt(session=session, campaign_call_id=call.id)
    if call.status not in PROGRESS_STATUSES or attempt is None or not attempt.provider_call_id:
        raise Conflict("Only a ringing or answered call can be hung up.", field="status")
    provider = get_provider(attempt.provider)
    try:
        provider.hang_up(attempt.provider_call_id, answered=call.status == "in_progress")
    except PlacementError as exc:
        raise Conflict(f"The call could not be hung up: {exc.reason}") from exc
    if provider.reports is Reporting.POLLING:
        duration = None
        if attempt.answered_at:
            duration = int((utcnow() - attempt.answered_at).total_seconds())
        record_call_outcome(session=session, outcome="completed" if call.status == "in_progress" else "failed",
                            provider_call_id=attempt.provider_call_id, duration_seconds=duration,
                            detail="hung up from Navaia")
    log.info("call.hung_up", campaign_call_id=call.id)
    return call


def latest_attempt(*, session: Session, campaign_call_id: int) -> CampaignCallAttempt | None:
    """The call's most recent attempt (None before the first)."""
    return session.exec(select(CampaignCallAttempt).where(CampaignCallAttempt.campaign_call_id == campaign_call_id)
                        .order_by(CampaignCallAttempt.number.desc()).limit(1)).first()


def customer_call_summary(*, session: Session, customer_id: int) -> CampaignCall | None:
    """The customer's latest call (for "Call now" feedback)."""
    return session.exec(select(CampaignCall).where(CampaignCall.customer_id == customer_id)
                        .order_by(CampaignCall.updated_at.desc()).limit(1)).first()


def call_variables(*, session: Session, call: CampaignCall, customer: Customer) -> dict[str, str]:
    """The dynamic variables the agent gets on this call: its purpose's (a campaign's), the call's own
    (a CSV row's, a reminder's), then Navaia's (customer, ids) and a signed `call_token` naming the
    customer, the call and what the purpose adds (e.g. the booking): the agent's tools require it."""
    policy = policy_for(call.purpose)
    variables: dict[str, str] = {k: str(v) for k, v in policy.variables(session, call).items()}
    variables.update({k: str(v) for k, v in (call.variables or {}).items()})
    claims = {**policy.token_claims(session, call), "customer_id": customer.id, "call_id": call.id,
              "purpose": call.purpose}
    variables.update({
        "customer_id": str(customer.id),
        "campaign_id": str(call.campaign_id) if call.campaign_id is not None else "",
        "campaign_call_id": str(call.id),
        "customer_name": customer.name,
        CALL_TOKEN_VARIABLE: issue_call_token(claims),
    })
    template = policy.voicemail_message(session, call)
    if template and template.strip():  # what a machine hears, with this call's variables filled in
        from navaia_app.outreach import voicemail

        variables[voicemail.VARIABLE] = voicemail.render(template, variables)
    return variables


# --- what became of a call -----------------------------------------------------------------------


def _find_call(session: Session, campaign_call_id: int | None, provider_call_id: str | None,
               attempt_key: str | None = None) -> tuple[CampaignCall | None, CampaignCallAttempt | None]:
    attempt = None
    if provider_call_id:
        attempt = session.exec(select(CampaignCallAttempt).where(
            CampaignCallAttempt.provider_call_id == provider_call_id)).first()
    if attempt is None and attempt_key:
        attempt = session.exec(select(CampaignCallAttempt).where(
            CampaignCallAttempt.idempotency_key == attempt_key)).first()
    call = None
    if attempt is not None:
        call = session.get(CampaignCall, attempt.campaign_call_id)
    if call is None and campaign_call_id is not None:
        call = session.get(CampaignCall, campaign_call_id)
    if call is None and provider_call_id:
        call = session.exec(select(CampaignCall).where(CampaignCall.provider_call_id == provider_call_id)).first()
    if call is not None and attempt is None:
        attempt = latest_attempt(session=session, campaign_call_id=call.id)
    return call, attempt


def voicemail_message_for(*, session: Session, call: CampaignCall) -> str:
    """The message to leave on this call's answering machine, its variables filled in ("" = hang up)."""
    from navaia_app.outreach import voicemail

    customer = session.get(Customer, call.customer_id)
    if customer is None:
        return ""
    return call_variables(session=session, call=call, customer=customer).get(voicemail.VARIABLE, "")


def find_call(*, session: Session, provider_call_id: str | None = None, attempt_key: str | None = None,
              campaign_call_id: int | None = None) -> tuple[CampaignCall | None, CampaignCallAttempt | None]:
    """The call (and attempt) a provider's report is about, by its call id or our attempt key."""
    return _find_call(session, campaign_call_id, provider_call_id, attempt_key)


def record_attempt_cost(*, session: Session, provider_call_id: str, amount: float, unit: str) -> None:
    """What the carrier charged for an attempt (reported late, sometimes more than once: the last word wins)."""
    _call, attempt = _find_call(session, None, provider_call_id)
    if attempt is not None and attempt.provider_call_id == provider_call_id:
        attempt.cost, attempt.cost_unit = round(float(amount), 5), (unit or "USD").upper()[:8]
        session.add(attempt)


def finish(session: Session, call: CampaignCall, status: str, *, now: datetime, reason: str | None = None,
           source: str = "") -> bool:
    """End a call that will not ring (any more): skipped or cancelled with `reason`, or a final outcome.
    Tells its purpose. False (and nothing changed) when the state machine refuses the move."""
    if not states.move_call(call, status, now=now, source=source):
        return False
    call.next_attempt_at = None
    if reason and status in ("skipped", "cancelled"):
        call.skip_reason = reason[:200]
    session.add(call)
    policy_for(call.purpose).on_final(session, call, now, batched=batching())
    return True


def _settle(session: Session, call: CampaignCall, outcome: str, detail: str | None, now: datetime,
            error_kind: ErrorKind | None) -> None:
    """A final outcome: another try when the error allows it and the purpose wants one, else final."""
    call.last_outcome, call.last_detail = outcome, (detail or None)
    retry = None
    if error_kind is None or error_kind.retryable:
        retry = policy_for(call.purpose).retry_at(session, call, outcome, now)
    if retry is not None and states.move_call(call, "pending", now=now, source="retry"):
        call.next_attempt_at = retry
        log.info("campaign_call.retry_scheduled", campaign_call_id=call.id, outcome=outcome,
                 attempt=call.attempts, at=retry.isoformat())
    else:
        finish(session, call, outcome, now=now, source="outcome")
    kick_after_commit(session)  # a slot is free (or a retry is due): the dispatcher may place the next call


def record_call_outcome(
    *, session: Session, outcome: str, campaign_call_id: int | None = None, provider_call_id: str | None = None,
    conversation_id: int | None = None, duration_seconds: int | None = None, detail: str | None = None,
    error_kind: ErrorKind | str | None = None,
) -> CampaignCall | None:
    """Record what happened to an outbound call (found by id or by the provider's call id).

    A final outcome (completed, busy, no_answer, failed, voicemail, voicemail_left) ends the call's
    current attempt; then the call's purpose decides about a retry (a campaign: another attempt in
    the customer's next calling window, while attempts are left), unless `error_kind` forbids one
    (rejected, auth, unknown). Progress (ringing, in_progress) moves the call along. Reporting the
    same outcome again (webhooks arrive at least once, and from two sides) changes nothing but fills
    in what was missing (the conversation, the duration). A move the state machine refuses is
    logged and ignored, never raised.

    Returns the call, or None when no call matches (an inbound call, say). Raises ValidationFailed
    for a word that names no outcome."""
    word = normalize_outcome(outcome)
    if not is_call_status(word):
        raise ValidationFailed(f"Unknown call outcome '{word}'.", field="outcome")
    call, attempt = _find_call(session, campaign_call_id, provider_call_id)
    if call is None:
        return None
    kind = ErrorKind(error_kind) if error_kind is not None else None
    return _apply_outcome(session, call, attempt, word, conversation_id=conversation_id,
                          duration_seconds=duration_seconds, detail=detail, error_kind=kind)


def _apply_outcome(session: Session, call: CampaignCall, attempt: CampaignCallAttempt | None, outcome: str, *,
                   conversation_id: int | None = None, duration_seconds: int | None = None,
                   detail: str | None = None, error_kind: ErrorKind | None = None) -> CampaignCall:
    now = utcnow()
    linked = conversation_id is not None and call.conversation_id != conversation_id
    if linked:
        call.conversation_id = conversation_id
    if duration_seconds is not None:
        call.duration_seconds = duration_seconds
        if attempt is not None:
            attempt.duration_seconds = duration_seconds
    call.updated_at = now
    if outcome in FINAL_OUTCOMES:
        if attempt is not None and attempt.outcome is None:
            if states.move_attempt(attempt, "ended", now=now, source="outcome"):
                attempt.outcome, attempt.detail, attempt.ended_at = outcome, (detail or None), now
                if error_kind is not None:
                    attempt.error_kind = error_kind.value
                if outcome == "completed" and attempt.answered_at is None:
                    attempt.answered_at = now - timedelta(seconds=duration_seconds or 0)
                session.add(attempt)
                _settle(session, call, outcome, detail, now, error_kind)
        elif attempt is None and call.status in OPEN_CALL_STATUSES:
            _settle(session, call, outcome, detail, now, error_kind)
        # else: this attempt's outcome is known already; only the details above were added
    elif outcome in PROGRESS_STATUSES:
        if attempt is not None and attempt.outcome is None:
            order = ("placing", *PROGRESS_STATUSES)  # progress only moves forward
            if attempt.status in order and order.index(outcome) > order.index(attempt.status):
                states.move_attempt(attempt, outcome, now=now, source="progress")
                if outcome == "in_progress" and attempt.answered_at is None:
                    attempt.answered_at = now
                session.add(attempt)
            if call.status in ("queued", "ringing"):
                states.move_call(call, outcome, now=now, source="progress")
    elif call.status in OPEN_CALL_STATUSES:  # pending, queued, skipped, cancelled: as told, if allowed
        if outcome in ("skipped", "cancelled"):
            finish(session, call, outcome, now=now, reason=detail, source="reported")
        else:
            states.move_call(call, outcome, now=now, source="reported")
    session.add(call)
    if linked:  # after the outcome: the purpose sees the call as it now stands, whichever came first
        policy_for(call.purpose).on_conversation(session, call, now)
    bump(session)
    log.info("campaign_call.outcome", campaign_call_id=call.id, campaign_id=call.campaign_id, outcome=outcome,
             status=call.status)
    return call


def report_call_update(*, session: Session, provider_call_id: str | None, status: str,
                       attempt_key: str | None = None, duration_seconds: int | None = None,
                       detail: str | None = None, answered_at: datetime | None = None,
                       attempt: CampaignCallAttempt | None = None) -> CampaignCall | None:
    """A provider's progress report (Twilio status callback, the simulated carrier, a poll).

    The attempt key lets a callback adopt a call whose id the dispatcher never stored (it died
    between asking the provider and writing the answer down). `attempt`: already loaded by the caller.
    Returns the call (None: no call matches). Raises ValidationFailed for a status that names nothing."""
    if attempt is not None:
        call = session.get(CampaignCall, attempt.campaign_call_id)
    else:
        call, attempt = _find_call(session, None, provider_call_id, attempt_key)
    if call is None or attempt is None:
        return None
    now = utcnow()
    if provider_call_id and attempt.provider_call_id is None:
        attempt.provider_call_id = provider_call_id
        attempt.placed_at = attempt.placed_at or attempt.created_at
        if attempt.status in ("placing", "not_placed"):
            states.move_attempt(attempt, "ringing", now=now, source="adopted")
        call.provider_call_id = provider_call_id
        if call.status == "queued" and states.move_call(call, "ringing", now=now, source="adopted"):
            call.attempts += 1
        session.add(attempt)
        log.info("campaign_call.adopted", campaign_call_id=call.id, provider_call_id=provider_call_id)
    if answered_at is not None and attempt.answered_at is None and attempt.outcome is None:
        attempt.answered_at = answered_at
        session.add(attempt)
    outcome = normalize_outcome(status)
    if not is_call_status(outcome):
        raise ValidationFailed(f"Unknown call outcome '{status}'.", field="outcome")
    return _apply_outcome(session, call, attempt, outcome, duration_seconds=duration_seconds, detail=detail)


# --- the customer's wall clock when an attempt was placed (for analytics: when to call) ------------------


def local_slot(placed_at: datetime, zone_name: str | None) -> tuple[int, int]:
    """(weekday 0 = Monday, hour) of `placed_at` on the wall clock of the zone called `zone_name` (else the
    business zone), DST included."""
    local = placed_at.astimezone(zone_named(zone_name))
    return local.weekday(), local.hour


def _stamp_local_slot(_mapper, connection, attempt: CampaignCallAttempt) -> None:
    """Whenever an attempt's `placed_at` is written (placed by the dispatcher, adopted by a callback, set by
    the demo or a test), store the customer's local weekday and hour of that moment beside it, so the
    answer heatmap reads two columns instead of converting every call to its customer's zone."""
    if attempt.placed_at is None:
        attempt.local_weekday = attempt.local_hour = None
        return
    changed = sa.inspect(attempt).attrs.placed_at.history.has_changes()
    if attempt.local_weekday is not None and attempt.local_hour is not None and not changed:
        return
    zone_name = connection.execute(
        sa.select(Customer.timezone).select_from(CampaignCall)
        .join(Customer, Customer.id == CampaignCall.customer_id)
        .where(CampaignCall.id == attempt.campaign_call_id)).scalar()
    attempt.local_weekday, attempt.local_hour = local_slot(attempt.placed_at, zone_name)


event.listen(CampaignCallAttempt, "before_insert", _stamp_local_slot)
event.listen(CampaignCallAttempt, "before_update", _stamp_local_slot)
