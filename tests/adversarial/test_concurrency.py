"""Concurrency and crashes: the workspace under several writers, and writers killed.

* **N sessions uploading at once**: N processes each save their own datasets plus three
  shared ones (the same bytes, at the same time) into one workspace; then every dataset
  a worker saw committed must be there, byte for byte, and each shared file exactly once.
* **Writers killed mid-write, repeated**: each round starts W writers that save 0.05–1 MB
  datasets in a loop and SIGKILLs each at a random moment (after its first commit, most
  often inside a later transaction: the log says ``begin`` without ``commit``). After
  every round the store is reopened by a fresh reader: SQLite's integrity check must
  pass, and every dataset a writer logged as committed must read back with its SHA-256.

Workers log through unbuffered ``os.write`` so that SIGKILL cannot lose a log line.
"""

from __future__ import annotations

import threading

import pytest

from crisismap.store import Workspace
from tests.adversarial import figures
from tests.helpers import store_workers

SUITE = "concurrency and crashes"
WORKERS = 4
SAVES_EACH = 6
ROUNDS = figures.scaled(4)
WRITERS = 3


@pytest.mark.slow
def test_sessions_uploading_at_once_lose_nothing(tmp_path):
    outcome = store_workers.concurrent_saves(tmp_path / "ws", WORKERS, SAVES_EACH)
    figures.add(SUITE, "concurrent uploading processes", WORKERS)
    figures.add(SUITE, "datasets committed concurrently", len(outcome.committed))
    figures.add(SUITE, "rows lost", len(outcome.lost))
    figures.add(SUITE, "duplicate datasets for the same bytes", outcome.duplicates)
    figures.add(SUITE, "unreadable stores", int(bool(outcome.problems)))
    assert outcome.problems == [] and outcome.lost == [] and outcome.duplicates == 0
    assert len(outcome.committed) == WORKERS * SAVES_EACH + 3


@pytest.mark.slow
def test_writers_killed_mid_write_leave_every_committed_dataset(tmp_path):
    final, rounds = store_workers.killed_writers(tmp_path / "ws", ROUNDS, WRITERS, seed=7)
    figures.add(SUITE, "kill rounds", ROUNDS)
    figures.add(SUITE, "writers killed (SIGKILL)", ROUNDS * WRITERS)
    figures.add(SUITE, "killed during a save", final.killed_mid_write)
    figures.add(SUITE, "datasets committed before the kills", len(final.committed))
    figures.add(SUITE, "rows lost", sum(len(r.lost) for r in rounds))
    figures.add(SUITE, "unreadable stores", sum(bool(r.problems) for r in rounds))
    for each in rounds:
        assert each.problems == [], each.problems
        assert each.lost == [], each.lost
    assert final.killed_mid_write >= 1, "no kill landed inside a transaction: raise the rounds"


def test_threads_of_one_server_share_a_workspace(tmp_path):
    """Streamlit sessions are threads of one process: 8 of them save and list at once."""
    workspace = Workspace.open(tmp_path / "ws")
    errors: list[BaseException] = []
    seen: list[int] = []

    def session(k: int) -> None:
        try:
            for i in range(10):
                workspace.save_dataset(f"s{k}", f"session {k} upload {i}\n".encode() * 500)
                seen.append(len(workspace.list_datasets()))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=session, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = workspace.list_datasets()
    figures.add(SUITE, "threads saving at once", len(threads))
    figures.add(SUITE, "rows lost", 80 - len(stored))
    assert errors == []
    assert len(stored) == 80 and workspace.check() == []
