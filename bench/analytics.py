"""Analytics queries at scale: 1,000,000 campaign calls (about 1.3 million attempts) and 200,000 conversations
(400,000 evaluation results) on PostgreSQL, each query of analytics.service timed on its own.

    PYTHONPATH=. .venv/bin/python bench/analytics.py [--calls N] [--conversations N] [--runs R]

A fresh PostgreSQL database migrated by Alembic, filled with generate_series (100 campaigns of 10,000
calls, 100,000 customers in 9 time zones, attempts spread over the last 180 days, outcomes in realistic
shares, 60% of attempts priced), ANALYZEd; the rollup job run once (every day but the last two); then each figure (funnel, heatmap, talk time, cost,
conversations, evaluations) for one campaign and for every call over 7, 30 and 90 days: median and p95
of R runs after 2 warm-up runs. The whole report is the sum of its figures.
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

from _shared import fmt, median_p95, measure, postgres_database, quiet_logs, use_database

FILL = """
INSERT INTO customers (name, phone, timezone, do_not_call, notes, created_at, updated_at)
SELECT 'Bench ' || i, '+1212' || lpad(i::text, 7, '0'),
       (ARRAY['America/New_York','America/Chicago','America/Los_Angeles','Europe/London','Europe/Paris',
              'Asia/Kolkata','Asia/Tokyo','Australia/Sydney',NULL])[1 + i % 9],
       false, '', now(), now()
FROM generate_series(1, :customers) AS i;

INSERT INTO campaigns (name, purpose, status, audience, variables, calling_window_start, calling_window_end,
                       calling_days, calls_per_second, max_concurrent_calls, max_attempts, retry_spacing_minutes,
                       retry_on, created_at, updated_at, snapshot)
SELECT 'Campaign ' || i, '', 'completed', '{}', '{}', '09:00', '18:00', 'mon,tue,wed,thu,fri', 1, 5, 3, 60,
       'busy,no_answer,failed,voicemail', now(), now(), '{}'
FROM generate_series(1, :campaigns) AS i;

INSERT INTO campaign_calls (campaign_id, customer_id, status, attempts, variables, created_at, updated_at, tries,
                            purpose, claims)
SELECT 1 + (i - 1) % :campaigns, 1 + ((i - 1) / :campaigns) % :customers, 'completed', 1, '{}', now(), now(), 1,
       'campaign', '{}'
FROM generate_series(1, :calls) AS i;

INSERT INTO campaign_call_attempts (campaign_call_id, campaign_id, number, idempotency_key, provider, status,
                                    provider_call_id, outcome, duration_seconds, created_at, placed_at, updated_at,
                                    cost, cost_unit, local_weekday, local_hour)
SELECT c.id, c.campaign_id, n, 'b-' || c.id || '-' || n, 'twilio', 'ended', 'CA' || c.id || 'n' || n,
       o.outcome, CASE WHEN o.outcome = 'completed' THEN 10 + (hashtext(c.id::text || n) & 1023) % 600 END,
       now(), o.placed_at, now(),
       CASE WHEN (hashtext('c' || c.id || n) & 1023) < 614 THEN round(((hashtext('p' || c.id) & 1023) / 4000.0)::numeric, 5) END,
       CASE WHEN (hashtext('c' || c.id || n) & 1023) < 614 THEN 'USD' END,
       -- what the pipeline stamps when it places a call: the customer's local weekday (0 = Monday) and hour
       extract(isodow FROM o.placed_at AT TIME ZONE coalesce(cu.timezone, :zone))::int - 1,
       extract(hour FROM o.placed_at AT TIME ZONE coalesce(cu.timezone, :zone))::int
FROM campaign_calls c
JOIN customers cu ON cu.id = c.customer_id
CROSS JOIN LATERAL generate_series(1, CASE WHEN c.id % 10 < 3 THEN 2 ELSE 1 END) AS n
CROSS JOIN LATERAL (SELECT
    now() - ((hashtext('t' || c.id || n) & 2147483647) % (180 * 86400)) * interval '1 second' AS placed_at,
    CASE WHEN r < 45 THEN 'completed' WHEN r < 60 THEN 'voicemail' WHEN r < 70 THEN 'voicemail_left'
         WHEN r < 85 THEN 'no_answer' WHEN r < 93 THEN 'busy' WHEN r < 98 THEN 'failed' END AS outcome
    FROM (SELECT (hashtext('o' || c.id || n) & 2147483647) % 100 AS r) AS rr) AS o;

INSERT INTO conversations (external_id, status, summary, transcript, data_collection, outcome, title, direction,
                           campaign_call_id, created_at, updated_at, started_at, needs_review, goal_reached,
                           evaluation, evaluation_failed, cost, handed_off_at, duration_seconds)
SELECT 'conv-' || a.id, 'done', '', '[]', '{}',
       CASE WHEN a.id % 5 < 2 THEN 'booking_created' ELSE 'needs_review' END, '', 'outbound',
       a.campaign_call_id, a.placed_at + interval '5 minutes', now(), a.placed_at, false, a.id % 5 < 2,
       '{}', a.id % 10 = 0, 100 + a.id % 400, CASE WHEN a.id % 20 = 0 THEN a.placed_at END, a.duration_seconds
FROM (SELECT id, campaign_call_id, placed_at, duration_seconds FROM campaign_call_attempts
      WHERE outcome = 'completed' ORDER BY id LIMIT :conversations) AS a;

INSERT INTO conversation_evaluations (conversation_id, criterion, result, rationale, occurred_at)
SELECT c.id, k.criterion,
       CASE WHEN c.evaluation_failed AND k.criterion = 'resolved' THEN 'failure'
            WHEN c.id % 7 = 0 THEN 'unknown' ELSE 'success' END, '', c.started_at
FROM conversations c CROSS JOIN (VALUES ('polite'), ('resolved')) AS k(criterion);
"""


def fill(url: str, *, calls: int, conversations: int) -> dict[str, int]:
    import sqlalchemy as sa

    from navaia_app.core.db import engine_for
    from navaia_app.core.settings import get_settings

    engine = engine_for(url)
    params = {"calls": calls, "campaigns": 100, "customers": 100_000, "conversations": conversations,
              "zone": get_settings().business_timezone}
    with engine.begin() as conn:
        for statement in [s for s in FILL.split(";\n") if s.strip()]:
            conn.execute(sa.text(statement), params)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
        counts = {table: conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()
                  for table in ("campaign_calls", "campaign_call_attempts", "conversations",
                                "conversation_evaluations")}
    return counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--conversations", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--url", help="an already filled database (kept): time the queries only")
    args = parser.parse_args()
    quiet_logs()
    if args.url:
        use_database(args.url)
        roll_up()
        run(args)
        return
    with postgres_database() as url:
        use_database(url)
        started = time.perf_counter()
        counts = fill(url, calls=args.calls, conversations=args.conversations)
        print(f"filled in {time.perf_counter() - started:.0f} s: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
        roll_up()
        run(args)


def roll_up() -> None:
    """What the hourly job does: roll up every day that is over (all of them, the first time)."""
    import sqlalchemy as sa

    from navaia_app.analytics import rollup
    from navaia_app.core.db import get_engine, session_scope

    started = time.perf_counter()
    days = rollup.build(session_factory=session_scope)
    took = time.perf_counter() - started
    with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE analytics_days, analytics_outcomes, analytics_slots, analytics_talk"))
        rows = {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar()
                for t in ("analytics_outcomes", "analytics_slots", "analytics_talk")}
    print(f"rollup job: {days} days in {took:.1f} s ({took / max(days, 1) * 1000:.0f} ms a day); "
          + ", ".join(f"{k} {v:,} rows" for k, v in rows.items()))


def run(args) -> None:
    from navaia_app.analytics import service
    from navaia_app.core.db import session_scope
    from navaia_app.core.types import utcnow

    if True:
        now = utcnow()
        scopes = {"campaign #1 (10,000 calls, all time)": service.Scope(campaign_id=1),
                  "every call, last 7 days": service.Scope(start=now - timedelta(days=7), end=now),
                  "every call, last 30 days": service.Scope(start=now - timedelta(days=30), end=now),
                  "every call, last 90 days": service.Scope(start=now - timedelta(days=90), end=now)}
        print(f"\nPostgreSQL, one query at a time, median / p95 of {args.runs} runs (ms):")
        worst = 0.0
        for label, scope in scopes.items():
            with session_scope() as session:
                dialled = service.funnel(session=session, scope=scope)["dialled"]
                figures = {
                    "funnel": lambda: service.funnel(session=session, scope=scope),
                    "heatmap": lambda: service.answer_heatmap(session=session, scope=scope),
                    "talk_time": lambda: service.talk_time(session=session, scope=scope),
                    "cost": lambda: service.costs(session=session, scope=scope, goal_reached=1),
                    "conversations": lambda: service.conversation_counts(session=session, scope=scope),
                    "evaluations": lambda: service.evaluations(session=session, scope=scope),
                    "whole report": lambda: service.report(session=session, scope=scope),
                }
                print(f"  {label}: {dialled:,} attempts dialled")
                for name, action in figures.items():
                    times = measure(action, runs=args.runs)
                    if name != "whole report":
                        worst = max(worst, median_p95(times)[1])
                    print(f"    {name:<14} {fmt(times)}")
        print(f"\nslowest single query p95: {worst:.1f} ms")


if __name__ == "__main__":
    main()
