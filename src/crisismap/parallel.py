"""The one thread-pool policy of the library.

numpy, Arrow and GEOS release the GIL, so large array steps gain from running on several
cores; small inputs do not (handing work to a thread costs more than the work). Every
step asks here instead of keeping its own pool: :func:`run_all` for independent steps,
:func:`chunked` for element-wise ones, :func:`in_background` for one task overlapped
with the caller's own work, :func:`run_limited` for long work the caller may give up on
(a time limit, a Cancel button, Ctrl-C, a server shutting down), :func:`in_child` for
pure-Python work (the PDF) overlapped in a forked process where the process allows it.
There is one shared pool, sized to the cores this process may use (at most four),
recreated in a forked child; a task running on the pool runs its own parallel steps
inline, so the pool never waits on itself. Leaf module.
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import ctypes
import functools
import os
import pickle
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from crisismap.errors import TimeLimitError
from crisismap.i18n import N_, _

__all__ = [
    "MIN_ITEMS",
    "WORKERS",
    "Cancelled",
    "chunked",
    "in_background",
    "in_child",
    "processes_allowed",
    "run_all",
    "run_limited",
    "set_exit_status",
]

WORKERS = min(
    4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
)
PIPE_BYTES = 1 << 20  # see _Child
MIN_ITEMS = 50_000  # rows, records or points below which a step runs inline

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_worker = threading.local()


def run_all(
    calls: list[Callable[[], Any]], *, size: int | None = None, min_size: int = MIN_ITEMS
) -> list[Any]:
    """Results of independent ``calls`` in order: the first in this thread, the rest on
    the shared pool. Inline when ``size`` (the input's length) is under ``min_size``, on
    one core, or when already on the pool. The first failing call raises."""
    inline = (
        len(calls) < 2
        or WORKERS < 2
        or getattr(_worker, "busy", False)
        or (size is not None and size < min_size)
    )
    if inline:
        return [call() for call in calls]
    futures = [
        _shared_pool().submit(contextvars.copy_context().run, _as_worker, call)
        for call in calls[1:]
    ]
    return [calls[0](), *(f.result() for f in futures)]


def chunked(
    func: Callable[..., np.ndarray], *arrays: np.ndarray, min_chunk: int = MIN_ITEMS
) -> np.ndarray:
    """``func(*arrays)`` computed on slices in parallel (for element-wise steps)."""
    n = len(arrays[0])
    parts = min(WORKERS, max(1, n // min_chunk))
    if parts == 1:
        return func(*arrays)
    bounds = np.linspace(0, n, parts + 1).astype(np.int64)
    calls = [
        lambda lo=lo, hi=hi: func(*(a[lo:hi] for a in arrays))
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    return np.concatenate(run_all(calls))


def in_background(call: Callable[[], Any]) -> Future:
    """Start ``call`` on a thread of its own while the caller works; ``.result()`` joins.

    Its own thread, not the shared pool: the caller's work may itself use the pool.
    """
    executor = ThreadPoolExecutor(1, thread_name_prefix="crisismap-background")
    future = executor.submit(contextvars.copy_context().run, _as_worker, call)
    executor.shutdown(wait=False)  # the thread ends when the call does
    return future


_processes_allowed = False


@contextlib.contextmanager
def processes_allowed() -> Iterator[None]:
    """Let :func:`in_child` fork inside this block: for a single-command process (the CLI)
    whose only other threads are this module's, idle.

    Never in a server: forking a process whose other threads may hold locks (the import
    lock, a logging handler's) can leave the child waiting forever.
    """
    global _processes_allowed
    before, _processes_allowed = _processes_allowed, True
    try:
        yield
    finally:
        _processes_allowed = before


class _Inline:
    """:func:`in_child` where forking is not allowed: the call runs at :meth:`result`."""

    def __init__(self, call: Callable[[Any], bytes]) -> None:
        self._call = call
        self._arg: Any = None

    def send(self, arg: Any) -> None:
        self._arg = arg

    def result(self) -> bytes:
        return self._call(self._arg)

    def close(self) -> None:
        pass


_parent_ends: set[int] = set()  # this process's open ends of its children's pipes


class _Child:
    """A forked child: ``warm()`` at once, then ``call(arg)`` once :meth:`send` gives
    ``arg`` (pickled through a pipe); :meth:`result` reads its bytes or its exception."""

    def __init__(self, call: Callable[[Any], bytes], warm: Callable[[], None] | None) -> None:
        import fcntl  # where there is fork

        to_child, self._to_child = os.pipe()
        self._from_child, from_parent = os.pipe()
        # a pipe holds 64 KB: a child still warming takes the next 64 KB of the argument only
        # when its warm-up lets go of the GIL (every 5 ms), so a 6 MB argument held the
        # parent 0.1-0.3 s; at 1 MB (Linux's limit without privileges) it goes in a few turns
        with contextlib.suppress(AttributeError, OSError):
            fcntl.fcntl(self._to_child, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        self.pid = os.fork()
        if self.pid == 0:  # never returns: the child leaves without running exit handlers
            # the parent's ends of every pipe, its siblings' too: a sibling reads its
            # argument to the end, which never comes while another process holds the pipe
            for fd in (self._to_child, self._from_child, *_parent_ends):
                os.close(fd)
            _parent_ends.clear()
            _child_main(call, warm, to_child, from_parent)
        os.close(to_child)
        os.close(from_parent)
        _parent_ends.update((self._to_child, self._from_child))
        self._done = False

    def send(self, arg: Any) -> None:
        _parent_ends.discard(self._to_child)
        with os.fdopen(self._to_child, "wb") as out:
            pickle.dump(arg, out, protocol=pickle.HIGHEST_PROTOCOL)
        self._to_child = -1

    def result(self) -> bytes:
        _parent_ends.discard(self._from_child)
        with os.fdopen(self._from_child, "rb") as source:
            payload = source.read()
        self._from_child = -1
        _, status = os.waitpid(self.pid, 0)
        self._done = True
        if not payload:
            raise RuntimeError(f"A forked worker ended without a result (wait status {status}).")
        kind, body = payload[:1], payload[1:]
        if kind == b"\0":
            return body
        if kind == b"\1":
            raise pickle.loads(body)
        raise RuntimeError(f"A forked worker failed:\n{body.decode('utf-8', 'replace')}")

    def close(self) -> None:
        """Stop the child unless its result was read (the caller failed or gave up)."""
        if self._done:
            return
        self._done = True
        for fd in (self._to_child, self._from_child):
            if fd >= 0:
                _parent_ends.discard(fd)
                os.close(fd)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)


def _child_main(
    call: Callable[[Any], bytes], warm: Callable[[], None] | None, source: int, sink: int
) -> None:
    for name in ("SIGINT", "SIGTERM"):
        signal.signal(getattr(signal, name), signal.SIG_DFL)
    status = 0
    try:
        received: dict[str, bytes] = {}
        # the parent may send a large argument while warm() runs: read it meanwhile
        reader = threading.Thread(target=lambda: received.update(data=_read_all(source)))
        reader.start()
        if warm is not None:
            with contextlib.suppress(Exception):  # only a head start: the call meets it again
                warm()
        reader.join()
        if not received.get("data"):
            os._exit(0)  # the parent gave up before sending
        try:
            payload = b"\0" + call(pickle.loads(received["data"]))
        except BaseException as exc:  # handed to the parent, raised there
            try:
                payload = b"\1" + pickle.dumps(exc)
            except Exception:
                payload = b"\2" + traceback.format_exc().encode("utf-8", "replace")
        with os.fdopen(sink, "wb") as out:
            out.write(payload)
    except BaseException:
        status = 1
    finally:
        os._exit(status)


def _read_all(fd: int) -> bytes:
    with os.fdopen(fd, "rb") as source:
        return source.read()


def in_child(
    call: Callable[[Any], bytes], *, warm: Callable[[], None] | None = None
) -> _Child | _Inline:
    """``call(arg)`` (returning bytes) in a forked child while the caller works on.

    The child runs ``warm()`` (imports, say) at once, while the caller computes what it
    needs; ``.send(arg)`` hands that over, ``.result()`` gives the bytes or raises the
    child's own exception, ``.close()`` (in a ``finally``) stops a child whose result was
    never read. For pure-Python work that threads cannot overlap (the GIL): ReportLab and
    matplotlib drawing the PDF while xlsxwriter writes the workbook. Inline (``call`` runs
    at ``.result()``, in this process) unless inside :func:`processes_allowed`, with two
    cores, on a platform that forks.
    """
    if not _processes_allowed or WORKERS < 2 or not hasattr(os, "fork"):
        return _Inline(call)
    return _Child(call, warm)


class Cancelled(Exception):
    """The caller of :func:`run_limited` stopped the work (its ``cancel`` event was set)."""


THE_WORK = N_("The work")  # what a limited call is, unless the caller names it


def run_limited(
    call: Callable[[], Any],
    *,
    time_limit: float | None = None,
    cancel: threading.Event | None = None,
    on_wait: Callable[[float], None] | None = None,
    poll: float = 0.2,
    what: str = THE_WORK,
) -> Any:
    """``call()`` on a daemon thread of its own, waited for by the caller, who may give up.

    Every ``poll`` seconds the caller checks ``cancel`` (raises :class:`Cancelled`) and
    ``time_limit`` in seconds (raises :class:`~crisismap.errors.TimeLimitError`, naming
    ``what``), then calls ``on_wait(seconds so far)`` (a progress display; whatever it raises,
    such as a Streamlit rerun or Ctrl-C, passes through). Whenever the caller stops waiting,
    the call is stopped too: :class:`Cancelled` is raised inside it at its next Python step
    (a C call it is in finishes first). Its thread is a daemon, so a process that exits
    (SIGTERM, Ctrl-C) never waits for it. ``call``'s own result or exception comes back
    unchanged.
    """
    job = _Limited(call)
    started = time.monotonic()
    try:
        while not job.done.wait(poll):
            elapsed = time.monotonic() - started
            if cancel is not None and cancel.is_set():
                raise Cancelled(
                    _("{what} was cancelled after {seconds:.0f} s.").format(
                        what=_(what) if what == THE_WORK else what, seconds=elapsed
                    )
                )
            if time_limit is not None and elapsed >= time_limit:
                raise TimeLimitError(
                    _(
                        "{what} took longer than the time limit of {time_limit:g} s and "
                        "was stopped."
                    ).format(what=_(what) if what == THE_WORK else what, time_limit=time_limit)
                )
            if on_wait is not None:
                on_wait(elapsed)
    except BaseException:
        job.stop()
        raise
    if "error" in job.outcome:
        raise job.outcome["error"]
    return job.outcome["value"]


class _Limited:
    """One :func:`run_limited` call: its daemon thread, its outcome, and how to stop it."""

    running: set[_Limited] = set()  # started and not finished (for the exit below)

    def __init__(self, call: Callable[[], Any]) -> None:
        self.call = functools.partial(contextvars.copy_context().run, call)
        self.done = threading.Event()
        self.stopped = False
        self.outcome: dict[str, Any] = {}
        self.thread = threading.Thread(target=self._work, name="crisismap-limited", daemon=True)
        with _pool_lock:
            self.running.add(self)
        self.thread.start()

    def _work(self) -> None:
        try:
            try:
                self.outcome["value"] = self.call()
            except BaseException as exc:  # handed to the caller, or dropped after a stop
                self.outcome["error"] = exc
            finally:
                self.done.set()
                with _pool_lock:
                    self.running.discard(self)
        except Cancelled:  # a stop that arrived just as the call ended
            pass

    def stop(self) -> None:
        """Raise :class:`Cancelled` inside the call at its next Python step (once)."""
        with _pool_lock:
            if self.stopped or self.done.is_set() or self.thread.ident is None:
                return
            self.stopped = True
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(self.thread.ident), ctypes.py_object(Cancelled)
        )


EXIT_GRACE_S = 1.0
_exit_status = 0


def set_exit_status(code: int) -> None:
    """The status to exit with should stopped work still be inside a native call at exit
    (the CLI sets its own; a server's is 0)."""
    global _exit_status
    _exit_status = code


@atexit.register
def _stop_limited_at_exit() -> None:
    """Stop limited calls still running when the process exits; exit at once if one is stuck.

    They are daemon threads, so nothing waits for them; but a thread still inside native
    code while the interpreter finalises crashes the exit: a C++ call (a HiGHS solve)
    aborts it as it returns ("terminate called without an active exception", seen on
    Ctrl-C), and OpenBLAS's exit handlers pull buffers from under a running SVD (a
    segfault). Stopped, each ends when its current native call returns (one HiGHS solve:
    milliseconds); one still running after :data:`EXIT_GRACE_S` is left behind by exiting
    at once with :func:`set_exit_status`'s status (buffers flushed, nothing else to finish:
    this runs after the program's own exit handling).
    """
    deadline = time.monotonic() + EXIT_GRACE_S
    with _pool_lock:
        jobs = list(_Limited.running)
    for job in jobs:
        job.stop()
    for job in jobs:
        job.thread.join(max(0.0, deadline - time.monotonic()))
    if any(job.thread.is_alive() for job in jobs):
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError, AttributeError):  # closed or replaced
                pass
        os._exit(_exit_status)


def _shared_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(WORKERS - 1, thread_name_prefix="crisismap")
        return _pool


def _as_worker(call: Callable[[], Any]) -> Any:
    """Run a pool task; its own parallel steps run inline (no waiting on the pool from
    inside it)."""
    _worker.busy = True
    return call()


def _forget_pool() -> None:
    """A forked child has none of the pool's threads (nor limited calls' threads): it starts
    its own when needed."""
    global _pool, _pool_lock
    _pool = None
    _pool_lock = threading.Lock()  # another thread may have held it at the fork
    _Limited.running.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)
