"""Worker processes for the workspace concurrency and crash tests.

Run as ``python -m tests.helpers.store_workers MODE DATA_DIR SEED LOG [COUNT]`` from
the repository root. Each worker saves pseudo-random payloads (deterministic from its
seed) and appends ``begin <sha256>`` before and ``commit <sha256> <id>`` after each
save to ``LOG`` with unbuffered ``os.write`` calls, so the log survives SIGKILL: a
``commit`` line means the save returned, so the dataset must be in the store.

Modes: ``save`` saves COUNT payloads (some shared by every worker, to race the
de-duplication) and exits; ``forever`` saves until killed.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from crisismap.store import Workspace

ROOT = Path(__file__).resolve().parents[2]

SHARED_SEED = 424242


def payload(rng: random.Random, low: int, high: int) -> bytes:
    """Bytes of a random length in [low, high), CSV-looking at the start for realism."""
    body = rng.randbytes(rng.randrange(low, high))
    return b"id,date,latitude,longitude\n" + body


def shared_payloads(count: int) -> list[bytes]:
    """Payloads every worker of a ``save`` run also saves (the same bytes, at once)."""
    rng = random.Random(SHARED_SEED)
    return [payload(rng, 1_000, 50_000) for _ in range(count)]


def _log(fd: int, text: str) -> None:
    os.write(fd, (text + "\n").encode())


def _save(workspace: Workspace, fd: int, data: bytes, name: str) -> None:
    digest = hashlib.sha256(data).hexdigest()
    _log(fd, f"begin {digest}")
    info = workspace.save_dataset(name, data, filename=f"{name}.csv", options={"n": len(data)})
    _log(fd, f"commit {digest} {info.id}")


def main(argv: list[str]) -> int:
    mode, data_dir, seed, log = argv[:4]
    count = int(argv[4]) if len(argv) > 4 else 10
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    workspace = Workspace.open(data_dir)
    rng = random.Random(int(seed))
    _log(fd, "ready")
    if mode == "save":
        items = [(payload(rng, 1_000, 200_000), f"w{seed}-{i}") for i in range(count)]
        items += [(data, f"shared-{i}") for i, data in enumerate(shared_payloads(3))]
        rng.shuffle(items)
        for data, name in items:
            _save(workspace, fd, data, name)
    elif mode == "forever":
        i = 0
        while True:
            _save(workspace, fd, payload(rng, 50_000, 1_000_000), f"w{seed}-{i}")
            i += 1
    else:
        raise SystemExit(f"unknown mode {mode!r}: expected save or forever")
    _log(fd, "done")
    return 0


# --- the parent side: start workers, kill them, check the store -------------------------


@dataclass
class Outcome:
    """What a run of workers left behind, checked against their logs."""

    committed: set[str] = field(default_factory=set)  # sha256 of every reported commit
    killed_mid_write: int = 0  # workers whose last log line was a ``begin``
    lost: list[str] = field(default_factory=list)  # committed but missing or different
    problems: list[str] = field(default_factory=list)  # integrity / hash problems
    stored: int = 0
    duplicates: int = 0  # datasets stored twice for the same bytes


def start(mode: str, data_dir: Path, seed: int, log: Path, count: int = 10) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.store_workers", mode, str(data_dir)]
        + [str(seed), str(log), str(count)],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def read_log(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def verify(data_dir: Path, logs: list[Path]) -> Outcome:
    """Open the store afresh and compare it with every worker's log."""
    outcome = Outcome()
    for log in logs:
        lines = read_log(log)
        outcome.committed |= {ln.split()[1] for ln in lines if ln.startswith("commit ")}
        if lines and lines[-1].startswith("begin "):
            outcome.killed_mid_write += 1
    workspace = Workspace.open(data_dir)
    outcome.problems = workspace.check()
    infos = workspace.list_datasets()
    outcome.stored = len(infos)
    by_sha = {i.sha256: i for i in infos}
    outcome.duplicates = len(infos) - len(by_sha)
    for digest in sorted(outcome.committed):
        info = by_sha.get(digest)
        if info is None:
            outcome.lost.append(f"{digest[:12]}: committed but not in the store")
        elif hashlib.sha256(workspace.get_bytes(info.id, verify=False)).hexdigest() != digest:
            outcome.lost.append(f"{digest[:12]}: bytes differ")
    return outcome


def concurrent_saves(data_dir: Path, workers: int, count: int) -> Outcome:
    """``workers`` processes saving ``count`` payloads each (plus 3 shared) at once."""
    logs = [data_dir.parent / f"{data_dir.name}-save-{k}.log" for k in range(workers)]
    procs = [start("save", data_dir, k, log, count) for k, log in enumerate(logs)]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        if proc.returncode != 0:
            raise RuntimeError(f"worker failed ({proc.returncode}): {err.decode()[-2000:]}")
    return verify(data_dir, logs)


def killed_writers(
    data_dir: Path, rounds: int, writers: int, seed: int = 0
) -> tuple[Outcome, list[Outcome]]:
    """``rounds`` times: start ``writers`` writers, SIGKILL each at a random moment.

    Returns the final outcome (over every round's logs) and one per round; each
    round's store is checked before the next round writes to it again.
    """
    rng = random.Random(seed)
    logs: list[Path] = []
    per_round = []
    for r in range(rounds):
        round_logs = [data_dir.parent / f"{data_dir.name}-kill-{r}-{k}.log" for k in range(writers)]
        procs = [
            start("forever", data_dir, 1000 * (seed + 1) + 10 * r + k, log)
            for k, log in enumerate(round_logs)
        ]
        for proc, log in zip(procs, round_logs, strict=True):
            _wait_for(log, "ready", proc)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(
            any(ln.startswith("commit") for ln in read_log(log)) for log in round_logs
        ):
            time.sleep(0.05)
        for proc in procs:
            time.sleep(rng.uniform(0.0, 0.4))
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        logs += round_logs
        per_round.append(verify(data_dir, logs))
    return per_round[-1], per_round


def _wait_for(log: Path, line: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while line not in read_log(log):
        if proc.poll() is not None:
            raise RuntimeError(f"worker exited early: {proc.stderr.read().decode()[-2000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"worker did not log {line!r} within {timeout} s")
        time.sleep(0.05)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
