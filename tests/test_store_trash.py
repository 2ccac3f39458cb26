"""The trash: delete is undoable; purge overwrites the bytes, and says "pending" while a
reader holds the file, never "overwritten" before the bytes are gone from disk."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest

from crisismap.errors import InputError
from crisismap.store import DB_NAME, Workspace

CSV = b"id,date,latitude,longitude,category,victims\n1,2024-03-01,15.51,32.53,killing,2\n"
MARKER = b"WITNESS-AMINA-" + bytes(range(65, 91)) * 60  # ~1.6 kB, spans no page boundary twice


@pytest.fixture
def ws(tmp_path) -> Workspace:
    return Workspace.open(tmp_path / "data")


def on_disk(ws: Workspace) -> bytes:
    """Every byte of the database file and its -wal/-shm companions."""
    return b"".join(
        p.read_bytes() for p in ws.db_path.parent.iterdir() if p.name.startswith(DB_NAME)
    )


def backdate(ws: Workspace, dataset_id: str, when: str) -> None:
    with sqlite3.connect(ws.db_path) as conn:
        conn.execute("UPDATE datasets SET deleted_at = ? WHERE id = ?", (when, dataset_id))


# --- delete and restore -------------------------------------------------------------------


def test_delete_moves_to_the_trash_and_restore_brings_it_back_unchanged(ws):
    info = ws.save_dataset("Witnesses March", CSV + MARKER, options={"preset": "generic"})
    trashed = ws.delete(info.id, actor="ana@example.org")
    assert ws.list_datasets() == []
    assert [(i.id, i.deleted_by) for i in ws.trash()] == [(info.id, "ana@example.org")]
    assert trashed.deleted_at is not None and ws.purge_due_at(trashed) > trashed.deleted_at
    assert MARKER in on_disk(ws)
    with pytest.raises(InputError, match="is in the trash"):
        ws.get_bytes(info.id)
    with pytest.raises(InputError, match="is in the trash"):
        ws.rename(info.id, "other")
    with pytest.raises(InputError, match="is in the trash"):
        ws.delete(info.id)
    restored = ws.restore(info.id, actor="ana@example.org")
    assert (restored.deleted_at, restored.name, restored.options) == (
        None,
        "Witnesses March",
        {"preset": "generic"},
    )
    assert ws.get_bytes(info.id) == CSV + MARKER and ws.trash() == []
    with pytest.raises(InputError, match="not in the trash"):
        ws.restore(info.id)


def test_saving_the_same_bytes_again_takes_them_out_of_the_trash(ws):
    info = ws.save_dataset("first", CSV)
    ws.delete(info.id)
    again = ws.save_dataset("second", CSV)
    assert (again.id, again.name, again.already_saved, again.deleted_at) == (
        info.id,
        "second",
        False,
        None,
    )
    assert [i.id for i in ws.list_datasets()] == [info.id] and ws.trash() == []
    assert ws.audit_log(1)[0].details["from_trash"] is True


# --- purge --------------------------------------------------------------------------------


def test_purge_erases_only_the_trash_and_cannot_be_undone(ws):
    gone = ws.save_dataset("gone", CSV + MARKER)
    kept = ws.save_dataset("kept", CSV + b"2,2024-03-02,15.52,32.54,killing,1\n")
    with pytest.raises(InputError, match="not in the trash"):
        ws.purge(kept.id)
    ws.delete(gone.id)
    result = ws.purge(actor="admin@example.org")
    assert (result.purged, result.pending) == ([gone.id], [])
    assert MARKER not in on_disk(ws)
    assert ws.get_bytes(kept.id) == CSV + b"2,2024-03-02,15.52,32.54,killing,1\n"
    with pytest.raises(InputError, match="was purged"):
        ws.restore(gone.id)
    with pytest.raises(InputError, match="no dataset"):
        ws.purge(gone.id)
    statuses = [(e.action, e.target, e.details.get("status")) for e in ws.audit_log(2)]
    assert statuses == [("purge", gone.id, "overwritten"), ("purge", gone.id, "pending")]
    assert ws.check() == []


def test_purge_older_than_leaves_recent_trash(ws):
    old = ws.save_dataset("old", CSV + MARKER)
    recent = ws.save_dataset("recent", CSV)
    ws.delete(old.id)
    ws.delete(recent.id)
    backdate(ws, old.id, "2020-01-01T00:00:00+00:00")
    assert ws.purge(older_than_days=5).purged == [old.id]
    assert [i.id for i in ws.trash()] == [recent.id]
    with pytest.raises(InputError, match="less than 5 days"):
        ws.purge(recent.id, older_than_days=5)
    with pytest.raises(ValueError, match="0 or more"):
        ws.purge(older_than_days=-1)


def test_opening_purges_trash_older_than_trash_days_as_system(tmp_path):
    ws = Workspace.open(tmp_path / "d", trash_days=7)
    due = ws.save_dataset("due", CSV + MARKER)
    young = ws.save_dataset("young", CSV)
    ws.delete(due.id)
    ws.delete(young.id)
    backdate(ws, due.id, "2020-01-01T00:00:00+00:00")
    again = Workspace.open(tmp_path / "d")  # trash_days remembered: 7
    assert again.trash_days == 7
    assert [i.id for i in again.trash()] == [young.id]
    assert MARKER not in on_disk(again)
    entry = again.audit_log(1)[0]
    assert (entry.actor, entry.action, entry.target, entry.details["status"]) == (
        "system",
        "purge",
        due.id,
        "overwritten",
    )


def test_a_longer_trash_period_is_remembered_for_openers_without_one(tmp_path):
    ws = Workspace.open(tmp_path / "d", trash_days=30)
    info = ws.save_dataset("kept 30 days", CSV)
    ws.delete(info.id)
    ten_days_ago = (datetime.now(UTC) - timedelta(days=10)).isoformat(timespec="seconds")
    backdate(ws, info.id, ten_days_ago)
    assert Workspace.open(tmp_path / "d").trash_days == 30  # 10 days: under 30, kept
    assert [i.id for i in Workspace.open(tmp_path / "d").trash()] == [info.id]
    assert Workspace.open(tmp_path / "d", trash_days=7).trash() == []  # the setting changed


# --- purge with a concurrent reader -----------------------------------------------------------


@contextmanager
def reader_thread(ws: Workspace) -> Iterator[None]:
    """Another connection (a session loading a dataset) holding a read snapshot."""
    holding, release = threading.Event(), threading.Event()

    def read() -> None:
        conn = sqlite3.connect(ws.db_path, isolation_level=None, check_same_thread=False)
        conn.execute("BEGIN")
        conn.execute("SELECT count(*) FROM blobs").fetchone()
        holding.set()
        release.wait(30)
        conn.execute("COMMIT")
        conn.close()

    thread = threading.Thread(target=read)
    thread.start()
    assert holding.wait(10)
    try:
        yield
    finally:
        release.set()
        thread.join()


READER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN")
print(conn.execute("SELECT count(*) FROM blobs").fetchone()[0], flush=True)
sys.stdin.readline()
conn.execute("COMMIT")
"""


@contextmanager
def reader_process(ws: Workspace) -> Iterator[None]:
    """Another process (a second server, an sqlite3 shell) holding a read snapshot."""
    proc = subprocess.Popen(
        [sys.executable, "-c", READER, str(ws.db_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "1"  # it holds its snapshot now
    try:
        yield
    finally:
        proc.communicate("done\n", timeout=30)


@pytest.mark.parametrize("reader", [reader_thread, reader_process])
def test_purge_says_pending_while_a_reader_holds_the_file_then_finishes(ws, reader):
    info = ws.save_dataset("secret", CSV + MARKER)
    ws.delete(info.id)
    with reader(ws):
        result = ws.purge(info.id, actor="admin@example.org", wait=0.5)
        assert (result.purged, result.pending) == ([], [info.id])
        assert MARKER in on_disk(ws)  # the honest part: the bytes are still there
        assert [p[0] for p in ws.pending_purges()] == [info.id]
        assert ws.trash() == [] and ws.list_datasets() == []
        assert ws.purge(wait=0.2).pending == [info.id]  # still held: still pending
    result = ws.purge(actor="admin@example.org")  # the retry, once the reader is done
    assert (result.purged, result.pending) == ([info.id], [])
    assert MARKER not in on_disk(ws)
    assert ws.pending_purges() == []
    last = ws.audit_log(1)[0]
    assert (last.action, last.details["status"], last.details["requested_by"]) == (
        "purge",
        "overwritten",
        "admin@example.org",
    )


def test_opening_the_workspace_retries_a_pending_purge(ws):
    info = ws.save_dataset("secret", CSV + MARKER)
    ws.delete(info.id)
    with reader_thread(ws):
        assert ws.purge(info.id, wait=0.2).pending == [info.id]
    again = Workspace.open(ws.db_path.parent)
    assert again.pending_purges() == []
    assert MARKER not in on_disk(again)
    assert again.audit_log(1)[0].actor == "system"
