"""Fault: Redis stops mid-campaign and comes back empty (no persistence), while webhooks keep arriving.

    .venv/bin/python bench/faults/redis_restart.py [--customers 200] [--down 10]

Starts its own PostgreSQL and Redis (free ports, Redis without persistence), the production web
backend and one worker (simulated carrier, sped up 50 times). A campaign calls every customer once;
senders post signed webhooks all along. Redis is stopped for --down seconds: webhooks must still be
answered 200 and stored in the inbox. Then Redis starts again with nothing in it (the queued jobs,
the scheduled periodic jobs and the dispatcher's hand-over are gone), and the worker's reconciler
and the inbox sweeper must rebuild the work from the database: the campaign finishes with each
customer called once, and every inbox event is processed. Prints timings; exits 1 when a property
fails. Stops and removes only the servers it started.
"""

from __future__ import annotations

import argparse
import sys
import time

from _common import (
    HealthProbe,
    Senders,
    Stack,
    Verdict,
    campaign_status,
    check_accepted_in_inbox,
    check_each_customer_called_once,
    check_inbox_drained,
    create_campaign,
    heading,
    inbox_by_external_id,
    placed_calls,
    print_sender_summary,
    say,
    wait_for,
)

WORKER_ENV = {"SIMULATED_TIME_SCALE": "0.02", "SIMULATED_CALLS_PER_SECOND": "100",
              "CAMPAIGN_DISPATCH_SLICE_SECONDS": "2", "CAMPAIGN_RECONCILE_SECONDS": "5"}


def redis_keys(url: str) -> int:
    import redis

    client = redis.Redis.from_url(url)
    try:
        return client.dbsize()
    finally:
        client.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--down", type=float, default=10.0, help="seconds Redis stays down")
    parser.add_argument("--rate", type=float, default=2.0, help="sender webhooks per second")
    args = parser.parse_args()
    customers = max(30, min(args.customers, 2000))
    verdict = Verdict()
    heading("Redis restarted without persistence mid-campaign")
    with Stack(worker_env=WORKER_ENV) as stack:
        worker = stack.new_worker()
        probe = HealthProbe(stack.app.url).start()
        senders = Senders(stack.webhook_url, rate=args.rate).start()
        say(f"worker started (pid {worker.proc.pid}); senders post {args.rate:g} signed webhooks/s")
        cid = create_campaign(customers, calls_per_second=8, max_concurrent_calls=40)
        began = time.monotonic()
        say(f"campaign {cid} started: {customers} customers, 8 calls/s, 1 attempt each")

        threshold = customers // 4
        if wait_for(lambda: placed_calls(cid) >= threshold, 90, interval=0.1) is None:
            say(f"only {placed_calls(cid)} calls placed after 90 s; worker log:\n{worker.log_tail()}")
            verdict.check(False, f"{threshold} calls placed before the fault")
            return verdict.exit_code()

        keys_before = redis_keys(stack.redis.url)
        stack.redis.stop()
        down_at = time.monotonic()
        at_stop = placed_calls(cid)
        say(f"Redis STOPPED ({keys_before} keys lost with it) after {down_at - began:.1f} s of campaign: "
            f"{at_stop}/{customers} calls placed")
        time.sleep(args.down)
        during_ids = {d.conversation_id for d in senders.snapshot()
                      if d.tries and down_at - _t0() <= d.tries[0][0] <= time.monotonic() - _t0()}
        stack.redis.start()
        up_at = time.monotonic()
        say(f"Redis STARTED again, empty ({redis_keys(stack.redis.url)} keys), after {up_at - down_at:.1f} s down; "
            f"{placed_calls(cid)}/{customers} calls placed")

        heading("webhooks that arrived while Redis was down")
        during = [d for d in senders.snapshot() if d.conversation_id in during_ids]
        first_answers = {}
        for d in during:
            first_answers[d.tries[0][1]] = first_answers.get(d.tries[0][1], 0) + 1
        say(f"{len(during)} events first sent while Redis was down; their first answers: {first_answers}")
        verdict.check(len(during) > 0 and first_answers == {"200": len(during)},
                      "every webhook sent while Redis was down was answered 200 at the first try")
        stored = inbox_by_external_id(senders.prefix)
        stored_during = [k for k in during_ids if k in stored]
        say(f"{len(stored_during)} of them are in the inbox; statuses now "
            f"{_count(stored[k][0][1] for k in stored_during)}")
        verdict.check(len(stored_during) == len(during_ids), "each of them is stored in the inbox")

        heading("recovery")
        moved = wait_for(lambda: placed_calls(cid) > at_stop or campaign_status(cid) == "completed", 120,
                         interval=0.1)
        moved_after = None if moved is None else time.monotonic() - up_at
        done = wait_for(lambda: campaign_status(cid) == "completed", 180, interval=0.25)
        done_after = None if done is None else time.monotonic() - up_at
        if done is None:
            say(f"campaign still '{campaign_status(cid)}' 180 s later; worker log:\n{worker.log_tail()}")
        else:
            say(f"campaign completed {done_after:.1f} s after Redis came back")
        time.sleep(2)
        senders.stop()
        verdict.check(worker.alive(), "the worker rode out the outage (never exited)")
        check_each_customer_called_once(verdict, cid, customers)
        s = print_sender_summary(senders)
        verdict.check(not s["undelivered"] and not any(k not in ("200",) for k in s["statuses"]),
                      f"every sender event was answered 200, before, during and after the outage ({s['statuses']})")
        check_accepted_in_inbox(verdict, senders)
        drained = check_inbox_drained(verdict, timeout=240)
        drained_after = time.monotonic() - up_at if drained is not None else None
        log = worker.log_tail(50_000_000)
        rebuilt = log.count("calls: startup reconcile") - 1 + log.count("redis_was_reset")
        swept = [line.rsplit("requeued=", 1)[1].split()[0] for line in log.splitlines() if "webhook.swept" in line]
        say(f"worker log: reconciles that rebuilt the work after Redis came back empty: {rebuilt} "
            f"(the worker re-registers on the new Redis and runs its startup reconcile); "
            f"inbox sweeps that re-queued events: {swept or 'none'}")
        verdict.check(rebuilt >= 1, "the worker noticed Redis came back empty and rebuilt its work from the database")
        probe.stop()
        probe.print()

        heading("timings")
        say(f"Redis down {up_at - down_at:.1f} s; after Redis came back: calls moving again "
            f"{_fmt(moved_after)}, campaign completed {_fmt(done_after)}, every inbox event processed "
            f"{_fmt(drained_after)} (the sweeper runs each minute and leaves an event alone for its first 20 s)")
    return verdict.exit_code()


def _t0() -> float:
    from _common import T0

    return T0


def _count(items) -> dict:
    out: dict = {}
    for item in items:
        out[item] = out.get(item, 0) + 1
    return out


def _fmt(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f} s"


if __name__ == "__main__":
    sys.exit(main())
