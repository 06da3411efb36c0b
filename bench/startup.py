"""Time from `make run` to a page that answers, on a second run (everything already installed).

    python bench/startup.py [--runs 2]

Starts `make run` on a free port against a throw-away SQLite database and Redis as configured,
waits until GET /login answers 200, stops it with Ctrl-C (SIGINT) and reports each run.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_run(db_dir: str) -> float:
    port = free_port()
    env = {**os.environ, "PORT": str(port), "PUBLIC_BASE_URL": f"http://localhost:{port}",
           "DATABASE_URL": f"sqlite:///{db_dir}/navaia.db"}
    started = time.perf_counter()
    proc = subprocess.Popen(["make", "run"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        while time.perf_counter() - started < 900:
            try:
                with urllib.request.urlopen(f"http://localhost:{port}/login", timeout=2) as r:
                    if r.status == 200:
                        return time.perf_counter() - started
            except OSError:
                pass
            if proc.poll() is not None:
                raise SystemExit("make run exited early")
            time.sleep(0.25)
        raise SystemExit("no answer within 900 s")
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    with open(ROOT / ".web-build.lock", "w") as lock, tempfile.TemporaryDirectory() as db_dir:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for n in range(1, args.runs + 1):
            seconds = one_run(db_dir)
            label = "first run (may install)" if n == 1 else "run again (installed, database seeded)"
            print(f"make run -> /login answers 200: {seconds:6.1f} s   [{label}]")


if __name__ == "__main__":
    main()
