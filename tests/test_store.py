"""The workspace: immutable datasets in SQLite (WAL), de-duplicated, safe across processes."""

from __future__ import annotations

import hashlib
import sqlite3
import stat
import threading

import numpy as np
import pandas as pd
import pytest

from crisismap.errors import InputError
from crisismap.records import presets
from crisismap.records import read as ingest
from crisismap.records import validation as validate
from crisismap.store import (
    DATA_DIR_ENV,
    DB_NAME,
    StoreError,
    Workspace,
    combine_records,
    default_data_dir,
)
from tests.helpers import store_workers

CSV = b"id,date,latitude,longitude,category,victims\n1,2024-03-01,15.51,32.53,killing,2\n"


@pytest.fixture
def ws(tmp_path) -> Workspace:
    return Workspace.open(tmp_path / "data")


# --- opening ---------------------------------------------------------------------------


def test_first_use_creates_a_private_data_dir_in_wal_mode(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "deep" / "data"))
    workspace = Workspace.open()
    assert workspace.db_path == tmp_path / "deep" / "data" / DB_NAME
    assert stat.S_IMODE(workspace.db_path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(workspace.db_path.stat().st_mode) == 0o600
    with sqlite3.connect(workspace.db_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert workspace.list_datasets() == []


def test_default_data_dir_follows_xdg_without_the_env_var(tmp_path, monkeypatch):
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_data_dir() == tmp_path / "xdg" / "crisismap"


def test_unusable_data_dir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match=DATA_DIR_ENV):
        Workspace.open(blocker / "data")


def test_a_workspace_from_a_newer_version_is_refused(ws):
    with sqlite3.connect(ws.db_path) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="newer crisismap"):
        Workspace.open(ws.db_path.parent)


# --- datasets --------------------------------------------------------------------------


def test_save_keeps_the_bytes_options_and_report(ws):
    info = ws.save_dataset(
        "March incidents",
        CSV,
        filename="march.csv",
        options={"preset": "generic", "overrides": {"date": "date"}},
        report_summary={"records": 1, "accepted": 1},
    )
    assert info.id.startswith("inc-") and info.kind == "incidents"
    assert info.sha256 == hashlib.sha256(CSV).hexdigest()
    assert (info.name, info.filename, info.size, info.already_saved) == (
        "March incidents",
        "march.csv",
        len(CSV),
        False,
    )
    assert ws.get_bytes(info.id) == CSV
    again = Workspace.open(ws.db_path.parent).info(info.id)
    assert again.options == {"preset": "generic", "overrides": {"date": "date"}}
    assert again.report == {"records": 1, "accepted": 1}


def test_the_same_bytes_again_return_the_saved_dataset(ws):
    first = ws.save_dataset("a.csv", CSV)
    second = ws.save_dataset("another name", CSV, options={"preset": "acled"})
    assert second.already_saved and second.id == first.id and second.name == "a.csv"
    assert [i.id for i in ws.list_datasets()] == [first.id]


def test_kinds_are_listed_apart(ws):
    incidents = ws.save_dataset("i", CSV)
    boundaries = ws.save_dataset("b", b'{"type": "FeatureCollection"}', kind="boundaries")
    assert boundaries.id.startswith("bnd-")
    assert [i.id for i in ws.list_datasets("boundaries")] == [boundaries.id]
    assert {i.id for i in ws.list_datasets()} == {incidents.id, boundaries.id}
    with pytest.raises(ValueError, match="incidents, boundaries"):
        ws.save_dataset("x", CSV, kind="photos")


def test_rename_and_its_checks(ws):
    info = ws.save_dataset("old", CSV)
    assert ws.rename(info.id, "  new\n name ").name == "new name"
    assert ws.get_bytes(info.id) == CSV
    with pytest.raises(InputError, match="needs a name"):
        ws.rename(info.id, "   ")
    with pytest.raises(InputError, match="limit of 200"):
        ws.rename(info.id, "x" * 201)


@pytest.mark.parametrize("action", ["info", "get_bytes", "delete", "rename"])
def test_unknown_ids_say_the_dataset_may_have_been_deleted(ws, action):
    args = ("inc-0000", "name") if action == "rename" else ("inc-0000",)
    with pytest.raises(InputError, match="deleted in another session"):
        getattr(ws, action)(*args)


def test_delete_keeps_the_bytes_in_the_trash_and_purge_overwrites_them(ws):
    marker = b"WITNESS-NAME-" + bytes(range(65, 91)) * 40
    info = ws.save_dataset("secret", CSV + marker)
    kept = ws.save_dataset("kept", CSV + b"2,2024-03-02,15.52,32.54,killing,1\n")
    ws.delete(info.id)
    assert [i.id for i in ws.list_datasets()] == [kept.id]
    assert marker in _on_disk(ws)  # in the trash: restorable, so still there
    assert ws.purge(info.id).purged == [info.id]
    assert marker not in _on_disk(ws)
    assert ws.check() == []


def _on_disk(ws: Workspace) -> bytes:
    return b"".join(
        p.read_bytes() for p in ws.db_path.parent.iterdir() if p.name.startswith(DB_NAME)
    )


def test_damaged_bytes_are_detected_not_returned(ws):
    info = ws.save_dataset("a", CSV)
    with sqlite3.connect(ws.db_path) as conn:
        conn.execute("UPDATE blobs SET data = ? WHERE id = ?", (CSV.replace(b"2", b"3"), info.id))
    with pytest.raises(StoreError, match="no longer matches its SHA-256"):
        ws.get_bytes(info.id)
    assert ws.check() == [f"{info.id}: bytes do not match their SHA-256"]


def test_secret_is_created_once_per_workspace(tmp_path):
    first = Workspace.open(tmp_path / "a")
    secret = first.secret
    assert len(secret) == 32
    assert Workspace.open(tmp_path / "a").secret == secret
    assert Workspace.open(tmp_path / "b").secret != secret


# --- combining -------------------------------------------------------------------------


def _records(rows: list[tuple[str, int, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [r[0] for r in rows],
            "line": [r[1] for r in rows],
            "victims": [r[2] for r in rows],
            "warnings": [0] * len(rows),
        }
    )


def test_combine_keeps_each_id_once_and_reports_conflicts():
    a = _records([("1", 2, 1.0), ("2", 3, np.nan)])
    b = _records([("2", 7, np.nan), ("3", 8, 4.0)])  # 2: same content on another line
    c = _records([("1", 2, 5.0)])  # 1: different victims
    combined = combine_records([("A", a), ("B", b), ("C", c)])
    assert combined.records[["id", "dataset"]].values.tolist() == [
        ["1", "A"],
        ["2", "A"],
        ["3", "B"],
    ]
    assert combined.conflicts[
        ["id", "dataset", "kept_dataset", "line", "fields"]
    ].values.tolist() == [["1", "C", "A", 2, "victims"]]
    assert "victims: '5.0' (kept: '1.0')" in combined.conflicts["values"].iloc[0]
    assert combined.summary == {
        "records_in": 5,
        "records_out": 3,
        "identical_duplicates": 1,
        "conflicts": 1,
    }


def test_repeated_ids_inside_one_dataset_are_left_to_validation():
    combined = combine_records([("A", _records([("1", 2, 1.0), ("1", 3, 2.0)]))])
    assert len(combined.records) == 2 and combined.summary["conflicts"] == 0


def _validated(data: bytes) -> pd.DataFrame:
    raw = ingest.read_csv_bytes(data)
    return validate.validate(raw, presets.detect_mapping(raw.header, raw.hxl_tags)).records


def test_workspace_combine_on_validated_files_names_the_datasets(ws):
    march = CSV + b"2,2024-03-02,15.52,32.54,detention,\n"
    april = CSV.replace(b",2\n", b",3\n") + b"4,2024-04-01,15.53,32.55,killing,1\n"
    first, second = ws.save_dataset("March", march), ws.save_dataset("April", april)
    combined = ws.combine(
        {first.id: _validated(ws.get_bytes(first.id)), second.id: _validated(april)}
    )
    assert combined.records["id"].tolist() == ["1", "2", "4"]
    assert combined.conflicts[["id", "dataset_name", "kept_name", "fields"]].values.tolist() == [
        ["1", "April", "March", "victims"]
    ]


# --- concurrency and crashes (the adversarial suite repeats these at scale) -----------


def test_threads_sharing_one_workspace_lose_nothing(ws):
    payloads = [CSV + f"{i},2024-03-01,15.5,32.5,x,1\n".encode() for i in range(40)]
    errors: list[BaseException] = []

    def save(chunk: list[bytes]) -> None:
        try:
            for data in chunk:
                ws.save_dataset("t", data)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(payloads[k::4] * 2,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(ws.get_bytes(i.id) for i in ws.list_datasets()) == sorted(payloads)


@pytest.mark.slow
def test_processes_saving_at_once_lose_nothing_and_store_shared_bytes_once(tmp_path):
    outcome = store_workers.concurrent_saves(tmp_path / "ws", workers=3, count=4)
    assert outcome.lost == [] and outcome.problems == [] and outcome.duplicates == 0
    assert len(outcome.committed) == 3 * 4 + 3  # the 3 shared payloads once
    assert outcome.stored == len(outcome.committed)


@pytest.mark.slow
def test_writers_killed_mid_write_leave_every_committed_dataset(tmp_path):
    outcome, rounds = store_workers.killed_writers(tmp_path / "ws", rounds=2, writers=2)
    for each in rounds:
        assert each.problems == [] and each.lost == []
    assert outcome.committed and outcome.stored >= len(outcome.committed)
