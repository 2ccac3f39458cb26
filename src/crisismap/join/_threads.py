"""A small thread pool for the join's large array steps.

numpy and GEOS release the GIL, so element-wise steps (exact tests, grid lookups) run in
chunks on a few threads, and two independent passes (hashing, painting) run side by side.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

# numpy and GEOS release the GIL: large array steps run in chunks on this many threads.
_WORKERS = min(
    4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
)
_CHUNK_MIN = 50_000


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_worker = threading.local()


def _in_parallel(calls: list[Callable[[], Any]]) -> list[Any]:
    """Results of ``calls``, the first in this thread and the others on the pool."""
    global _pool
    if len(calls) > 1 and _WORKERS > 1 and not getattr(_worker, "busy", False):
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(_WORKERS - 1, thread_name_prefix="crisismap-join")
        futures = [_pool.submit(_as_worker, call) for call in calls[1:]]
        return [calls[0](), *(f.result() for f in futures)]
    return [call() for call in calls]


def _forget_pool() -> None:
    """A forked child has none of the pool's threads: it starts its own when needed."""
    global _pool
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _as_worker(call: Callable[[], Any]) -> Any:
    """Run a pool task; tasks run their own parallel steps inline (no waiting on the pool
    from inside it)."""
    _worker.busy = True
    return call()


def _chunked(func: Callable[..., np.ndarray], *arrays: np.ndarray) -> np.ndarray:
    """``func(*arrays)`` computed on slices in parallel (for element-wise steps)."""
    n = len(arrays[0])
    parts = min(_WORKERS, max(1, n // _CHUNK_MIN))
    if parts == 1:
        return func(*arrays)
    bounds = np.linspace(0, n, parts + 1).astype(np.int64)
    calls = [
        lambda lo=lo, hi=hi: func(*(a[lo:hi] for a in arrays))
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    return np.concatenate(_in_parallel(calls))
