"""What a long-running process (the web app, a worker) does once it has started."""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Move every object made so far (the imported app, its compiled pages, SQLAlchemy's mappers) out of the
    garbage collector's reach: they live as long as the process, and each full collection walked all of them,
    pausing the process for hundreds of milliseconds (measured: /ping p99 500 ms, then 11 ms)."""
    gc.collect()
    gc.freeze()
