"""``crisismap workspace``: teams, trash, purge, audit, backups; names that cannot reach a
terminal as escape sequences; output files that hold records written 0600."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from crisismap.cli import main
from crisismap.escape import printable, printable_json
from crisismap.store import Workspace

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "incidents" / "demo_sudan_synthetic.csv"
CSV = b"id,date,latitude,longitude,category,victims\n1,2024-03-01,15.51,32.53,killing,2\n"
OSC52 = "\x1b]52;c;cm0gLXJmIH4=\x07"  # writes "rm -rf ~" to the clipboard
ERASE = "\x1b[2K\r"  # erases the line printed so far
HOSTILE = f"March{OSC52} report{ERASE}\u202egpj.csv\x9b31m\x7f"


@pytest.fixture(autouse=True)
def _user(monkeypatch):
    monkeypatch.setenv("USER", "tester")


def run(capsys, *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# --- the terminal helper ------------------------------------------------------------------------


def test_printable_shows_controls_and_bidi_overrides_as_escapes():
    assert printable(OSC52) == "\\x1b]52;c;cm0gLXJmIH4=\\x07"
    assert printable(ERASE) == "\\x1b[2K\\x0d"
    assert printable("a\x9bb\x7fc\u202ed\u2066e\u200ff\tg\ng") == (
        "a\\x9bb\\x7fc\\u202ed\\u2066e\\u200ff\\x09g\\x0ag"
    )
    assert printable("Darfur — الفاشر, Kordofán") == "Darfur — الفاشر, Kordofán"
    text = json.dumps({"name": HOSTILE}, ensure_ascii=False)
    assert json.loads(printable_json(text)) == {"name": HOSTILE}  # still the same JSON
    assert not set(printable_json(text)) & {"\x1b", "\x07", "\r", "\x9b", "\x7f", "\u202e"}


# --- names --------------------------------------------------------------------------------------


def test_hostile_names_never_reach_the_terminal_raw(tmp_path, capsys):
    ws = Workspace.open(tmp_path)
    info = ws.save_dataset(HOSTILE, CSV)
    base = ("workspace", "--data-dir", tmp_path)
    outputs = [
        run(capsys, *base, "list")[1],
        run(capsys, *base, "list", "--json")[1],
        run(capsys, *base, "rename", info.id, HOSTILE + " 2")[1],
        run(capsys, *base, "remove", info.id)[1],
        run(capsys, *base, "trash")[1],
        run(capsys, *base, "audit")[1],
        run(capsys, *base, "restore", info.id)[1],
    ]
    for out in outputs:
        assert not set(out) & {"\x1b", "\x07", "\r", "\x9b", "\x7f", "\u202e"}, out
    # (the store collapsed the \r, as any whitespace run, to one space)
    assert (
        "March\\x1b]52;c;cm0gLXJmIH4=\\x07 report\\x1b[2K \\u202egpj.csv\\x9b31m\\x7f" in outputs[0]
    )
    assert json.loads(outputs[1])[0]["name"] == " ".join(HOSTILE.split())


def test_blank_and_too_long_names_are_one_sentence_and_exit_2(tmp_path, capsys):
    base = ("workspace", "--data-dir", tmp_path)
    info = Workspace.open(tmp_path).save_dataset("fine", CSV)
    for argv, expected in [
        ((*base, "rename", info.id, "   "), "needs a name"),
        ((*base, "rename", info.id, "x" * 201), "over the limit of 200"),
        ((*base, "add", DEMO, "--name", " \t "), "needs a name"),
        ((*base, "add", DEMO, "--name", "y" * 500), "over the limit of 200"),
    ]:
        code, out, err = run(capsys, *argv)
        assert code == 2 and expected in err and "Traceback" not in err
        assert err.count("\n") == 1 and err.startswith("crisismap: error: ")
    assert [i.name for i in Workspace.open(tmp_path).list_datasets()] == ["fine"]


# --- teams, trash, audit ----------------------------------------------------------------------


def test_team_workspaces_trash_restore_purge_and_audit(tmp_path, capsys):
    alpha = ("workspace", "--data-dir", tmp_path, "--team", "alpha")
    code, out, _ = run(capsys, *alpha, "add", DEMO, "--name", "Demo")
    assert code == 0
    dataset_id = out.split(" saved as ")[1].split()[0]
    assert Workspace.open(tmp_path).list_datasets() == []  # not in the local workspace
    code, out, _ = run(capsys, "workspace", "list", "--data-dir", tmp_path, "--team", "beta")
    assert (code, out) == (0, "")  # --team after the action works too; beta sees nothing
    code, out, _ = run(capsys, *alpha, "remove", dataset_id)
    assert code == 0 and "moved to the trash" in out and "7 days" in out
    assert f"--team alpha restore {dataset_id}" in out and f"purge {dataset_id}" in out
    code, out, _ = run(capsys, *alpha, "trash")
    assert dataset_id in out and "by cli:tester" in out and "purged after" in out
    assert run(capsys, *alpha, "list")[1] == ""
    code, out, _ = run(capsys, *alpha, "restore", dataset_id)
    assert code == 0 and "restored" in out
    assert dataset_id in run(capsys, *alpha, "list")[1]
    run(capsys, *alpha, "remove", dataset_id)
    code, out, _ = run(capsys, *alpha, "purge", dataset_id)
    assert code == 0 and "bytes overwritten" in out and "verified" in out
    code, out, _ = run(capsys, *alpha, "trash")
    assert out == "The trash is empty.\n"
    code, _, err = run(capsys, *alpha, "restore", dataset_id)
    assert code == 2 and "was purged" in err
    actions = [e.action for e in reversed(Workspace.open(tmp_path, team="alpha").audit_log())]
    assert actions == ["save", "delete", "restore", "delete", "purge", "purge"]
    code, out, _ = run(capsys, *alpha, "audit", "--limit", "3")
    lines = out.splitlines()
    assert len(lines) == 3 and "cli:tester  audit" in lines[0] and "overwritten" in lines[1]
    csv_out = tmp_path / "audit.csv"
    assert run(capsys, *alpha, "audit", "--csv", csv_out)[0] == 0
    assert stat.S_IMODE(csv_out.stat().st_mode) == 0o600
    rows = list(csv.DictReader(io.StringIO(csv_out.read_text())))
    assert [r["action"] for r in rows if r["actor"] == "cli:tester"][:2] == ["audit", "audit"]
    assert len(rows) == 8  # the 6 above, the audit printed, the audit exported


def test_purge_with_a_reader_says_pending_and_exits_1(tmp_path, capsys):
    ws = Workspace.open(tmp_path)
    info = ws.save_dataset("secret", CSV)
    ws.delete(info.id)
    holding, release = threading.Event(), threading.Event()

    def read() -> None:
        conn = sqlite3.connect(ws.db_path, isolation_level=None, check_same_thread=False)
        conn.execute("BEGIN")
        conn.execute("SELECT count(*) FROM blobs").fetchone()
        holding.set()
        release.wait(30)
        conn.close()

    thread = threading.Thread(target=read)
    thread.start()
    assert holding.wait(10)
    try:
        code, out, _ = run(capsys, "workspace", "--data-dir", tmp_path, "purge", "--wait", "0.3")
    finally:
        release.set()
        thread.join()
    assert code == 1 and f"{info.id} purge PENDING" in out and "bytes overwritten" not in out
    code, out, _ = run(capsys, "workspace", "--data-dir", tmp_path, "trash")
    assert "The trash is empty" in out  # the open retried it; nothing pending now
    assert Workspace.open(tmp_path).pending_purges() == []


def test_a_bad_team_is_one_sentence(tmp_path, capsys):
    code, _, err = run(capsys, "workspace", "--data-dir", tmp_path, "--team", "../x", "list")
    assert code == 2 and "not a team id" in err and not (tmp_path / "teams").exists()


def test_backup_and_restore_backup(tmp_path, capsys):
    base = ("workspace", "--data-dir", tmp_path / "d", "--team", "alpha")
    ws = Workspace.open(tmp_path / "d", team="alpha")
    kept = ws.save_dataset("kept", CSV)
    backup = tmp_path / "alpha.sqlite3"
    code, out, _ = run(capsys, *base, "backup", backup)
    assert code == 0 and "restore-backup" in out and stat.S_IMODE(backup.stat().st_mode) == 0o600
    code, _, err = run(capsys, *base, "backup", backup)
    assert code == 2 and "already exists" in err
    run(capsys, *base, "remove", kept.id)
    run(capsys, *base, "purge")
    code, out, _ = run(capsys, *base, "restore-backup", backup)
    assert code == 0 and "kept in" in out
    assert [i.id for i in Workspace.open(tmp_path / "d", team="alpha").list_datasets()] == [kept.id]
    previous = Path(out.split("kept in ")[1].split(" (restore")[0])
    assert previous.is_file() and Workspace.open(previous).list_datasets() == []


# --- files that hold records are 0600 ------------------------------------------------------------


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.slow
def test_files_holding_records_are_owner_only(tmp_path, capsys, umask_022):
    # files holding raw values are named SENSITIVE_ whatever name was asked for
    rejected, problems = tmp_path / "SENSITIVE_rejected.csv", tmp_path / "problems.csv"
    rejected.write_text("an old, shared file")
    rejected.chmod(0o644)
    code = run(capsys, "validate", DEMO, "--rejected", rejected, "--problems", problems)[0]
    problems = tmp_path / "SENSITIVE_problems.csv"
    assert code == 0 and mode(rejected) == mode(problems) == 0o600
    assert "an old, shared file" not in rejected.read_text()
    sdn = ("--boundaries", "world:SDN")
    joined = tmp_path / "SENSITIVE_joined.csv"
    assert run(capsys, "join", DEMO, *sdn, "--internal", "--out", tmp_path / "joined.csv")[0] == 0
    internal, public = tmp_path / "SENSITIVE_internal.csv", tmp_path / "public.csv"
    also = tmp_path / "SENSITIVE_also-rejected.csv"
    level = ("--level", "1")
    run(
        capsys,
        "summarize",
        DEMO,
        *sdn,
        *level,
        "--internal",
        "--out",
        tmp_path / "internal.csv",
        "--rejected",
        tmp_path / "also-rejected.csv",
    )
    run(capsys, "summarize", DEMO, *sdn, *level, "--out", public)
    bundle = tmp_path / "SENSITIVE_bundle.zip"
    assert run(capsys, "report", DEMO, *sdn, *level, "--internal", "--out", bundle)[0] == 0
    ws = Workspace.open(tmp_path / "ws")
    info = ws.save_dataset("demo", DEMO.read_bytes())
    exported = tmp_path / "export.csv"
    assert (
        run(capsys, "workspace", "--data-dir", tmp_path / "ws", "export", info.id, exported)[0] == 0
    )
    assert exported.read_bytes() == DEMO.read_bytes()
    for path in (joined, internal, internal.with_suffix(".manifest.json"), also, bundle, exported):
        assert mode(path) == 0o600, path
    assert mode(public) == 0o644  # public figures: suppressed, shareable
    last = ws.audit_log(1)[0]
    assert (last.actor, last.action, last.details["out"]) == ("cli:tester", "export", str(exported))
