"""The one thread-pool policy: order kept, errors raised, small inputs inline, no self-wait."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from crisismap import parallel


def _thread() -> str:
    return threading.current_thread().name


def test_results_come_back_in_call_order_and_the_first_runs_here():
    names = parallel.run_all([_thread, _thread, _thread])
    assert names[0] == threading.current_thread().name
    if parallel.WORKERS > 1:
        assert all(n.startswith("crisismap") for n in names[1:])
    assert parallel.run_all([lambda k=k: k * k for k in range(5)]) == [0, 1, 4, 9, 16]


def test_small_inputs_run_inline():
    here = threading.current_thread().name
    assert parallel.run_all([_thread, _thread], size=10, min_size=100) == [here, here]


def test_a_failing_call_raises():
    def boom() -> None:
        raise ValueError("bad step")

    with pytest.raises(ValueError, match="bad step"):
        parallel.run_all([lambda: 1, boom])


def test_steps_on_the_pool_run_their_own_steps_inline():
    """A pool task that asks for parallel steps must not wait on the pool it is in."""

    def nested() -> list[str]:
        return parallel.run_all([_thread, _thread])

    outer = parallel.run_all([lambda: None, nested] * parallel.WORKERS)
    for inner in outer[1::2]:
        assert len(set(inner)) == 1  # both inner steps on the same (pool) thread


def test_chunked_equals_the_whole_computation():
    x = np.arange(250_001, dtype=np.int64)
    got = parallel.chunked(lambda a, b: a * 2 + b, x, x, min_chunk=1000)
    assert np.array_equal(got, x * 3)


def test_background_work_overlaps_and_joins():
    started = threading.Event()
    future = parallel.in_background(lambda: started.set() or "done")
    assert future.result(timeout=10) == "done" and started.is_set()
