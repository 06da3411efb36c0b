"""What does a run of the lost-webhook backstop cost? Prints the time of one run against a local stand-in
of the ElevenLabs API (tests/support/elevenlabs_api.py) holding N finished conversations of the last day,
of which M never reached the inbox, and of a run that finds nothing missing.

    PYTHONPATH=. .venv/bin/python bench/backstop.py [--pg] [--listed 1000] [--missing 200]

The stand-in answers on loopback, so the figures are the app's own work (listing every page, one inbox
lookup per 500 ids, one GET and one inbox insert per missing conversation); a real ElevenLabs adds its
network round trips (one per page of 100, one per missing conversation).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _shared import postgres_database, quiet_logs, sqlite_database, use_database  # noqa: E402


def run(url: str, listed: int, missing: int) -> tuple[float, float, dict]:
    from navaia_app.conversations import webhook
    from navaia_app.core.db import get_engine
    from navaia_app.core.settings import get_settings
    from navaia_app.jobs import tasks
    from tests.support import elevenlabs_api

    use_database(url)
    for history in elevenlabs_api.serve():
        os.environ.update(ELEVENLABS_API_BASE_URL=history.url, ELEVENLABS_API_KEY=elevenlabs_api.API_KEY,
                          ELEVENLABS_AGENT_ID=elevenlabs_api.AGENT_ID, ELEVENLABS_SYNC_SECONDS="300",
                          REDIS_URL="redis://127.0.0.1:6390/0")  # no worker: rows wait in the inbox
        get_settings.cache_clear()
        now = int(time.time())
        delivered = []
        for i in range(listed):
            data = {"conversation_id": f"conv_bench_{i}", "transcript": [{"role": "user", "message": "hello"}],
                    "analysis": {"data_collection_results": {"intent": {"value": "raise_ticket"},
                                                             "issue_summary": {"value": f"Issue {i}"}}},
                    "metadata": {}}
            history.add(data, started=now - 60 - i)
        for doc in history.post_call_webhooks(drop=lambda cid: int(cid.rsplit("_", 1)[1]) < missing):
            import json

            delivered.append((webhook.parse_event(json.dumps(doc).encode()), None))
        webhook.store_events(get_engine(), delivered)
        started = time.perf_counter()
        first = tasks.sync_elevenlabs_conversations()
        recovering = time.perf_counter() - started
        started = time.perf_counter()
        tasks.sync_elevenlabs_conversations()
        idle = time.perf_counter() - started
        return recovering, idle, first
    raise RuntimeError("the stand-in did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", action="store_true", help="also on a fresh PostgreSQL database")
    parser.add_argument("--listed", type=int, default=1000)
    parser.add_argument("--missing", type=int, default=200)
    args = parser.parse_args()
    quiet_logs()
    print(f"backstop run: {args.listed} finished conversations listed, {args.missing} missing from the inbox")
    kinds = [("SQLite", sqlite_database)] + ([("PostgreSQL", postgres_database)] if args.pg else [])
    for name, database in kinds:
        with database() as url:
            recovering, idle, result = run(url, args.listed, args.missing)
        print(f"{name:10} run that recovers: {recovering:6.2f} s ({result});  next run, nothing missing: "
              f"{idle:6.2f} s")


if __name__ == "__main__":
    main()
