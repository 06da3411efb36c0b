"""Fault: one of two web processes is killed (SIGKILL) in the middle of webhook traffic.

    .venv/bin/python bench/faults/web_process_killed.py [--rate 40] [--before 6] [--after 10]

Starts its own PostgreSQL and Redis (free ports; bench/faults/_common.py `Stack`) and two production web
processes (tests/support/servers.py `AppProcess`) against them: `docker compose up --scale web=2`.
No worker: what is at stake is the web tier's promise "answered 200 = stored in the inbox".

Senders behave like ElevenLabs posting to a public URL behind a load balancer: one new signed
post-call event every 1/rate s, each a distinct conversation; each event goes to the next process in
turn (round robin, as a balancer spreads requests); on a connection error, a timeout or a 5xx the *same*
event (same body, fresh signature) is sent again after 0.5, 1, 2, 2, ... s, and that retry goes to the
other process, as it would behind Caddy once the dead upstream is out of rotation. The senders talk to
the processes directly, so they also see every refused connection that Caddy absorbs in production
(Caddyfile: `lb_try_duration` dials the other backend, `fail_duration` keeps the dead one out); only the
requests in flight inside the killed process fail at the client either way. A retry of an event the
killed process had stored before it died is answered 200 "duplicate" (the inbox's unique key), never
stored twice.

After --before seconds, process A (its Granian main process and worker) gets SIGKILL with requests in
flight; traffic goes on for --after seconds; then the senders finish their retries. Prints: events
answered per process before and after the kill, every error and status the senders saw, retries, the
health of the surviving process over time; checks that every event answered 200 is in the inbox
exactly once, that nothing was given up, and that B kept answering (no gap over 2 s). Finally starts
A again and shows it answers (/api/health and a new webhook). Exits 1 on any lost or doubled event
or failed check. Stops and removes only the servers it started.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter

from _common import (
    WEBHOOK,
    Delivery,
    HealthProbe,
    Senders,
    Stack,
    T0,
    Verdict,
    check_accepted_in_inbox,
    heading,
    inbox_by_external_id,
    print_sender_summary,
    say,
    signature,
    webhook_body,
)

from tests.support.servers import AppProcess


class BalancedSenders(Senders):
    """_common.Senders whose tries are spread over several processes: an event's first try goes to the
    next process in turn, each retry to the next one after the process that failed it."""

    def __init__(self, bases: list[str], **kwargs):
        super().__init__(bases[0] + WEBHOOK, **kwargs)
        self.bases = bases
        self.turn = 0
        self.answers: list[tuple[float, str, str]] = []  # (time since start, process, status or error name)

    async def _deliver(self, client, delivery: Delivery) -> None:
        import aiohttp

        body = webhook_body(delivery.conversation_id)
        backoff = [0.5, 1.0, 2.0]
        began = time.monotonic()
        index = self.turn = (self.turn + 1) % len(self.bases)
        while True:
            base = self.bases[index]
            headers = {"Content-Type": "application/json", "ElevenLabs-Signature": signature(body)}
            at = time.monotonic() - T0
            try:
                async with client.post(base + WEBHOOK, data=body, headers=headers) as response:
                    payload = await response.read()
                    status, retry_after = response.status, response.headers.get("Retry-After")
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                status, retry_after, payload = type(exc).__name__, None, b""
            delivery.tries.append((at, str(status), retry_after))
            self.answers.append((time.monotonic() - T0, base, str(status)))
            if status == 200:
                doc = json.loads(payload)
                delivery.answer, delivery.event_id = doc.get("status"), doc.get("event_id")
                delivery.delivered_at = time.monotonic() - T0
                return
            if isinstance(status, int) and status < 500 and status != 429:
                return
            if time.monotonic() - began > self.give_up_after:
                delivery.gave_up = True
                return
            await asyncio.sleep(backoff[min(len(delivery.tries) - 1, len(backoff) - 1)])
            index = (index + 1) % len(self.bases)  # the load balancer sends the retry elsewhere


def signed_webhook(base: str, conversation_id: str) -> tuple[int, dict]:
    import httpx

    body = webhook_body(conversation_id)
    response = httpx.post(base + WEBHOOK, content=body, timeout=15,
                          headers={"Content-Type": "application/json", "ElevenLabs-Signature": signature(body)})
    return response.status_code, response.json()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=40.0, help="new events per second (default 40)")
    parser.add_argument("--before", type=float, default=6.0, help="seconds of traffic before the kill (default 6)")
    parser.add_argument("--after", type=float, default=10.0, help="seconds of traffic after the kill (default 10)")
    args = parser.parse_args()
    verdict = Verdict()
    processes: list[AppProcess] = []
    with Stack(app=False) as stack:
        try:
            heading("two web processes against one PostgreSQL and one Redis")
            began = time.monotonic()
            processes = [AppProcess(stack.pg.url, stack.redis.url, **stack._common_env()) for _ in range(2)]
            for process in processes:
                process.wait()
            a, b = processes
            say(f"A {a.url} (pid {a.proc.pid}) and B {b.url} (pid {b.proc.pid}) answering after "
                f"{time.monotonic() - began:.1f} s")

            heading(f"traffic: {args.rate:.0f} events/s over both, SIGKILL of A after {args.before:.0f} s")
            senders = BalancedSenders([a.url, b.url], rate=args.rate, give_up_after=60).start()
            probe = HealthProbe(b.url, interval=0.25).start()
            time.sleep(args.before)
            killed_at = time.monotonic() - T0
            a.kill()
            say(f"SIGKILL to A's process group (Granian and its worker); A alive: {a.alive()}")
            time.sleep(args.after)
            say("stopping new events; waiting for the senders' retries to finish")
            senders.stop()
            probe.stop()

            heading("what the senders saw")
            summary = print_sender_summary(senders)
            table: Counter[tuple[str, str, str]] = Counter()
            for at, base, status in senders.answers:
                table[("A" if base == a.url else "B", "before" if at < killed_at else "after", status)] += 1
            for (name, when, status), n in sorted(table.items()):
                say(f"  process {name}, {when:<6} the kill: {n:5} x {status}")
            errors = [(at, "A" if base == a.url else "B", status) for at, base, status in senders.answers
                      if status != "200"]
            say(f"errors seen by the senders: {len(errors)}"
                + (f", first at {errors[0][0] - killed_at:+.2f} s and last at {errors[-1][0] - killed_at:+.2f} s "
                   f"from the kill: {dict(Counter((p, s) for _, p, s in errors))}" if errors else ""))
            retried = [d for d in senders.snapshot() if len(d.tries) > 1]
            say(f"events retried: {len(retried)}; their final answers: "
                f"{dict(Counter(d.answer or 'none' for d in retried))}")
            probe.print()

            heading("checks")
            check_accepted_in_inbox(verdict, senders)
            verdict.check(not summary["undelivered"] and summary["gave_up"] == 0,
                          f"every event was answered 200 in the end ({len(summary['undelivered'])} not)")
            b_answers = sorted(at for at, base, status in senders.answers if base == b.url and status == "200")
            after_kill = [at for at in b_answers if at >= killed_at]
            gaps = [y - x for x, y in zip(after_kill, after_kill[1:])]
            longest = max(gaps, default=float("inf"))
            verdict.check(len(after_kill) > 0 and longest < 2.0,
                          f"B kept answering through the kill ({len(after_kill)} answers 200 after it, "
                          f"longest gap {longest:.2f} s)")
            verdict.check(all(state.startswith("200") for _, state in probe.transitions),
                          f"B's /api/health answered 200 throughout ({[s for _, s in probe.transitions]})")
            a_after = [at for at, base, status in senders.answers if base == a.url and at >= killed_at + 0.5
                       and status == "200"]
            verdict.check(not a_after, "nothing claims A answered after it was killed")

            heading("A starts again")
            restarted = time.monotonic()
            a.start()
            a.wait()
            status, doc = signed_webhook(a.url, f"{senders.prefix}after-restart")
            stored = inbox_by_external_id(f"{senders.prefix}after-restart")
            say(f"A answers again after {time.monotonic() - restarted:.1f} s: a new webhook -> {status} {doc}; "
                f"in the inbox: {bool(stored)}")
            verdict.check(status == 200 and doc.get("status") == "accepted" and len(stored) == 1,
                          "the restarted A accepts webhooks into the same inbox")
        finally:
            for process in processes:
                process.stop()
    return verdict.exit_code()


if __name__ == "__main__":
    sys.exit(main())
