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
    number,
    read_input,
    validated,
    write_output,
)
from crisismap.i18n import _, ngettext


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
            _(
                "The workspace {path} already exists; its displacement secret (fingerprint "
                "{fingerprint}) is kept: every masked export reuses it."
            ).format(path=ws.db_path, fingerprint=fingerprint)
        )
        return 0
    ws.log(actor(), "init", None, secret_fingerprint=fingerprint)
    print(
        _(
            "Created the workspace {path} with its displacement secret (fingerprint "
            "{fingerprint}). Every masked export from it reuses that secret, so keep using "
            "this data directory and back it up with {backup}: never make a new workspace for "
            "one export."
        ).format(path=ws.db_path, fingerprint=fingerprint, backup=_again(args, "backup FILE"))
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
        counted = (
            ngettext("{n} record", "{n} records", records).format(n=number(records))
            if isinstance(records, int)
            else _("{n} B").format(n=number(info.size))
        )
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
    said = (
        _("{file} was already saved as {id} ({name}): {counts}")
        if info.already_saved
        else _("{file} saved as {id} ({name}): {counts}")
    )
    counts = _("{records} records, {accepted} accepted, {rejected} rejected").format(
        records=number(report.records),
        accepted=number(report.accepted),
        rejected=number(report.rejected),
    )
    print(
        said.format(
            file=_quoted(args.input.name), id=info.id, name=_quoted(info.name), counts=counts
        )
    )
    return 0


def _ws_rename(args: argparse.Namespace, ws: Any) -> int:
    info = ws.rename(args.id, args.name, actor=actor())
    print(_("{id} is now {name}").format(id=info.id, name=_quoted(info.name)))
    return 0


def _ws_remove(args: argparse.Namespace, ws: Any) -> int:
    info = ws.delete(args.id, actor=actor())
    print(
        _(
            "{id} ({name}) moved to the trash: its bytes are kept for {days} days, then "
            "purged. Restore it with {restore}, or erase it now with {purge}."
        ).format(
            id=info.id,
            name=_quoted(info.name),
            days=number(ws.trash_days),
            restore=_again(args, "restore " + info.id),
            purge=_again(args, "purge " + info.id),
        )
    )
    return 0


def _ws_export(args: argparse.Namespace, ws: Any) -> int:
    info = ws.info(args.id)
    data = ws.get_bytes(args.id)
    ws.log(actor(), "export", info.id, name=info.name, out=str(args.out), sha256=info.sha256)
    write_output(args.out, data)
    print(
        _("{id} written to {out} (SHA-256 verified, readable by you only)").format(
            id=info.id, out=args.out
        )
    )
    return 0


def _ws_check(args: argparse.Namespace, ws: Any) -> int:
    from crisismap.escape import printable

    problems = ws.check()
    for problem in problems:
        print(_("problem: {problem}").format(problem=printable(problem)))
    if problems:
        n = len(problems)
        print(ngettext("{n} problem", "{n} problems", n).format(n=number(n)))
    else:
        print(_("workspace OK"))
    return 0 if not problems else 1


def _ws_audit(args: argparse.Namespace, ws: Any) -> int:
    from crisismap.escape import printable

    ws.log(actor(), "audit", None, **({"csv": str(args.csv)} if args.csv else {}))
    if args.csv:
        data = ws.audit_csv()
        write_output(args.csv, data)  # names and who did what: owner-only
        n = len(ws.audit_log())
        print(
            ngettext(
                "wrote the audit log ({n} entry) to {out}",
                "wrote the audit log ({n} entries) to {out}",
                n,
            ).format(n=number(n), out=args.csv)
        )
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
        print(_("The trash is empty."))
    for info in infos:
        said = _("deleted {when} by {who}, purged after {due}").format(
            when=info.deleted_at, who=printable(info.deleted_by), due=ws.purge_due_at(info)
        )
        print(f"{info.id}  {info.kind:<10} {said}  {printable(info.name)}")
    for dataset_id, requested, by in pending:
        said = _(
            "purge pending since {when} (by {who}): a reader still held the workspace; "
            "{purge} retries"
        ).format(when=requested, who=printable(by), purge=_again(args, "purge"))
        print(f"{dataset_id}  {said}")
    if infos:
        print(_("Restore one with {restore}.").format(restore=_again(args, "restore ID")))
    return 0


def _ws_restore(args: argparse.Namespace, ws: Any) -> int:
    info = ws.restore(args.id, actor=actor())
    print(_("{id} ({name}) restored from the trash").format(id=info.id, name=_quoted(info.name)))
    return 0


def _ws_purge(args: argparse.Namespace, ws: Any) -> int:
    names = {i.id: i.name for i in ws.trash()}
    result = ws.purge(args.id, actor=actor(), older_than_days=args.older_than, wait=args.wait)
    for dataset_id in result.purged:
        name = f" ({_quoted(names[dataset_id])})" if dataset_id in names else ""
        print(
            _(
                "{id}{name} purged: bytes overwritten, write-ahead log checkpointed and "
                "emptied (verified)"
            ).format(id=dataset_id, name=name)
        )
    for dataset_id in result.pending:
        print(
            _(
                "{id} purge PENDING: another connection still reads the workspace, so the "
                "bytes are still in the file; run {purge} again once it is done (opening the "
                "workspace also retries)"
            ).format(id=dataset_id, purge=_again(args, "purge"))
        )
    if not result.purged and not result.pending:
        print(
            _("Nothing to purge that old.")
            if args.older_than is not None
            else _("Nothing to purge.")
        )
    return 1 if result.pending else 0


def _ws_backup(args: argparse.Namespace, ws: Any) -> int:
    path = ws.backup(args.out, actor=actor())
    print(
        _(
            "Backed up the workspace to {path} ({size} bytes, readable by you only). Restore "
            "it with {restore}."
        ).format(
            path=path,
            size=number(path.stat().st_size),
            restore=_again(args, "restore-backup " + str(path)),
        )
    )
    return 0


def _ws_restore_backup(args: argparse.Namespace) -> int:
    from crisismap.store import Workspace

    ws = Workspace.restore_backup(
        args.input, getattr(args, "data_dir", None), getattr(args, "team", None), actor=actor()
    )
    print(
        _(
            "Restored the workspace {path} from {backup}; the workspace as it was is kept in "
            "{previous} (restore that file to undo)."
        ).format(path=ws.db_path, backup=args.input, previous=ws.previous_copy)
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
        help=_("data directory (default: $CRISISMAP_DATA_DIR or ~/.local/share/crisismap)"),
    )
    options.add_argument(
        "--team",
        default=default,
        help=_("the team's workspace (<data dir>/teams/TEAM); default: the local workspace"),
    )
    return options


def add_workspace_parser(sub: Any) -> None:
    p = sub.add_parser(
        "workspace",
        parents=[_workspace_options(top=True)],
        help=_("a workspace the dashboard opens (list, add, remove, trash, audit, backup...)"),
    )
    common = [_workspace_options(top=False)]
    actions = p.add_subparsers(dest="action", required=True)

    def action(name: str, text: str) -> argparse.ArgumentParser:
        return actions.add_parser(name, parents=common, help=text)

    action("init", _("create the workspace and its displacement secret (once, before exports)"))
    q = action("list", _("saved datasets, newest first"))
    q.add_argument("--kind", choices=["incidents", "boundaries"])
    q.add_argument("--json", action="store_true", help=_("print a JSON list"))
    q = action("add", _("validate an incident CSV and save it for the dashboard"))
    add_input_options(q)
    q.add_argument("--name", help=_("name the dashboard lists (default: the file name)"))
    q = action("rename", _("give a saved dataset a new name"))
    q.add_argument("id")
    q.add_argument("name")
    q = action("remove", _("move a saved dataset to the trash (restorable until purged)"))
    q.add_argument("id")
    q = action("export", _("write a saved dataset's original bytes to a file (0600)"))
    q.add_argument("id")
    q.add_argument("out", metavar="OUT")
    action("check", _("verify every saved dataset against its SHA-256"))
    q = action("audit", _("print the audit log, newest first: who did what, when"))
    q.add_argument("--csv", metavar="OUT.csv", help=_("write the whole log as CSV (0600) instead"))
    q.add_argument("--limit", type=int, help=_("print only the newest N entries"))
    action("trash", _("datasets in the trash, when each will be purged, pending purges"))
    q = action("restore", _("take a dataset out of the trash"))
    q.add_argument("id")
    q = action(
        "purge",
        _(
            "erase datasets in the trash for good: bytes overwritten, log emptied "
            "(exit code 1 while a reader keeps a purge pending)"
        ),
    )
    q.add_argument("id", nargs="?", help=_("one dataset in the trash (default: the whole trash)"))
    q.add_argument(
        "--older-than", type=float, metavar="DAYS", help=_("only datasets deleted DAYS ago or more")
    )
    q.add_argument(
        "--wait",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help=_("how long to retry while another connection reads the workspace (default 5)"),
    )
    q = action("backup", _("copy the whole workspace into a new file (SQLite online backup)"))
    q.add_argument("out", metavar="OUT")
    q = action("restore-backup", _("replace the workspace with a backup (the current one is kept)"))
    q.add_argument("input", type=Path, metavar="IN")
    p.set_defaults(func=cmd_workspace)
