"""A real worker process for crash tests: started with `python -m navaia_app.cli worker`, killed as a whole
process group, and a bounded wait for what it should have done (the worker's log in the failure)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

CLI = [sys.executable, "-m", "navaia_app.cli"]


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    """A worker in its own process group, writing to `log`."""
    return subprocess.Popen([*CLI, "worker"], env=env, stdout=open(log, "a"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop_worker(worker: subprocess.Popen) -> None:
    """SIGTERM to the worker's group (SIGKILL after 20 s); nothing when it has already ended."""
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, log: Path | None = None) -> None:
    """Polls `predicate` every 0.2 s; AssertionError naming `what` (with the log's tail) after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            tail = log.read_text()[-3000:] if log and log.exists() else ""
            raise AssertionError(f"timed out waiting for {what}\n{tail}")
        time.sleep(0.2)
