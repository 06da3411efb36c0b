"""Owners of database leases: "<kind>:<host>:<pid>:<anything>", so a lease held by a process that died on
this machine can be taken over at once instead of after it runs out."""

from __future__ import annotations

import os
import socket


def host() -> str:
    return socket.gethostname()[:60]


def process_owner(kind: str, suffix: str) -> str:
    return f"{kind}:{host()}:{os.getpid()}:{suffix}"


def owner_dead(owner: str | None, kind: str) -> bool:
    """The owner ran on this machine in a process that no longer exists."""
    parts = (owner or "").split(":")
    if len(parts) < 4 or parts[0] != kind or parts[1] != host():
        return False
    try:
        pid = int(parts[2])
    except ValueError:
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
