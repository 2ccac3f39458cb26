"""crisismap workspace …: the team's saved datasets, trash, audit log and backups."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from crisismap.cli.common import (
    actor,
    add_input_options,
    input_options,
    read_input,
    validated,
    write_output,
)


def _quoted(name: str) -> str:
    """A name for the terminal: quoted, every control character shown as an escape."""
    from crisismap.escape import printable

    return f"'{printable(name)}'"


def _again(args: argparse.Namespace, action: str) -> str:
    """The command for a follow-up step, on the same workspace (``--data-dir``, ``--team``)."""
    import shlex

    words = ["crisismap", "workspace"]
    if getattr(args, "data_dir", None):
        words += ["--data-dir", args.data_dir]
    if getattr(args, "team", None):
        words += ["--team", args.team]
    return "`" + shlex.join(words + action.split()) + "`"


def cmd_workspace(args: argparse.Namespace) -> int:
    """A workspace the dashboard lists: the local one, or a team's (``--team``)."""
    from crisismap.store import Workspace

    if args.action == "restore-backup":
        return _ws_restore_backup(args)
    if args.action == "init":
        return _ws_init(args)
    ws = Workspace.open(getattr(args, "data_dir", None), team=getattr(args, "team", None))
    return _WORKSPACE_ACTIONS[args.action](args, ws)


def _ws_init(args: argparse.Namespace) -> int:
    """Create the workspace, and with it the one secret its displaced points are keyed on."""
    from crisismap.publish import secret_fingerprint
    from crisismap.store import Workspace

    data_dir, team = getattr(args, "data_dir", None), getattr(args, "team", None)
    existed = Workspace.exists(data_dir, team=team)
    ws = Workspace.open(data_dir, team=team)
    fingerprint = secret_fingerprint(ws.secret)
    if existed:
        print(
            f"The workspace {ws.db_path} already exists; its displacement secret "
            f"(fingerprint {fingerprint}) is kept: every masked export reuses it."
        )
        return 0
    ws.log(actor(), "init", None, secret_fingerprint=fingerprint)
    print(
        f"Created the workspace {ws.db_path} with its displacement secret (fingerprint "
        f"{fingerprint}). Every masked export from it reuses that secret, so keep using this "
        f"data directory and back it up with {_again(args, 'backup FILE')}: never make a "
        "new workspace for one export."
    )
    return 0


def _ws_list(args: argparse.Namespace, ws: Any) -> int:
    from crisismap.escape import printable, printable_json

    infos = ws.list_datasets(args.kind)
    if args.json:
        text = json.dumps([_info_json(i) for i in infos], indent=2, ensure_ascii=False)
        print(printable_json(text))
        return 0
    for info in infos:
        records = info.report.get("records")
        counted = f"{records:,} records" if isinstance(records, int) else f"{info.size:,} B"
        print(
            f"{info.id}  {info.kind:<10} {info.created[:10]}  {counted:>16}  {printable(info.name)}"
        )
    return 0


def _ws_add(args: argparse.Namespace, ws: Any) -> int:
    from crisismap.store import check_name

    name = check_name(args.name or args.input.name)  # before the validation's work
    data = read_input(args.input)
    report = validated(args, data).report
    info = ws.save_dataset(
        name,
        data,
        filename=args.input.name,
        options=input_options(args),
        report_summary=report.summary(),
        actor=actor(),
    )
    verb = "was already saved as" if info.already_saved else "saved as"
    print(
        f"{_quoted(args.input.name)} {verb} {info.id} ({_quoted(info.name)}): "
        f"{report.records:,} records, {report.accepted:,} accepted, {report.rejected:,} rejected"
    )
    return 0


def _ws_rename(args: argparse.Namespace, ws: Any) -> int:
    info = ws.rename(args.id, args.name, actor=actor())
    print(f"{info.id} is now {_quoted(info.name)}")
    return 0


def _ws_remove(args: argparse.Namespace, ws: Any) -> int:
    info = ws.delete(args.id, actor=actor())
    print(
        f"{info.id} ({_quoted(info.name)}) moved to the trash: its bytes are kept for "
        f"{ws.trash_days:g} days, then purged. Restore it with "
        f"{_again(args, 'restore ' + info.id)}, or erase it now with "
        f"{_again(args, 'purge ' + info.id)}."
    )
    return 0


def _ws_export(args: argparse.Namespace, ws: Any) -> int:
    info = ws.info(args.id)
    data = ws.get_bytes(args.id)
    ws.log(actor(), "export", info.id, name=info.name, out=str(args.out), sha256=info.sha256)
    write_output(args.out, data)
    print(f"{info.id} written to {args.out} (SHA-256 verified, readable by you only)")
    return 0


def _ws_check(args: argparse.Namespace, ws: Any) -> int:
    from crisismap.escape import printable

    problems = ws.check()
    for problem in problems:
        print(f"problem: {printable(problem)}")
    print("workspace OK" if not problems else f"{len(problems)} problem(s)")
    return 0 if not problems else 1


def _ws_audit(args: argparse.Namespace, ws: Any) -> int:
    from crisismap.escape import printable

    ws.log(actor(), "audit", None, **({"csv": str(args.csv)} if args.csv else {}))
    if args.csv:
        data = ws.audit_csv()
        write_output(args.csv, data)  # names and who did what: owner-only
        print(f"wrote the audit log ({len(ws.audit_log()):,} entries) to {args.csv}")
        return 0
    for entry in ws.audit_log(args.limit):
        details = json.dumps(entry.details, ensure_ascii=False, sort_keys=True)
        print(
            printable(
                f"{entry.time}  {entry.actor}  {entry.action:<14} {entry.target or '-'}  {details}"
            )
        )
    return 0


def _ws_trash(args: argparse.Namespace, ws: Any) -> int:
    from crisismap.escape import printable

    infos = ws.trash()
    pending = ws.pending_purges()
    if not infos and not pending:
        print("The trash is empty.")
    for info in infos:
        print(
            f"{info.id}  {info.kind:<10} deleted {info.deleted_at} by "
            f"{printable(info.deleted_by)}, purged after {ws.purge_due_at(info)}  "
            f"{printable(info.name)}"
        )
    for dataset_id, requested, by in pending:
        print(
            f"{dataset_id}  purge pending since {requested} (by {printable(by)}): a reader "
            f"still held the workspace; {_again(args, 'purge')} retries"
        )
    if infos:
        print(f"Restore one with {_again(args, 'restore ID')}.")
    return 0


def _ws_restore(args: argparse.Namespace, ws: Any) -> int:
    info = ws.restore(args.id, actor=actor())
    print(f"{info.id} ({_quoted(info.name)}) restored from the trash")
    return 0


def _ws_purge(args: argparse.Namespace, ws: Any) -> int:
    names = {i.id: i.name for i in ws.trash()}
    result = ws.purge(args.id, actor=actor(), older_than_days=args.older_than, wait=args.wait)
    for dataset_id in result.purged:
        name = f" ({_quoted(names[dataset_id])})" if dataset_id in names else ""
        print(
            f"{dataset_id}{name} purged: bytes overwritten, write-ahead log checkpointed "
            "and emptied (verified)"
        )
    for dataset_id in result.pending:
        print(
            f"{dataset_id} purge PENDING: another connection still reads the workspace, so "
            f"the bytes are still in the file; run {_again(args, 'purge')} again once it "
            "is done (opening the workspace also retries)"
        )
    if not result.purged and not result.pending:
        print("Nothing to purge" + (" that old" if args.older_than is not None else "") + ".")
    return 1 if result.pending else 0


def _ws_backup(args: argparse.Namespace, ws: Any) -> int:
    path = ws.backup(args.out, actor=actor())
    print(
        f"Backed up the workspace to {path} ({path.stat().st_size:,} bytes, readable by you "
        f"only). Restore it with {_again(args, 'restore-backup ' + str(path))}."
    )
    return 0


def _ws_restore_backup(args: argparse.Namespace) -> int:
    from crisismap.store import Workspace

    ws = Workspace.restore_backup(
        args.input, getattr(args, "data_dir", None), getattr(args, "team", None), actor=actor()
    )
    print(
        f"Restored the workspace {ws.db_path} from {args.input}; the workspace as it was is "
        f"kept in {ws.previous_copy} (restore that file to undo)."
    )
    return 0


_WORKSPACE_ACTIONS = {
    "list": _ws_list,
    "add": _ws_add,
    "rename": _ws_rename,
    "remove": _ws_remove,
    "export": _ws_export,
    "check": _ws_check,
    "audit": _ws_audit,
    "trash": _ws_trash,
    "restore": _ws_restore,
    "purge": _ws_purge,
    "backup": _ws_backup,
}


def _info_json(info: Any) -> dict[str, Any]:
    keys = ("id", "kind", "name", "filename", "sha256", "size", "created", "report")
    return {key: getattr(info, key) for key in keys}


def _workspace_options(top: bool) -> argparse.ArgumentParser:
    """--data-dir and --team, accepted before the action and after it."""
    options = argparse.ArgumentParser(add_help=False)
    default = None if top else argparse.SUPPRESS
    options.add_argument(
        "--data-dir",
        default=default,
        help="data directory (default: $CRISISMAP_DATA_DIR or ~/.local/share/crisismap)",
    )
    options.add_argument(
        "--team",
        default=default,
        help="the team's workspace (<data dir>/teams/TEAM); default: the local workspace",
    )
    return options


def add_workspace_parser(sub: Any) -> None:
    p = sub.add_parser(
        "workspace",
        parents=[_workspace_options(top=True)],
        help="a workspace the dashboard opens (list, add, remove, trash, audit, backup...)",
    )
    common = [_workspace_options(top=False)]
    actions = p.add_subparsers(dest="action", required=True)

    def action(name: str, text: str) -> argparse.ArgumentParser:
        return actions.add_parser(name, parents=common, help=text)

    action("init", "create the workspace and its displacement secret (once, before exports)")
    q = action("list", "saved datasets, newest first")
    q.add_argument("--kind", choices=["incidents", "boundaries"])
    q.add_argument("--json", action="store_true", help="print a JSON list")
    q = action("add", "validate an incident CSV and save it for the dashboard")
    add_input_options(q)
    q.add_argument("--name", help="name the dashboard lists (default: the file name)")
    q = action("rename", "give a saved dataset a new name")
    q.add_argument("id")
    q.add_argument("name")
    q = action("remove", "move a saved dataset to the trash (restorable until purged)")
    q.add_argument("id")
    q = action("export", "write a saved dataset's original bytes to a file (0600)")
    q.add_argument("id")
    q.add_argument("out", metavar="OUT")
    action("check", "verify every saved dataset against its SHA-256")
    q = action("audit", "print the audit log, newest first: who did what, when")
    q.add_argument("--csv", metavar="OUT.csv", help="write the whole log as CSV (0600) instead")
    q.add_argument("--limit", type=int, help="print only the newest N entries")
    action("trash", "datasets in the trash, when each will be purged, pending purges")
    q = action("restore", "take a dataset out of the trash")
    q.add_argument("id")
    q = action(
        "purge",
        "erase datasets in the trash for good: bytes overwritten, log emptied "
        "(exit code 1 while a reader keeps a purge pending)",
    )
    q.add_argument("id", nargs="?", help="one dataset in the trash (default: the whole trash)")
    q.add_argument(
        "--older-than", type=float, metavar="DAYS", help="only datasets deleted DAYS ago or more"
    )
    q.add_argument(
        "--wait",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="how long to retry while another connection reads the workspace (default 5)",
    )
    q = action("backup", "copy the whole workspace into a new file (SQLite online backup)")
    q.add_argument("out", metavar="OUT")
    q = action("restore-backup", "replace the workspace with a backup (the current one is kept)")
    q.add_argument("input", type=Path, metavar="IN")
    p.set_defaults(func=cmd_workspace)
