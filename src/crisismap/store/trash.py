"""Purging the trash: bytes overwritten, and a checkpoint that proves the log is empty.

Deleting rows with ``secure_delete`` on writes zeroed pages, but in WAL mode those
pages first go to the write-ahead log: until a checkpoint copies them over the
database file and empties the log, the file still holds the old bytes, and the log
holds them too. A checkpoint cannot finish while another connection still reads an
older snapshot (a session in the middle of loading a dataset, a backup, someone's
``sqlite3`` shell). So a purge happens in two committed steps:

1. the rows go, the dataset is listed in ``purge_pending`` and an audit entry says
   ``purge`` / ``pending``;
2. ``PRAGMA wal_checkpoint(TRUNCATE)`` is retried for a short while; when SQLite
   reports it complete (not busy, every frame copied, the log truncated), the
   pending rows go and an entry says ``purge`` / ``overwritten``.

When a reader outlasts the wait, the dataset stays pending and every later purge (and
every opening of the workspace) retries step 2: it is never reported overwritten
before it is.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from crisismap.errors import InputError
from crisismap.i18n import _
from crisismap.store import audit
from crisismap.store.db import BUSY_TIMEOUT_MS, now, write

CHECKPOINT_STEP_MS = 200  # how long one checkpoint attempt waits for readers


@dataclass(frozen=True)
class PurgeResult:
    """What a purge did: datasets whose bytes are verifiably gone, and those still pending.

    A pending dataset is no longer listed anywhere, but its bytes are still in the file
    because a reader holds an older snapshot; the next purge (or opening) retries.
    """

    purged: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)


def cutoff(days: float) -> str:
    """The ``deleted_at`` before which a dataset has been in the trash ``days`` days."""
    moment = datetime.now(UTC) - timedelta(days=float(days))
    return moment.isoformat(timespec="seconds")


def select(
    conn: sqlite3.Connection, dataset_id: str | None, older_than_days: float | None
) -> list[tuple[str, str, str, str]]:
    """(id, kind, name, sha256) of the trashed datasets to purge; a named one must be in
    the trash (or already pending, then nothing more is removed)."""
    query = "SELECT id, kind, name, sha256 FROM datasets WHERE deleted_at IS NOT NULL"
    params: list[str] = []
    if dataset_id is not None:
        query += " AND id = ?"
        params.append(dataset_id)
    if older_than_days is not None:
        query += " AND deleted_at <= ?"
        params.append(cutoff(older_than_days))
    rows = conn.execute(query + " ORDER BY deleted_at", params).fetchall()
    if dataset_id is not None and not rows:
        _explain_not_in_trash(conn, dataset_id, older_than_days)
    return rows


def _explain_not_in_trash(
    conn: sqlite3.Connection, dataset_id: str, older_than_days: float | None
) -> None:
    pending = conn.execute("SELECT 1 FROM purge_pending WHERE id = ?", (dataset_id,)).fetchone()
    if pending is not None:
        return
    row = conn.execute("SELECT deleted_at FROM datasets WHERE id = ?", (dataset_id,)).fetchone()
    if row is None:
        raise InputError(
            _(
                "There is no dataset {dataset_id!r} in the trash: list it with "
                "`crisismap workspace trash` (it may have been purged already)."
            ).format(dataset_id=dataset_id)
        )
    if row[0] is None:
        raise InputError(
            _(
                "{dataset_id} is not in the trash: delete it first (`crisismap "
                "workspace remove {dataset_id}`); only datasets in the trash can "
                "be purged."
            ).format(dataset_id=dataset_id)
        )
    raise InputError(
        _(
            "{dataset_id} has been in the trash since {row}, less than "
            "{older_than_days:g} days: leave out --older-than to purge it now."
        ).format(dataset_id=dataset_id, row=row[0], older_than_days=older_than_days)
    )


def remove(
    conn: sqlite3.Connection,
    rows: list[tuple[str, str, str, str]],
    actor: str,
    older_than_days: float | None,
) -> None:
    """Step 1 (inside the caller's transaction): the rows go, each purge is pending."""
    requested = now()
    for dataset_id, kind, name, digest in rows:
        conn.execute("DELETE FROM blobs WHERE id = ?", (dataset_id,))
        conn.execute("DELETE FROM datasets WHERE id = ?", (dataset_id,))
        conn.execute(
            "INSERT OR REPLACE INTO purge_pending(id, requested, actor) VALUES (?, ?, ?)",
            (dataset_id, requested, actor),
        )
        details = {"status": "pending", "name": name, "kind": kind, "sha256": digest}
        if older_than_days is not None:
            details["older_than_days"] = older_than_days
        audit.record(conn, actor, "purge", dataset_id, details)


def finish(conn: sqlite3.Connection, actor: str, wait_s: float) -> PurgeResult:
    """Step 2: checkpoint until verified or ``wait_s`` runs out; settle what it covered.

    The pending list is read *before* the checkpoint, so every purge settled here was
    committed before the checkpoint began and is covered by it.
    """
    pending = [r[0] for r in conn.execute("SELECT id FROM purge_pending ORDER BY requested")]
    if not pending:
        return PurgeResult()
    if not checkpoint(conn, wait_s):
        return PurgeResult(pending=pending)
    with write(conn):
        for dataset_id in pending:
            row = conn.execute(
                "SELECT requested, actor FROM purge_pending WHERE id = ?", (dataset_id,)
            ).fetchone()
            if row is None:  # settled by another process meanwhile
                continue
            conn.execute("DELETE FROM purge_pending WHERE id = ?", (dataset_id,))
            audit.record(
                conn,
                actor,
                "purge",
                dataset_id,
                {
                    "status": "overwritten",
                    "requested": row[0],
                    "requested_by": row[1],
                    "checkpoint": "wal truncated",
                },
            )
    return PurgeResult(purged=pending)


def checkpoint(conn: sqlite3.Connection, wait_s: float) -> bool:
    """``wal_checkpoint(TRUNCATE)`` until SQLite reports it complete, for up to ``wait_s``.

    Complete means not busy (no reader kept it from resetting the log) and every frame
    of the log copied into the database file; the log file is then empty.
    """
    conn.execute(f"PRAGMA busy_timeout = {CHECKPOINT_STEP_MS}")
    deadline = time.monotonic() + max(wait_s, 0.0)
    try:
        while True:
            busy, log_frames, copied = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if busy == 0 and log_frames == copied:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(CHECKPOINT_STEP_MS / 1000)
    finally:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def pending_ids(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """(id, requested, actor) of the purges still waiting for a clean checkpoint."""
    return conn.execute(
        "SELECT id, requested, actor FROM purge_pending ORDER BY requested"
    ).fetchall()
