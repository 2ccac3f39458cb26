"""Audit log, per-team workspaces, schema migration and backups."""

from __future__ import annotations

import csv
import io
import sqlite3
import stat
import threading

import pytest

from crisismap.errors import InputError
from crisismap.store import DB_NAME, SCHEMA_VERSION, Workspace

CSV = b"id,date,latitude,longitude,category,victims\n1,2024-03-01,15.51,32.53,killing,2\n"
OTHER = CSV + b"2,2024-03-02,15.52,32.54,killing,1\n"


@pytest.fixture
def ws(tmp_path) -> Workspace:
    return Workspace.open(tmp_path / "data")


def trail(ws: Workspace) -> list[tuple[str, str, str | None]]:
    """(actor, action, target) of every entry, oldest first."""
    return [(e.actor, e.action, e.target) for e in reversed(ws.audit_log())]


# --- the audit log --------------------------------------------------------------------------


def test_every_change_and_read_leaves_an_entry_with_its_actor(ws, tmp_path):
    ana, bo = "ana@example.org", "bo@example.org"
    info = ws.save_dataset("March", CSV, actor=ana)
    ws.save_dataset("March again", CSV, actor=bo)
    ws.get_bytes(info.id, actor=bo)
    ws.get_bytes(info.id)  # no actor: an internal read, not logged
    ws.rename(info.id, "March 2024", actor=ana)
    ws.delete(info.id, actor=ana)
    ws.restore(info.id, actor=ana)
    ws.delete(info.id, actor=ana)
    ws.purge(info.id, actor=ana)
    ws.log(bo, "export", "inc-x", kind="public", level=1)
    ws.backup(tmp_path / "backup.sqlite3", actor=ana)
    assert trail(ws)[-11:] == [
        (ana, "save", info.id),
        (bo, "save", info.id),
        (bo, "open", info.id),
        (ana, "rename", info.id),
        (ana, "delete", info.id),
        (ana, "restore", info.id),
        (ana, "delete", info.id),
        (ana, "purge", info.id),
        (ana, "purge", info.id),
        (bo, "export", "inc-x"),
        (ana, "backup", None),
    ]
    log = ws.audit_log()
    assert log[0].details["path"] == str(tmp_path / "backup.sqlite3")
    assert log[1].details == {"kind": "public", "level": 1}
    assert [e.details.get("already_saved") for e in log[-2:]] == [True, None]
    rename = next(e for e in log if e.action == "rename")
    assert rename.details == {"from": "March", "to": "March 2024"}
    assert log[0].time.endswith("+00:00") and [e.id for e in log] == sorted(
        (e.id for e in log), reverse=True
    )


def test_the_audit_table_refuses_update_and_delete(ws):
    ws.save_dataset("March", CSV, actor="ana@example.org")
    with sqlite3.connect(ws.db_path) as conn:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE audit SET actor = 'nobody'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM audit")
    assert trail(ws)[-1][0] == "ana@example.org"
    assert ws.check() == []


def test_check_reports_an_unprotected_audit_log(ws):
    with sqlite3.connect(ws.db_path) as conn:
        conn.execute("DROP TRIGGER audit_no_delete")
    assert ws.check() == [
        "audit log: trigger audit_no_delete is missing, so entries could be changed"
    ]


def test_audit_csv_is_safe_to_open_in_a_spreadsheet(ws):
    ws.log('=HYPERLINK("http://x")', "sign-in", None, note="-2+3")
    rows = list(csv.reader(io.StringIO(ws.audit_csv().decode())))
    assert rows[0] == ["id", "time", "actor", "action", "target", "details"]
    assert rows[1][2] == '\'=HYPERLINK("http://x")' and rows[1][3] == "sign-in"
    assert rows[1][5] == '{"note": "-2+3"}'


@pytest.mark.parametrize(
    ("actor", "action"), [("", "open"), ("x" * 321, "open"), ("ana", "Drop Table"), ("ana", "")]
)
def test_entries_need_an_actor_and_a_one_word_action(ws, actor, action):
    with pytest.raises(ValueError, match="actor|action"):
        ws.log(actor, action)
    assert ws.audit_log() == []


# --- teams ----------------------------------------------------------------------------------


def test_each_team_has_its_own_private_workspace(tmp_path):
    alpha = Workspace.open(tmp_path, team="alpha")
    beta = Workspace.open(tmp_path, team="beta")
    local = Workspace.open(tmp_path)
    assert alpha.db_path == tmp_path / "teams" / "alpha" / DB_NAME and alpha.team == "alpha"
    for folder in (tmp_path / "teams", tmp_path / "teams" / "alpha"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(alpha.db_path.stat().st_mode) == 0o600
    info = alpha.save_dataset("alpha's", CSV, actor="ana@example.org")
    assert [i.id for i in alpha.list_datasets()] == [info.id]
    assert beta.list_datasets() == [] and local.list_datasets() == []
    assert beta.audit_log() == [] and local.audit_log() == []
    assert alpha.secret != beta.secret
    with pytest.raises(InputError, match="deleted in another session"):
        beta.get_bytes(info.id)


@pytest.mark.parametrize("team", ["../alpha", "Alpha", "", "a" * 41, "-x", "al pha"])
def test_a_team_id_is_checked_before_any_path_is_built(tmp_path, team):
    with pytest.raises(InputError, match="not a team id"):
        Workspace.open(tmp_path / "d", team=team)
    assert not (tmp_path / "d").exists()


def test_a_team_needs_a_data_directory_not_a_file(tmp_path):
    with pytest.raises(InputError, match="give the data directory"):
        Workspace.open(tmp_path / "x.sqlite3", team="alpha")


# --- migration from schema 1 -------------------------------------------------------------------

V1 = [
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL)",
    """CREATE TABLE datasets (id TEXT PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN
    ('incidents', 'boundaries')), name TEXT NOT NULL, filename TEXT NOT NULL, sha256 TEXT
    NOT NULL, size INTEGER NOT NULL, created TEXT NOT NULL, options TEXT NOT NULL, report
    TEXT NOT NULL, UNIQUE (kind, sha256))""",
    """CREATE TABLE blobs (id TEXT PRIMARY KEY REFERENCES datasets(id) ON DELETE CASCADE,
    data BLOB NOT NULL)""",
    "INSERT INTO meta VALUES ('schema_version', '1'), ('secret', x'00112233')",
    """INSERT INTO datasets VALUES ('inc-0123456789abcdef', 'incidents', 'Old', 'old.csv',
    'f00d', 10, '2024-01-01T00:00:00+00:00', '{"preset": "acled"}', '{"records": 1}')""",
    "INSERT INTO blobs VALUES ('inc-0123456789abcdef', x'6964')",
]


def make_v1(folder) -> None:
    folder.mkdir()
    with sqlite3.connect(folder / DB_NAME) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        for statement in V1:
            conn.execute(statement)


def test_a_version_1_workspace_is_migrated_once_keeping_everything(tmp_path):
    make_v1(tmp_path / "old")
    openers = [threading.Thread(target=Workspace.open, args=(tmp_path / "old",)) for _ in range(4)]
    for t in openers:
        t.start()
    for t in openers:
        t.join()
    ws = Workspace.open(tmp_path / "old")
    (info,) = ws.list_datasets()
    assert (info.id, info.name, info.options, info.deleted_at) == (
        "inc-0123456789abcdef",
        "Old",
        {"preset": "acled"},
        None,
    )
    assert ws.get_bytes(info.id, verify=False) == b"id" and ws.secret == bytes.fromhex("00112233")
    migrations = [e for e in ws.audit_log() if e.action == "migrate"]
    assert [(e.actor, e.details) for e in migrations] == [("system", {"from": 1, "to": 2})]
    with sqlite3.connect(ws.db_path) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == (
            str(SCHEMA_VERSION),
        )
    ws.delete(info.id)
    assert [i.id for i in ws.trash()] == [info.id]


# --- backups ---------------------------------------------------------------------------------


def test_backup_is_one_private_file_holding_datasets_trash_and_audit(ws, tmp_path):
    kept = ws.save_dataset("kept", CSV, actor="ana@example.org")
    trashed = ws.save_dataset("trashed", OTHER)
    ws.delete(trashed.id)
    secret = ws.secret  # the key of masked points: a restored workspace masks alike
    target = ws.backup(tmp_path / "b.sqlite3", actor="ana@example.org")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("b.")) == ["b.sqlite3"]
    copy = Workspace.open(target)
    assert [i.id for i in copy.list_datasets()] == [kept.id]
    assert [i.id for i in copy.trash()] == [trashed.id]
    assert ("ana@example.org", "save", kept.id) in trail(copy)
    assert copy.secret == secret
    with pytest.raises(InputError, match="already exists"):
        ws.backup(target)


def test_restore_backup_replaces_the_workspace_and_keeps_the_old_one(ws, tmp_path):
    before = ws.save_dataset("before", CSV)
    target = ws.backup(tmp_path / "b.sqlite3")
    ws.delete(before.id)
    after = ws.save_dataset("after", OTHER)
    restored = Workspace.restore_backup(target, ws.db_path.parent, actor="ana@example.org")
    assert [i.id for i in restored.list_datasets()] == [before.id]
    assert restored.get_bytes(before.id) == CSV
    last = restored.audit_log(1)[0]
    assert (last.actor, last.action, last.details["source"]) == (
        "ana@example.org",
        "restore-backup",
        str(target),
    )
    previous = Workspace.open(restored.previous_copy)
    assert stat.S_IMODE(restored.previous_copy.stat().st_mode) == 0o600
    assert [i.id for i in previous.list_datasets()] == [after.id]
    assert [i.id for i in previous.trash()] == [before.id]


def test_restore_backup_migrates_an_old_backup_and_refuses_other_files(tmp_path):
    make_v1(tmp_path / "old")
    restored = Workspace.restore_backup(tmp_path / "old" / DB_NAME, tmp_path / "new")
    assert [i.name for i in restored.list_datasets()] == ["Old"]
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(InputError, match="not a crisismap workspace backup"):
        Workspace.restore_backup(junk, tmp_path / "new")
    with sqlite3.connect(tmp_path / "other.db") as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(InputError, match="not a crisismap workspace"):
        Workspace.restore_backup(tmp_path / "other.db", tmp_path / "new")
    with pytest.raises(InputError, match="does not exist"):
        Workspace.restore_backup(tmp_path / "missing.sqlite3", tmp_path / "new")
    assert [i.name for i in Workspace.open(tmp_path / "new").list_datasets()] == ["Old"]
