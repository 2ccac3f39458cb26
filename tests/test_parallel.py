"""The one thread-pool policy: order kept, errors raised, small inputs inline, no self-wait."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from crisismap import parallel
from crisismap.errors import TimeLimitError


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


# --------------------------------------------------------------------------- run_limited


def _spin(stopped: threading.Event, seconds: float = 30) -> str:
    """Python-level busy work (as the suppression is) that notes whether it was stopped."""
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            sum(range(1_000))
    except parallel.Cancelled:
        stopped.set()
        raise
    return "finished"


def test_a_limited_call_returns_its_result_or_raises_its_own_error():
    assert parallel.run_limited(lambda: 6 * 7, time_limit=5) == 42

    def boom() -> None:
        raise ValueError("bad view")

    with pytest.raises(ValueError, match="bad view"):
        parallel.run_limited(boom, time_limit=5)


def test_the_time_limit_stops_the_call_and_says_what_took_too_long():
    stopped = threading.Event()
    begun = time.monotonic()
    with pytest.raises(TimeLimitError, match=r"^Counting took longer than .* 0\.3 s"):
        parallel.run_limited(lambda: _spin(stopped), time_limit=0.3, poll=0.05, what="Counting")
    assert time.monotonic() - begun < 5
    assert stopped.wait(5)  # the worker itself stopped, it does not run on unseen


def test_a_cancel_event_stops_the_call():
    stopped, cancel = threading.Event(), threading.Event()
    threading.Timer(0.2, cancel.set).start()
    with pytest.raises(parallel.Cancelled):
        parallel.run_limited(lambda: _spin(stopped), cancel=cancel, poll=0.05)
    assert stopped.wait(5)


def test_whatever_the_progress_callback_raises_stops_the_call_and_passes_through():
    """A Streamlit rerun (Cancel button, shutdown) or Ctrl-C arrive through ``on_wait``."""
    stopped, seen = threading.Event(), []

    def on_wait(elapsed: float) -> None:
        seen.append(elapsed)
        if len(seen) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        parallel.run_limited(lambda: _spin(stopped), on_wait=on_wait, poll=0.05)
    assert stopped.wait(5)
    assert seen == sorted(seen) and seen[0] > 0


def test_the_limited_call_runs_on_a_daemon_thread():
    """A process that exits (SIGTERM, Ctrl-C) does not wait for it."""
    assert parallel.run_limited(lambda: threading.current_thread().daemon) is True


STUCK = """
import atexit, sys, time
atexit.register(print, "finalised", flush=True)  # runs after parallel's handler, if at all
from crisismap import parallel
from crisismap.errors import TimeLimitError
try:
    parallel.run_limited(lambda: time.sleep(60), time_limit=0.2)  # one long native call
except TimeLimitError:
    print("stopped waiting", flush=True)
    parallel.set_exit_status(2)
    sys.exit(2)
"""


@pytest.mark.slow  # starts a Python process
def test_a_process_exits_at_once_with_its_status_when_stopped_work_is_stuck_in_a_native_call():
    """Finalising with a thread inside native code crashes (C++ abort, OpenBLAS segfault):
    the exit skips it, keeping the status the program chose."""
    begun = time.monotonic()
    done = subprocess.run([sys.executable, "-c", STUCK], capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout) == (2, "stopped waiting\n"), done.stderr
    assert time.monotonic() - begun < 20  # not the 60 s of the call


def _pid_bytes(_: object = None) -> bytes:
    import os

    return str(os.getpid()).encode()


def _run(handle, arg: object = None) -> bytes:
    try:
        handle.send(arg)
        return handle.result()
    finally:
        handle.close()


def test_in_child_runs_inline_outside_processes_allowed():
    import os

    assert _run(parallel.in_child(_pid_bytes)) == str(os.getpid()).encode()


@pytest.mark.skipif(parallel.WORKERS < 2, reason="one core: in_child always runs inline")
def test_in_child_forks_only_inside_processes_allowed_and_hands_over_large_data_both_ways():
    import os

    big = b"x" * 5_000_000  # more than a pipe holds, both ways
    warmed = []
    with parallel.processes_allowed():
        other = parallel.in_child(_pid_bytes, warm=lambda: warmed.append(1))
        echo = parallel.in_child(lambda data: data[::-1])
        assert _run(echo, big + b"y") == b"y" + big
        assert _run(other) != str(os.getpid()).encode()
    assert warmed == []  # warm() ran in the child, not here
    assert _run(parallel.in_child(_pid_bytes)) == str(os.getpid()).encode()


@pytest.mark.skipif(parallel.WORKERS < 2, reason="one core: in_child always runs inline")
def test_a_child_answers_while_a_sibling_forked_after_it_still_works():
    """The report forks the PDF's and the workbook's children before either has its
    figures: a sibling must not keep the other's pipe open (its child would wait for the
    end of its argument until the sibling exits)."""
    import os

    go_read, go_write = os.pipe()  # the second child waits until the first has answered

    def wait_for_parent(_: object) -> bytes:
        return os.read(go_read, 1)

    answers: list[bytes] = []
    with parallel.processes_allowed():
        first = parallel.in_child(lambda data: data[::-1])
        second = parallel.in_child(wait_for_parent)
        try:
            first.send(b"ab" * 100_000)
            second.send(None)
            reader = threading.Thread(target=lambda: answers.append(first.result()), daemon=True)
            reader.start()
            reader.join(timeout=30)
            os.write(go_write, b"!")
            assert answers == [b"ba" * 100_000], "the first child waited for its sibling"
            assert second.result() == b"!"
        finally:
            first.close()
            second.close()
            os.close(go_read)
            os.close(go_write)


@pytest.mark.skipif(parallel.WORKERS < 2, reason="one core: in_child always runs inline")
def test_in_child_raises_the_childs_own_error_in_the_parent():
    from crisismap.errors import InvalidValueError

    def refuse(_: object) -> bytes:
        raise InvalidValueError("a region name does not fit the page")

    class Unpicklable(Exception):
        def __reduce__(self):
            raise TypeError("no pickling")

    def bug(_: object) -> bytes:
        raise Unpicklable("internal")

    def broken_warm() -> None:
        raise OSError("a head start that failed")

    with parallel.processes_allowed():
        with pytest.raises(InvalidValueError, match="does not fit the page"):
            _run(parallel.in_child(refuse))
        with pytest.raises(RuntimeError, match="Unpicklable: internal"):
            _run(parallel.in_child(bug))
        assert _run(parallel.in_child(lambda x: x, warm=broken_warm), b"ok") == b"ok"


@pytest.mark.skipif(parallel.WORKERS < 2, reason="one core: in_child always runs inline")
def test_a_child_whose_caller_gives_up_is_stopped_and_reaped():
    import os

    with parallel.processes_allowed():
        handle = parallel.in_child(lambda x: x, warm=lambda: __import__("time").sleep(30))
    pid = handle.pid
    handle.close()  # never sent: the caller failed before it had the argument
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
