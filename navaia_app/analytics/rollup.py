"""The daily rollup behind the call analytics (analytics/models.py): built by a periodic job for UTC days
that are over, kept exact by removing a day's rows whenever something that counts in it changes later, and
read together with the live part (the days not rolled up, and the partial days at a period's edges).

Exactness: a day is rolled up, in one transaction, from what is committed; any later change to an attempt of
that day (its outcome, duration, cost, a late carrier report), to a conversation's goal for one of its answered
attempts, or a deleted customer, removes the day's rows in the same transaction as the change (a session
hook, so every write path is covered). Both take one lock, so a change can never slip in between the job's
reading and its commit. The job builds only days that ended SETTLE_DAYS ago, so the calls of today and
yesterday (which still change) never touch the rollup; re-running it is harmless (it skips built days).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, func, select

from navaia_app.analytics.models import EVERY_CALL, AnalyticsDay, AnalyticsOutcome, AnalyticsSlot, AnalyticsTalk
from navaia_app.campaigns.models import CampaignCall, CampaignCallAttempt
from navaia_app.conversations.models import Conversation
from navaia_app.core.db import lock_until_commit
from navaia_app.core.logging import get_logger
from navaia_app.core.types import utcnow
from navaia_app.customers.models import Customer

log = get_logger(__name__)

A = CampaignCallAttempt
ANSWERED = "completed"
SETTLE_DAYS = 2  # the job rolls up day d once d + SETTLE_DAYS is today (UTC) or earlier
LOCK = "analytics_rollup"
ROLLUP_TABLES = (AnalyticsOutcome, AnalyticsSlot, AnalyticsTalk)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


def _last_rollable(now: datetime) -> date:
    return now.astimezone(timezone.utc).date() - timedelta(days=SETTLE_DAYS)


# --- building ---------------------------------------------------------------------------------------


def goal_exists():
    """The attempt's call has a conversation that reached its goal."""
    return sa.exists().where(Conversation.campaign_call_id == A.campaign_call_id,
                             Conversation.goal_reached == sa.true())


def flag(condition):
    """How many rows meet `condition`."""
    return func.sum(sa.case((condition, 1), else_=0))


def _build_day(session: Session, day: date) -> None:
    """Replace the rows of `day` with what its attempts add up to now, and mark it built."""
    for table in (*ROLLUP_TABLES, AnalyticsDay):
        session.exec(sa.delete(table).where(table.day == day))
    placed = [A.placed_at >= day_start(day), A.placed_at < day_start(day + timedelta(days=1))]
    answered = A.outcome == ANSWERED
    for key, where in ((A.campaign_id, [A.campaign_id.is_not(None)]), (sa.literal(EVERY_CALL), [])):
        key = key.label("campaign_key")
        outcomes = (select(sa.literal(day, sa.Date), key, A.outcome, A.cost_unit, func.count(),
                           flag(sa.and_(answered, goal_exists())), func.count(A.duration_seconds),
                           func.coalesce(func.sum(A.duration_seconds), 0), func.count(A.cost), func.sum(A.cost))
                    .where(*placed, *where).group_by(key, A.outcome, A.cost_unit))
        session.exec(sa.insert(AnalyticsOutcome).from_select(
            ["day", "campaign_key", "outcome", "cost_unit", "attempts", "goals", "durations", "duration_sum",
             "priced", "cost_sum"], outcomes))
        slots = (select(sa.literal(day, sa.Date), key, A.local_weekday, A.local_hour, func.count(), flag(answered))
                 .where(*placed, *where).group_by(key, A.local_weekday, A.local_hour))
        session.exec(sa.insert(AnalyticsSlot).from_select(
            ["day", "campaign_key", "weekday", "hour", "dialled", "answered"], slots))
        talk = (select(sa.literal(day, sa.Date), key, A.duration_seconds, func.count())
                .where(*placed, *where, answered, A.duration_seconds.is_not(None))
                .group_by(key, A.duration_seconds))
        session.exec(sa.insert(AnalyticsTalk).from_select(["day", "campaign_key", "seconds", "calls"], talk))
    session.add(AnalyticsDay(day=day, built_at=utcnow()))
    session.flush()


def build(*, session_factory, now: datetime | None = None, max_days: int = 800) -> int:
    """Roll up every UTC day that is over (by SETTLE_DAYS) and not rolled up yet, from the first day an
    attempt was placed; one transaction per day. Returns how many days were built. Harmless to re-run
    (built days are skipped) or to run twice at once (the lock)."""
    last = _last_rollable(now or utcnow())
    with session_factory() as session:
        first = session.exec(select(func.min(A.placed_at)).where(A.placed_at.is_not(None))).one()
        if first is None:
            return 0
        done = set(session.exec(select(AnalyticsDay.day).where(AnalyticsDay.day <= last)).all())
    day, built = first.astimezone(timezone.utc).date(), 0
    while day <= last and built < max_days:
        if day not in done:
            with session_factory() as session:
                lock_until_commit(session, LOCK, sqlite_table="analytics_days")
                if session.get(AnalyticsDay, day) is None:
                    _build_day(session, day)
                    built += 1
        day += timedelta(days=1)
    if built:
        log.info("analytics.rollup_built", days=built, until=last.isoformat())
    return built


# --- keeping it exact ---------------------------------------------------------------------------------


def _days(moments) -> set[date]:
    return {m.astimezone(timezone.utc).date() for m in moments if m is not None}


def _history(obj, name: str) -> list:
    """Every value the attribute had in this unit of work (loaded first when it was expired)."""
    state = sa.inspect(obj)
    if name in state.unloaded and state.key is not None:
        getattr(obj, name)
    history = state.attrs[name].history
    return [*history.added, *history.unchanged, *history.deleted]


def _attempt_days(session: OrmSession, condition) -> set[date]:
    return _days(session.connection().execute(select(A.placed_at).where(A.placed_at.is_not(None), condition))
                 .scalars())


def _touched_days(session: OrmSession) -> set[date]:
    days: set[date] = set()
    calls: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, CampaignCallAttempt):
            days |= _days(_history(obj, "placed_at"))
        elif isinstance(obj, Conversation):
            state = sa.inspect(obj)
            changed = (obj in session.new or obj in session.deleted
                       or state.attrs.goal_reached.history.has_changes()
                       or state.attrs.campaign_call_id.history.has_changes())
            if changed:
                calls |= {c for c in _history(obj, "campaign_call_id") if c is not None}
        elif isinstance(obj, Customer) and obj in session.deleted and obj.id is not None:
            days |= _attempt_days(session, A.campaign_call_id.in_(
                select(CampaignCall.id).where(CampaignCall.customer_id == obj.id)))
    if calls:
        days |= _attempt_days(session, sa.and_(A.campaign_call_id.in_(calls), A.outcome == ANSWERED))
    return days


def invalidate(session: OrmSession, days: set[date]) -> None:
    """Remove the rollup of `days` (they are read live until the job builds them again)."""
    if not days:
        return
    lock_until_commit(session, LOCK, sqlite_table="analytics_days")
    connection = session.connection()
    gone = connection.execute(sa.delete(AnalyticsDay).where(AnalyticsDay.day.in_(sorted(days)))).rowcount
    if gone:
        for table in ROLLUP_TABLES:
            connection.execute(sa.delete(table).where(table.day.in_(sorted(days))))
        log.info("analytics.rollup_invalidated", days=sorted(d.isoformat() for d in days))


@event.listens_for(OrmSession, "before_flush")
def _invalidate_touched_days(session: OrmSession, _context, _instances) -> None:
    # only days the job may have built (today's and yesterday's calls never are): the common write path
    # neither locks nor deletes anything
    horizon = _last_rollable(utcnow()) + timedelta(days=1)
    invalidate(session, {d for d in _touched_days(session) if d <= horizon})


# --- reading ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    """A scope cut into rolled-up days (read from the rollup tables) and the live ranges around them."""

    key: int
    runs: list[tuple[date, date]]  # inclusive runs of consecutive rolled-up days
    live: list[tuple[datetime | None, datetime | None]]  # [start, end) ranges to read from the attempts

    def rolled(self, table) -> list:
        """Conditions on a rollup table: this scope's rows of the rolled-up days (never true without runs)."""
        return [table.campaign_key == self.key,
                sa.or_(*[sa.and_(table.day >= a, table.day <= b) for a, b in self.runs])]


def split(session: Session, scope) -> Split:
    """Which whole UTC days of [scope.start, scope.end) are rolled up; the rest are live ranges."""
    first = None
    if scope.start is not None:
        first = scope.start.astimezone(timezone.utc).date()
        if day_start(first) < scope.start:
            first += timedelta(days=1)
    last = None
    if scope.end is not None:
        last = scope.end.astimezone(timezone.utc).date() - timedelta(days=1)  # the last day that ends by `end`
    query = select(AnalyticsDay.day)
    if first is not None:
        query = query.where(AnalyticsDay.day >= first)
    if last is not None:
        query = query.where(AnalyticsDay.day <= last)
    runs: list[tuple[date, date]] = []
    for day in session.exec(query.order_by(AnalyticsDay.day)).all():
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    live, cursor = [], scope.start
    for a, b in runs:
        if cursor is None or cursor < day_start(a):
            live.append((cursor, day_start(a)))
        cursor = day_start(b + timedelta(days=1))
    if scope.end is None or cursor is None or cursor < scope.end:
        live.append((cursor, scope.end))
    return Split(key=scope.campaign_id if scope.campaign_id is not None else EVERY_CALL, runs=runs, live=live)


def live_scopes(scope, parts: Split) -> list:
    """The scope narrowed to each live range."""
    return [replace(scope, start=lo, end=hi) for lo, hi in parts.live]
