"""Fault: the worker is killed with SIGKILL mid-campaign, while it places calls.

    .venv/bin/python bench/faults/worker_killed.py [--customers 200]

Starts its own PostgreSQL and Redis (free ports), the production web backend (webhooks) and one
worker with the simulated carrier sped up 50 times. A campaign calls every customer once; answered
calls post their signed post-call webhook to the app, and senders post more webhooks (retrying
on 5xx like ElevenLabs). Once a third of the calls are placed, the worker (its work horse and
scheduler with it) gets SIGKILL in the middle of its job; a new worker is started a second later.
Shows: every customer called exactly once (attempts and provider calls per call, no duplicate
provider calls), the campaign completes, every inbox event is processed, and how long recovery took.
Exits 1 when one of these fails. Stops and removes only the servers it started.
"""

from __future__ import annotations

import argparse
import sys
import time

from _common import (
    Senders,
    Stack,
    Verdict,
    campaign_report,
    campaign_status,
    check_accepted_in_inbox,
    check_each_customer_called_once,
    check_inbox_drained,
    create_campaign,
    heading,
    kill_tree,
    placed_calls,
    print_sender_summary,
    rq_failed_jobs,
    say,
    wait_for,
)

WORKER_ENV = {"SIMULATED_TIME_SCALE": "0.02", "SIMULATED_CALLS_PER_SECOND": "100",
              "CAMPAIGN_DISPATCH_SLICE_SECONDS": "2", "CAMPAIGN_RECONCILE_SECONDS": "5"}


def current_jobs() -> list[str]:
    """What each live RQ worker is running right now (function names)."""
    import os

    import redis
    from rq import Worker

    connection = redis.Redis.from_url(os.environ["REDIS_URL"])
    try:
        names = []
        for worker in Worker.all(connection=connection):
            job = worker.get_current_job()
            names.append(f"{worker.get_state()}: {job.func_name.rsplit('.', 1)[-1] if job else 'no job'}")
        return names
    finally:
        connection.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--rate", type=float, default=1.0, help="sender webhooks per second")
    args = parser.parse_args()
    customers = max(30, min(args.customers, 2000))
    verdict = Verdict()
    heading("worker killed with SIGKILL mid-campaign")
    with Stack(worker_env=WORKER_ENV) as stack:
        worker = stack.new_worker()
        senders = Senders(stack.webhook_url, rate=args.rate).start()
        say(f"worker 1 started (pid {worker.proc.pid}); senders post {args.rate:g} signed webhooks/s")
        cid = create_campaign(customers, calls_per_second=20, max_concurrent_calls=40)
        started = time.monotonic()
        say(f"campaign {cid} started: {customers} customers, 20 calls/s, at most 40 at once, 1 attempt each")

        threshold = customers // 3
        took = wait_for(lambda: placed_calls(cid) >= threshold, 90, interval=0.05)
        if took is None:
            say(f"only {placed_calls(cid)} calls placed after 90 s; worker log:\n{worker.log_tail()}")
            verdict.check(False, f"{threshold} calls placed before the kill")
            return verdict.exit_code()
        running = current_jobs()
        victims = kill_tree(worker.proc.pid)  # the worker, its scheduler, its work horse (the job)
        worker.proc.wait()
        killed_at = time.monotonic()
        at_kill = placed_calls(cid)
        say(f"SIGKILL worker 1 after {killed_at - started:.1f} s of campaign: {at_kill}/{customers} calls placed; "
            f"it was {running or ['(not registered)']}; {len(victims)} processes killed")
        verdict.check(at_kill < customers, f"the campaign was still placing calls when the worker died "
                                           f"({at_kill}/{customers})")
        time.sleep(1.0)
        during = placed_calls(cid)
        say(f"1 s with no worker: {during - at_kill} more calls placed (nobody is dispatching)")

        replacement = stack.new_worker()
        restarted_at = time.monotonic()
        say(f"worker 2 started (pid {replacement.proc.pid})")
        first_new = wait_for(lambda: placed_calls(cid) > during, 90, interval=0.05)
        if first_new is not None:
            say(f"first call placed by worker 2 {first_new:.1f} s after it started "
                f"({time.monotonic() - killed_at:.1f} s after the kill)")
        done = wait_for(lambda: campaign_status(cid) == "completed", 150, interval=0.2)
        if done is None:
            say(f"campaign still '{campaign_status(cid)}' after 150 s; worker 2 log:\n{replacement.log_tail()}")
        else:
            say(f"campaign completed {done:.1f} s after worker 2 started "
                f"({time.monotonic() - started:.1f} s after it began)")
        verdict.check(first_new is not None, "worker 2 took the campaign over and placed calls")
        verdict.check(replacement.alive(), "worker 2 is alive")

        time.sleep(2)
        senders.stop()
        heading("calls")
        check_each_customer_called_once(verdict, cid, customers)

        heading("webhooks")
        sender_summary = print_sender_summary(senders)
        verdict.check(not sender_summary["undelivered"],
                      f"every sender event answered 200 ({len(sender_summary['undelivered'])} not)")
        check_accepted_in_inbox(verdict, senders)
        drained = check_inbox_drained(verdict, timeout=240, since=restarted_at)
        report = campaign_report(cid)
        say(f"answered calls {report['answered']}; linked to their conversation {report['conversations']} "
            f"(the simulated carrier posts an answered call's webhook once, from the worker: one that was "
            f"about to be posted when the worker died is not sent again; ElevenLabs itself retries)")
        say(f"RQ failed-job registries: {rq_failed_jobs()} (the killed job, if any; its work is redone "
            f"from the database)")

        heading("recovery")
        say(f"kill -> new worker: {restarted_at - killed_at:.1f} s (by this script); "
            f"new worker -> first call {first_new if first_new is None else round(first_new, 1)} s; "
            f"new worker -> campaign complete {done if done is None else round(done, 1)} s; "
            f"new worker -> inbox drained {drained if drained is None else round(time.monotonic() - restarted_at, 1)} s")
    return verdict.exit_code()


if __name__ == "__main__":
    sys.exit(main())
