"""Fault: PostgreSQL stops for 20 s while signed webhooks keep arriving.

    .venv/bin/python bench/faults/postgres_outage.py [--down 20] [--rate 4]

Starts its own PostgreSQL and Redis (free ports), the production web backend and one worker.
Senders post signed post-call webhooks at a steady rate, each a distinct conversation, and retry
the way ElevenLabs does (same event, fresh signature, short backoff) on a 5xx or a connection error.
PostgreSQL is stopped (immediate shutdown) for --down seconds in the middle, then started again;
the app and the worker are never restarted. Shows: what the senders got while the database was down
(status codes, Retry-After), that no event answered 200 is lost (each is in the inbox exactly once
and gets processed), how long after PostgreSQL came back the first 200 was answered, and /api/health
going from database down to ok. Exits 1 when a property fails. Stops and removes only its own servers.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

from _common import (
    T0,
    HealthProbe,
    Senders,
    Stack,
    Verdict,
    check_accepted_in_inbox,
    check_inbox_drained,
    heading,
    print_sender_summary,
    say,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--down", type=float, default=20.0, help="seconds PostgreSQL stays down")
    parser.add_argument("--rate", type=float, default=4.0, help="new webhooks per second")
    args = parser.parse_args()
    verdict = Verdict()
    heading(f"PostgreSQL stopped for {args.down:g} s during webhook traffic")
    with Stack() as stack:
        worker = stack.new_worker()
        probe = HealthProbe(stack.app.url, interval=0.25).start()
        senders = Senders(stack.webhook_url, rate=args.rate, give_up_after=180).start()
        say(f"worker started (pid {worker.proc.pid}); senders post {args.rate:g} new signed webhooks/s, "
            f"retrying on 5xx/connection errors after 0.5, 1, 2, 2, ... s")
        time.sleep(8)
        before = senders.summary()
        say(f"steady state: {before['events']} events sent, answers {before['statuses']}")

        stack.pg.stop("immediate")
        down_at = time.monotonic()
        say("PostgreSQL STOPPED (immediate shutdown)")
        time.sleep(args.down)
        start_called = time.monotonic()
        stack.pg.start()
        up_at = time.monotonic()
        say(f"PostgreSQL STARTED again after {up_at - down_at:.1f} s (pg_ctl start took {up_at - start_called:.1f} s; "
            f"the app and the worker were not touched)")
        time.sleep(12)
        senders.stop()
        say("senders stopped making new events; every event in flight was retried to the end")

        heading("what the senders saw")
        s = print_sender_summary(senders)
        deliveries = senders.snapshot()
        down_t, up_t = down_at - T0, up_at - T0
        outage_tries = [(at, status, ra) for d in deliveries for at, status, ra in d.tries if down_t <= at < up_t]
        errors = Counter(status for _, status, _ in outage_tries if status != "200")
        retry_after = Counter(ra for _, status, ra in outage_tries if status == "503")
        ok_during = sum(status == "200" and at < start_called - T0 for at, status, _ in outage_tries)
        say(f"while PostgreSQL was down: {len(outage_tries)} POSTs -> errors {dict(errors)}, 200s before pg_ctl start {ok_during}; "
            f"Retry-After on the 503s: {dict(retry_after)}")
        verdict.check(sum(errors.values()) > 0 and ok_during == 0,
                      f"senders got errors while the database was down ({sum(errors.values())}) and no 200")
        verdict.check(set(errors) <= {"503"} and sum(retry_after.values()) == errors.get("503", 0),
                      f"every error was a 503 with Retry-After (no 500, no dropped connection: {dict(errors)})")
        after = [(at, status) for d in deliveries for at, status, _ in d.tries if at >= up_t]
        first_ok = min((at for d in deliveries for at, status, _ in d.tries
                        if status == "200" and at >= down_t), default=None)
        recovered = None if first_ok is None else max(0.0, first_ok - up_t)
        if first_ok is not None and first_ok < up_t:
            say(f"(PostgreSQL took connections {up_t - first_ok:.1f} s before pg_ctl's wait loop returned: "
                f"the first 200 came {first_ok - (start_called - T0):.1f} s after pg_ctl start was called)")
        say(f"first 200 after PostgreSQL came back: "
            f"{'never' if recovered is None else f'{recovered:.1f} s later'}; "
            f"errors after it came back: {dict(Counter(st for at, st in after if st != '200'))}")
        verdict.check(recovered is not None and recovered < 15,
                      f"the app recovered by itself without a restart (first 200 "
                      f"{'never' if recovered is None else f'{recovered:.1f} s'} after PostgreSQL was back)")
        retried = [d for d in deliveries if len(d.tries) > 1]
        say(f"{len(retried)} events needed retries; tries per event {dict(sorted(Counter(len(d.tries) for d in deliveries).items()))}")
        verdict.check(not s["undelivered"], f"every event was finally answered 200 ({len(s['undelivered'])} not)")

        heading("the inbox")
        check_accepted_in_inbox(verdict, senders)
        drained = check_inbox_drained(verdict, timeout=240)
        verdict.check(worker.alive(), "the worker is still running (it rode out the outage)")

        probe.stop()
        heading("/api/health")
        probe.print()
        states = [state for _, state in probe.transitions]
        saw_down = any(st.startswith("503") and "database=down" in st for st in states)
        back = [at for at, st in probe.transitions if at >= up_t and st.startswith("200") and "database=ok" in st]
        verdict.check(saw_down, "/api/health answered 503 database=down during the outage")
        verdict.check(bool(back), "/api/health answered 200 database=ok again afterwards"
                      + (f" ({back[0] - up_t:.1f} s after PostgreSQL was back)" if back else ""))

        heading("timings")
        say(f"PostgreSQL down {up_at - down_at:.1f} s; back -> first 200 "
            f"{'never' if recovered is None else f'{recovered:.1f} s'}; back -> health ok "
            f"{f'{back[0] - up_t:.1f} s' if back else 'never'}; inbox fully processed "
            f"{'never' if drained is None else f'{time.monotonic() - up_at:.1f} s'} after PostgreSQL was back")
    return verdict.exit_code()


if __name__ == "__main__":
    sys.exit(main())
