"""Call analytics: what became of the calls we placed, when people answer, how long they talk, what it
cost and how the agent was judged. Read-only aggregate queries over the tables the call pipeline writes.

Definitions (the README's Analytics section says the same):
- an *attempt* is one try at ringing a customer; *dialled* = attempts that reached the carrier
  (`placed_at` set). Each dialled attempt ends as one outcome: answered by a person (`completed`),
  `voicemail`, `voicemail_left`, `no_answer`, `busy`, `failed`; the rest are still under way.
- *goal reached* = answered attempts whose conversation reached its goal (conversations.service.goal_reached:
  booking made, ticket raised, the agent's `call_successful`, or every evaluation criterion met).
- scope: one campaign (all of its attempts, or those placed within a period), or every outbound attempt
  placed within a period; conversations in scope are the campaign's, or those recorded within the period.
- hour of day and weekday are the customer's local time (their time zone, else the business zone) at the
  moment the call was placed, DST included (stamped on the attempt then: outreach.calls.local_slot).

Heavy lifting stays in the database: each figure over attempts sums the daily rollup for the whole UTC
days of its scope that are rolled up (analytics/rollup.py) and groups the remaining attempts live (the last
days, the partial days at a period's edges), over indexed columns; what comes back is a few hundred groups
at most, whatever the number of calls. The two paths give identical figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, func, select

from navaia_app.analytics import rollup
from navaia_app.analytics.models import AnalyticsOutcome, AnalyticsSlot, AnalyticsTalk
from navaia_app.campaigns.models import Campaign, CampaignCall, CampaignCallAttempt
from navaia_app.conversations.models import Conversation, ConversationEvaluation
from navaia_app.core.errors import NotFound, ValidationFailed
from navaia_app.core.settings import get_settings
from navaia_app.core.types import utcnow
from navaia_app.core.zones import business_zone, local_midnight

OUTCOMES = ("voicemail", "voicemail_left", "no_answer", "busy", "failed")  # shown beside the funnel
ANSWERED = "completed"  # the attempt outcome that means a person answered
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_PERIOD_DAYS = 30
MAX_PERIOD_DAYS = 366 * 2
BUCKET_SECONDS = 900  # 15 minutes: every zone's offset is a multiple, so a bucket lies in one local hour

A = CampaignCallAttempt


@dataclass(frozen=True)
class Scope:
    campaign_id: int | None = None
    start: datetime | None = None  # UTC, inclusive
    end: datetime | None = None  # UTC, exclusive

    def attempts(self) -> list:
        """Conditions on call attempts: placed, of the campaign (when scoped to one), placed in [start, end)."""
        conditions = [A.placed_at.is_not(None)]
        if self.campaign_id is not None:
            conditions.append(A.campaign_id == self.campaign_id)
        if self.start is not None:
            conditions.append(A.placed_at >= self.start)
        if self.end is not None:
            conditions.append(A.placed_at < self.end)
        return conditions

    def campaign_conversations(self, session: Session):
        """The condition "this conversation came from a call of the scoped campaign"."""
        return _among(session, Conversation.campaign_call_id,
                      select(CampaignCall.id).where(CampaignCall.campaign_id == self.campaign_id))

    def conversations(self, session: Session, column) -> list:
        """Conditions on conversations (joined to nothing); `column` is when each counts as happening."""
        conditions = []
        if self.campaign_id is not None:
            conditions.append(self.campaign_conversations(session))
        if self.start is not None:
            conditions.append(column >= self.start)
        if self.end is not None:
            conditions.append(column < self.end)
        return conditions


def _among(session: Session, column, ids):
    """`column IN (ids)`; on PostgreSQL `= ANY(ARRAY(ids))`, which the planner answers with index lookups of
    the campaign's few thousand calls instead of a hash join over every conversation."""
    if session.get_bind().dialect.name == "postgresql":
        return column == sa.any_(func.array(ids.scalar_subquery()))
    return column.in_(ids)


# --- the period ------------------------------------------------------------------------------------


def _moment(value: str | date | datetime | None, field: str, *, end: bool) -> datetime | None:
    """A date is a whole day in the business zone (the end date is included); a datetime without an
    offset is business-zone wall-clock time."""
    if value is None or value == "":
        return None
    zone = business_zone()
    if isinstance(value, str):
        text = value.strip()
        try:
            value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError:
            raise ValidationFailed(f"{field} must be a date (YYYY-MM-DD) or an ISO 8601 date and time.",
                                   field=field) from None
    if not isinstance(value, datetime):
        day = value + timedelta(days=1) if end else value
        return local_midnight(day, zone).astimezone(timezone.utc)
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(timezone.utc)


def period(start: str | date | datetime | None = None, end: str | date | datetime | None = None, *,
           default_days: int | None = DEFAULT_PERIOD_DAYS, now: datetime | None = None
           ) -> tuple[datetime | None, datetime | None]:
    """[start, end) in UTC. Without a start: the last `default_days` days up to `end` (or now), or no
    bound when `default_days` is None."""
    start_at, end_at = _moment(start, "start", end=False), _moment(end, "end", end=True)
    if start_at is None and default_days is not None:
        end_at = end_at or (now or utcnow())
        start_at = end_at - timedelta(days=default_days)
    if start_at is not None and end_at is not None:
        if end_at <= start_at:
            raise ValidationFailed("end must be after start.", field="end")
        if end_at - start_at > timedelta(days=MAX_PERIOD_DAYS):
            raise ValidationFailed(f"A period is at most {MAX_PERIOD_DAYS} days.", field="start")
    return start_at, end_at


# --- the figures -----------------------------------------------------------------------------------


def _combined(session: Session, scope: Scope, rolled, live) -> list[tuple]:
    """The rows of `rolled(split)` (a query over the rollup tables, when any day of the scope is rolled up)
    followed by those of `live(scope)` for each live range of the scope: callers add them up by group."""
    parts = rollup.split(session, scope)
    rows = list(session.exec(rolled(parts)).all()) if parts.runs else []
    for part in rollup.live_scopes(scope, parts):
        rows.extend(session.exec(live(part)).all())
    return rows


def funnel(*, session: Session, scope: Scope) -> dict[str, int]:
    """dialled -> answered by a person -> goal reached, with the other outcomes beside them."""
    O = AnalyticsOutcome
    rows = _combined(
        session, scope,
        lambda parts: select(O.outcome, func.sum(O.attempts), func.sum(O.goals)).where(*parts.rolled(O))
        .group_by(O.outcome),
        lambda part: select(A.outcome, func.count(), rollup.flag(sa.and_(A.outcome == ANSWERED, rollup.goal_exists())))
        .where(*part.attempts()).group_by(A.outcome))
    by_outcome: dict[str | None, int] = {}
    goal = 0
    for outcome, count, goals in rows:
        by_outcome[outcome] = by_outcome.get(outcome, 0) + int(count)
        goal += int(goals or 0)
    dialled = sum(by_outcome.values())
    counts = {"dialled": dialled, "answered": by_outcome.get(ANSWERED, 0)}
    counts.update({outcome: by_outcome.get(outcome, 0) for outcome in OUTCOMES})
    counts["goal_reached"] = goal
    counts["in_progress"] = by_outcome.get(None, 0)
    return counts


def rates(counts: dict[str, int]) -> dict[str, float | None]:
    """The funnel's ratios (answer rate, goal rate of answered and of dialled, voicemail rate), each rounded to
    4 places; None where the denominator is 0, never a division error.
    """
    def ratio(a: int, b: int) -> float | None:
        return round(a / b, 4) if b else None

    return {"answer_rate": ratio(counts["answered"], counts["dialled"]),
            "goal_rate_of_answered": ratio(counts["goal_reached"], counts["answered"]),
            "goal_rate_of_dialled": ratio(counts["goal_reached"], counts["dialled"]),
            "voicemail_rate": ratio(counts["voicemail"] + counts["voicemail_left"], counts["dialled"])}


def _bucket(session: Session, column):
    """The 15-minute UTC bucket number of a timestamp column, on either database."""
    if session.get_bind().dialect.name == "postgresql":
        return sa.cast(func.floor(sa.extract("epoch", column) / BUCKET_SECONDS), sa.BigInteger)
    return sa.cast(func.strftime("%s", column), sa.Integer) / BUCKET_SECONDS


def answer_heatmap(*, session: Session, scope: Scope) -> list[dict[str, Any]]:
    """Dialled and answered attempts by weekday x hour of the customer's local time at the moment the call
    was placed (their zone, else the business zone; DST and half-hour zones included): when to call. Each
    attempt carries that weekday and hour from the moment it was placed (outreach.calls.local_slot)."""
    S = AnalyticsSlot
    rows = _combined(
        session, scope,
        lambda parts: select(S.weekday, S.hour, func.sum(S.dialled), func.sum(S.answered)).where(*parts.rolled(S))
        .group_by(S.weekday, S.hour),
        lambda part: select(A.local_weekday, A.local_hour, func.count(), rollup.flag(A.outcome == ANSWERED))
        .where(*part.attempts()).group_by(A.local_weekday, A.local_hour))
    grid = [[[0, 0] for _hour in range(24)] for _day in range(7)]
    for day, hour, dialled, picked_up in rows:
        grid[day][hour][0] += int(dialled)
        grid[day][hour][1] += int(picked_up or 0)
    return [{"weekday": WEEKDAYS[day], "hour": hour, "dialled": cell[0], "answered": cell[1],
             "answer_rate": round(cell[1] / cell[0], 4) if cell[0] else None}
            for day in range(7) for hour, cell in enumerate(grid[day])]


def _nearest_rank(histogram: dict[int, int], fractions: tuple[float, ...]) -> list[int | None]:
    """Nearest-rank percentiles (the smallest value with at least that share of values at or below it,
    i.e. PostgreSQL's percentile_disc) of a {value: how many} histogram."""
    n = sum(histogram.values())
    if not n:
        return [None for _ in fractions]
    values = sorted(histogram.items())
    out = []
    for fraction in fractions:
        rank, seen = max(1, math.ceil(fraction * n)), 0
        for value, count in values:
            seen += count
            if seen >= rank:
                out.append(value)
                break
    return out


def talk_time(*, session: Session, scope: Scope) -> dict[str, Any]:
    """How long answered calls lasted (seconds): median and 90th percentile (nearest rank, exact: from a
    histogram of whole seconds), and the total."""
    T = AnalyticsTalk
    rows = _combined(
        session, scope,
        lambda parts: select(T.seconds, func.sum(T.calls)).where(*parts.rolled(T)).group_by(T.seconds),
        lambda part: select(A.duration_seconds, func.count()).where(
            *part.attempts(), A.outcome == ANSWERED, A.duration_seconds.is_not(None)).group_by(A.duration_seconds))
    histogram: dict[int, int] = {}
    for seconds, count in rows:
        histogram[int(seconds)] = histogram.get(int(seconds), 0) + int(count)
    median, p90 = _nearest_rank(histogram, (0.5, 0.9))
    return {"calls": sum(histogram.values()), "total_seconds": sum(s * n for s, n in histogram.items()),
            "median_seconds": median, "p90_seconds": p90}


def _money(value) -> float:
    return round(float(value or 0), 5)


def costs(*, session: Session, scope: Scope, goal_reached: int) -> dict[str, Any]:
    """What the carrier (Twilio's call price, per currency) and the agent (ElevenLabs credits) charged,
    per call that reports a cost and per goal reached. Calls that report no cost are left out."""
    O = AnalyticsOutcome
    by_unit: dict[str | None, list] = {}
    for unit, priced, total in _combined(
            session, scope,
            lambda parts: select(O.cost_unit, func.sum(O.priced), func.sum(O.cost_sum))
            .where(*parts.rolled(O), O.priced > 0).group_by(O.cost_unit),
            lambda part: select(A.cost_unit, func.count(A.cost), func.sum(A.cost))
            .where(*part.attempts(), A.cost.is_not(None)).group_by(A.cost_unit)):
        sums = by_unit.setdefault(unit, [0, Decimal(0)])
        sums[0] += int(priced)
        sums[1] += Decimal(str(total or 0))
    telephony = []
    for unit, (priced, total) in by_unit.items():
        telephony.append({"unit": unit or "USD", "calls": priced, "total": _money(total),
                          "per_call": _money(float(total) / priced) if priced else None,
                          "per_goal": _money(float(total) / goal_reached) if goal_reached else None})
    conditions = scope.conversations(session, Conversation.created_at)
    priced, total, goals = session.exec(
        select(func.count(Conversation.cost), func.sum(Conversation.cost),
               func.coalesce(rollup.flag(Conversation.goal_reached == sa.true()), 0)).where(*conditions)).one()
    agent = {"unit": "credits", "calls": priced, "total": int(total or 0),
             "per_call": round(int(total) / priced, 2) if priced else None,
             "per_goal": round(int(total or 0) / goals, 2) if goals and priced else None}
    return {"telephony": telephony, "agent": agent}


def conversation_counts(*, session: Session, scope: Scope) -> dict[str, int]:
    """How many conversations of the scope there are, and how many reached their goal, were handed off to a
    person, or failed their evaluation.
    """
    conditions = scope.conversations(session, Conversation.created_at)
    flag = rollup.flag
    total, goal, handed, failed = session.exec(select(
        func.count(), flag(Conversation.goal_reached == sa.true()), flag(Conversation.handed_off_at.is_not(None)),
        flag(Conversation.evaluation_failed == sa.true())).select_from(Conversation).where(*conditions)).one()
    return {"total": total, "goal_reached": int(goal or 0), "handed_off": int(handed or 0),
            "evaluation_failed": int(failed or 0)}


def evaluations(*, session: Session, scope: Scope) -> dict[str, Any]:
    """Evaluation criteria results: per criterion overall, and per day (business zone) over time."""
    E = ConversationEvaluation
    bucket = _bucket(session, E.occurred_at).label("bucket")
    conditions = []
    if scope.campaign_id is not None:
        conditions.append(_among(session, E.conversation_id,
                                 select(Conversation.id).where(scope.campaign_conversations(session))))
    if scope.start is not None:
        conditions.append(E.occurred_at >= scope.start)
    if scope.end is not None:
        conditions.append(E.occurred_at < scope.end)
    zone = business_zone()
    if session.get_bind().dialect.name == "postgresql":
        day = func.date(func.timezone(zone.key, E.occurred_at)).label("day")
        grouped = [(c, r, d.isoformat(), n) for c, r, d, n in session.exec(
            select(E.criterion, E.result, day, func.count()).where(*conditions)
            .group_by(E.criterion, E.result, day)).all()]
    else:
        grouped = [(c, r, datetime.fromtimestamp(int(b) * BUCKET_SECONDS, timezone.utc).astimezone(zone).date()
                    .isoformat(), n) for c, r, b, n in session.exec(
            select(E.criterion, E.result, bucket, func.count()).where(*conditions)
            .group_by(E.criterion, E.result, bucket)).all()]
    overall: dict[str, dict[str, int]] = {}
    daily: dict[tuple[str, str], dict[str, int]] = {}
    for criterion, result, day_text, count in grouped:
        for target in (overall.setdefault(criterion, {"success": 0, "failure": 0, "unknown": 0}),
                       daily.setdefault((day_text, criterion), {"success": 0, "failure": 0, "unknown": 0})):
            target[result if result in target else "unknown"] += count
    return {
        "criteria": [{"criterion": name, **counts} for name, counts in sorted(overall.items())],
        "by_day": [{"day": day, "criterion": name, **counts} for (day, name), counts in sorted(daily.items())],
    }


def report(*, session: Session, scope: Scope) -> dict[str, Any]:
    """Everything the Analytics page and the REST report show for one scope (a campaign or every call over a
    period): the period, funnel counts and rates, the answer heatmap, talk time, cost and conversation counts.
    Raises what the scope's parts raise (ValidationFailed for a bad period).
    """
    counts = funnel(session=session, scope=scope)
    return {
        "period": {"start": scope.start, "end": scope.end, "timezone": get_settings().business_timezone},
        "counts": counts,
        "rates": rates(counts),
        "heatmap": answer_heatmap(session=session, scope=scope),
        "talk_time": talk_time(session=session, scope=scope),
        "cost": costs(session=session, scope=scope, goal_reached=counts["goal_reached"]),
        "conversations": conversation_counts(session=session, scope=scope),
        "evaluations": evaluations(session=session, scope=scope),
    }


def campaign_report(*, session: Session, campaign_id: int, start=None, end=None) -> dict[str, Any]:
    """One campaign: all of its calls, or those placed within [start, end] when given."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"Campaign {campaign_id} not found.")
    start_at, end_at = period(start, end, default_days=None)
    result = report(session=session, scope=Scope(campaign_id=campaign_id, start=start_at, end=end_at))
    result["campaign"] = {"id": campaign.id, "name": campaign.name, "status": campaign.status}
    return result


def calls_report(*, session: Session, start=None, end=None, now: datetime | None = None) -> dict[str, Any]:
    """Every outbound call placed within the period (default: the last 30 days)."""
    start_at, end_at = period(start, end, now=now)
    return report(session=session, scope=Scope(start=start_at, end=end_at))
