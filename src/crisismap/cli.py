"""The ``crisismap`` command line: the same pipeline as the app, for batch work.

Bad input ends with one clear sentence on stderr and exit code 2, never a traceback:
every error a user can cause is a :class:`~crisismap.errors.CrisismapError` (or an
``OSError`` from the file system). Anything else is a bug: a traceback and exit code 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from crisismap import __version__
from crisismap.errors import CrisismapError
from crisismap.schema import DateOrder, View

EXIT_BAD_INPUT = 2


def _progress(message: str) -> None:
    print(f"crisismap: {message}", file=sys.stderr, flush=True)


def _write_output(path: str | Path, data: bytes, *, records: bool = True) -> None:
    """Write an output file: owner-only (0600) when it holds records, as usual when public."""
    from crisismap.files import write_private

    if records:
        write_private(path, data)
    else:
        Path(path).write_bytes(data)


def _add_input_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, help="incident CSV file")
    parser.add_argument("--preset", help="column preset: acled, ucdp, hxl, ushahidi, kobo, generic")
    parser.add_argument(
        "--date-order",
        default="auto",
        choices=[d.value for d in DateOrder],
        help="how to read ambiguous dates like 03/04/2024 (default: decided from the column)",
    )
    parser.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help="override the column for a field, e.g. --map date=when (repeatable)",
    )
    parser.add_argument("--encoding", help="force the file encoding (default: detected)")
    parser.add_argument(
        "--category-separator",
        choices=["auto", "none", ";", "|", ","],
        help="how multi-label categories are split (default: the preset's choice; auto "
        "picks the separator whose labels recur across records)",
    )


def _add_join_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--boundaries",
        required=True,
        help="boundary file or directory, or a bundled set: world, world:ISO3",
    )
    parser.add_argument(
        "--snap-m",
        type=float,
        default=None,
        help="snap points outside every region to the nearest one within this many metres",
    )
    parser.add_argument(
        "--fix-swapped",
        action="store_true",
        help="swap latitude/longitude of records detected as swapped",
    )


def _add_view_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--start", help="first date to include (YYYY-MM-DD)")
    parser.add_argument("--end", help="last date to include (YYYY-MM-DD)")
    parser.add_argument("--category", action="append", help="only this category (repeatable)")
    parser.add_argument("--region", action="append", help="only this region code (repeatable)")
    for name in ("approved", "verified"):
        help_text = f"count only records the file marks {name} (e.g. Ushahidi's {name.upper()})"
        parser.add_argument(f"--{name}-only", action="store_true", help=help_text)


def _parse_overrides(pairs: Sequence[str]) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise CrisismapError(
                f"--map expects FIELD=COLUMN (e.g. --map date=event_date), got {pair!r}."
            )
        overrides[field.strip()] = column.strip()
    return overrides


def _input_options(args: argparse.Namespace) -> dict[str, Any]:
    """How to read the input file: the options every input command shares."""
    return {
        "preset": args.preset,
        "overrides": _parse_overrides(args.map),
        "date_order": args.date_order,
        "encoding": args.encoding,
        "category_separator": args.category_separator,
    }


def _read_input(path: Path) -> bytes:
    if not path.is_file():
        raise CrisismapError(f"Input file {str(path)!r} does not exist or is not a file.")
    return path.read_bytes()


def _analyse(args: argparse.Namespace, *, with_join: bool = True) -> Any:
    from crisismap import pipeline
    from crisismap.boundaries import load_boundaries

    data = _read_input(args.input)
    _progress(f"loading boundaries {args.boundaries}")
    boundaries = load_boundaries(args.boundaries, cache_dir=_boundary_cache())
    return pipeline.analyse(
        data,
        boundaries,
        filename=args.input.name,
        **_input_options(args),
        snap_distance_m=args.snap_m,
        fix_swapped=args.fix_swapped,
        progress=_progress,
    )


def _boundary_cache() -> Path:
    """Where prepared boundary sets are kept: ``<data dir>/cache`` (public geometry only)."""
    from crisismap.store import default_data_dir

    return default_data_dir() / "cache"


def _validated(args: argparse.Namespace, data: bytes) -> Any:
    """Read, map and validate the input file's bytes as the input options say."""
    from crisismap.records import validate_bytes

    return validate_bytes(data, filename=args.input.name, **_input_options(args))


def cmd_validate(args: argparse.Namespace) -> int:
    from crisismap.export import to_csv_bytes

    result = _validated(args, _read_input(args.input))
    report = result.report
    if args.rejected:
        _write_output(args.rejected, to_csv_bytes(result.rejected))
    if args.problems:
        import pandas as pd

        frame = pd.DataFrame([p.to_dict() for p in report.problems])
        _write_output(args.problems, to_csv_bytes(frame))
    if args.json:
        summary = report.summary()
        summary["file"] = args.input.name
        summary["checked_against_boundaries"] = False  # swapped / outside: see the note
        summary["problems"] = [p.to_dict() for p in report.problems[: args.max_problems]]
        print(json.dumps(summary, ensure_ascii=False, default=str))
    else:
        _print_report(args.input.name, report, args.max_problems)
    return 0


def _print_report(name: str, report: Any, limit: int) -> None:
    from crisismap.problems import UNJOINED_NOTE

    print(
        f"{name}: {report.records:,} records, {report.accepted:,} accepted "
        f"({report.warned:,} with warnings), {report.rejected:,} rejected"
    )
    print(
        f"preset: {report.preset}; encoding: {report.encoding}; delimiter: {report.delimiter!r}; "
        f"date order: {report.date_order}; category separator: {report.category_separator}"
    )
    print("mapping: " + ", ".join(f"{k} <- {v}" for k, v in report.mapping.items()))
    for note in [n for n in report.notes if n.startswith("Category labels")] + [UNJOINED_NOTE]:
        print(f"note: {note}")
    for (code, severity), count in sorted(report.counts.items()):
        print(f"  {severity:<7} {code:<28} {count:>7,}")
    for problem in report.problems[:limit]:
        where = f"line {problem.line}" if problem.line else "file"
        column = f", column {problem.column}" if problem.column else ""
        print(f"  {where}{column}: [{problem.code}] {problem.message}")
    if len(report.problems) > limit or report.truncated:
        print("  … more problems not shown (use --json or --problems FILE for all)")


def cmd_join(args: argparse.Namespace) -> int:
    from crisismap import pipeline
    from crisismap.export import to_csv_bytes

    analysis = _analyse(args)
    table = pipeline.join_table(analysis)
    _write_output(args.out, to_csv_bytes(table))
    _progress(f"wrote {len(table):,} joined records to {args.out}")
    _print_agreement(analysis)
    return 0


def _print_agreement(analysis: Any) -> None:
    if analysis.agreement is None or analysis.agreement.empty:
        return
    for row in analysis.agreement.itertuples(index=False):
        _progress(
            f"stated admin-{row.level} names: {row.agree:,} of {row.compared:,} agree "
            f"({row.agreement_rate:.1%}); {row.disagree:,} disagreements"
        )


def _view(args: argparse.Namespace) -> View:
    """The view the arguments ask for, parsed once (a bad date or period fails here)."""
    return View.parse(
        level=args.level,
        period=args.period,
        start=args.start,
        end=args.end,
        categories=args.category,
        regions=args.region,
        approved_only=args.approved_only,
        verified_only=args.verified_only,
    )


def cmd_summarize(args: argparse.Namespace) -> int:
    out = Path(args.out)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in {"csv", "xlsx", "geojson"}:
        raise CrisismapError(
            f"--out must end in .csv, .xlsx or .geojson (the format follows it), got {out.name!r}."
        )
    view = _view(args)
    if args.engine == "dask":
        if args.public:
            raise CrisismapError(
                "--public is not available with --engine dask yet: run the public export with "
                "the local engine, or leave --public out."
            )
        result = _summarize_distributed(args, view)
    else:
        from crisismap import pipeline

        analysis = _analyse(args)
        pipeline.check_flag_filters(analysis, view)
        if args.public:
            return _summarize_public(args, analysis, view, out, fmt)
        result = pipeline.summary_result(analysis, view, by_category=not args.no_categories)
    data = result.export(fmt)
    _write_output(out, data)  # no --public: internal figures, small counts included
    manifest_path = Path(args.manifest) if args.manifest else out.with_suffix(".manifest.json")
    _write_output(manifest_path, result.manifest({out.name: data}), records=False)
    if args.rejected:
        from crisismap.export import to_csv_bytes

        _write_output(args.rejected, to_csv_bytes(result.rejected))
    totals = result.totals
    rejected = f"; {result.report.rejected:,} rejected" if result.report is not None else ""
    _progress(
        f"wrote {len(result.summary):,} rows to {out} (+ {manifest_path.name}); "
        f"{totals['accepted']:,} accepted records: {totals['in_regions']:,} in regions, "
        f"{totals['__outside__']:,} outside, {totals['__not_attributable__']:,} not attributable "
        f"at level {view.level}{rejected}"
    )
    return 0


def _summarize_public(
    args: argparse.Namespace, analysis: Any, view: View, out: Path, fmt: str
) -> int:
    """``summarize --public``: small cells suppressed (with complements), allow-listed columns."""
    from crisismap import report

    figures = report.view_figures(analysis, view, public=True, k=args.k)
    title = f"Incidents by admin-{view.level} region"
    files = report.figure_files(analysis, figures, title=title)
    data = {"csv": files["cells.csv"], "xlsx": files["figures.xlsx"]}.get(fmt)
    data = data if data is not None else files["regions.geojson"]
    _write_output(out, data, records=False)
    manifest_path = Path(args.manifest) if args.manifest else out.with_suffix(".manifest.json")
    _write_output(
        manifest_path,
        report.bundle_manifest(analysis, figures, {out.name: data}, title=title),
        records=False,
    )
    hidden = figures.suppression.get("suppressed_cells", "?")
    _progress(
        f"wrote public figures to {out} (+ {manifest_path.name}): cells under {args.k} "
        f"incidents suppressed with their complements ({hidden} figures hidden)"
    )
    return 0


def _parse_masking(spec: str | None) -> Any:
    """``round:2`` or ``displace:5000[:500]`` → publish.Masking."""
    if not spec:
        return None
    from crisismap.publish import Masking

    method, _, rest = spec.partition(":")
    parts = [p for p in rest.split(":") if p]
    try:
        if method == "round":
            return Masking(method="round", decimals=int(parts[0]) if parts else 2)
        if method == "displace":
            radius = float(parts[0]) if parts else 5000.0
            minimum = float(parts[1]) if len(parts) > 1 else min(500.0, radius / 10)
            return Masking(method="displace", radius_m=radius, min_radius_m=minimum)
    except ValueError:
        pass
    raise CrisismapError(
        f"--mask expects round:DECIMALS or displace:RADIUS_M[:MIN_RADIUS_M] (e.g. displace:5000), "
        f"got {spec!r}."
    )


def cmd_report(args: argparse.Namespace) -> int:
    from crisismap import pipeline, report

    view = _view(args)
    masking = _parse_masking(args.mask)
    secret = None
    if masking is not None:  # masked points are keyed on the workspace's secret
        from crisismap.store import Workspace

        workspace = Workspace.open(team=args.team)
        secret = workspace.secret
        workspace.log(
            _actor(), "export", None, command="report", internal=args.internal, mask=args.mask
        )
    analysis = _analyse(args)
    pipeline.check_flag_filters(analysis, view)
    public = not args.internal
    _progress("building the report bundle (suppression and PDF can take a few seconds)")
    data = report.build_bundle(
        analysis,
        view,
        title=args.title,
        public=public,
        k=args.k,
        masking=masking,
        secret=secret,
    )
    out = (
        Path(args.out)
        if args.out
        else Path(report.bundle_filename(level=view.level, period=view.period, public=public))
    )
    _write_output(out, data, records=not public)
    label = "public" if public else "SENSITIVE (internal)"
    _progress(f"wrote the {label} report bundle to {out} ({len(data):,} bytes)")
    return 0


def _summarize_distributed(args: argparse.Namespace, view: View) -> Any:
    """``summarize --engine dask``: join and count on a dask cluster (see crisismap.distributed)."""
    from crisismap import distributed
    from crisismap.boundaries import load_boundaries

    if args.fix_swapped:
        raise CrisismapError(
            "--fix-swapped is not available with --engine dask: check and fix swapped "
            "coordinates with the local engine first, or leave the option out."
        )
    if not args.input.exists():
        raise CrisismapError(f"Input {str(args.input)!r} does not exist.")
    _progress(f"loading boundaries {args.boundaries}")
    return distributed.summarize_input(
        args.input,
        load_boundaries(args.boundaries, cache_dir=_boundary_cache()),
        view,
        by_category=not args.no_categories,
        **_input_options(args),
        snap_distance_m=args.snap_m,
        scheduler=args.scheduler,
        progress=_progress,
    )


def cmd_boundaries(args: argparse.Namespace) -> int:
    from crisismap.boundaries import load_boundaries

    bset = load_boundaries(args.source, cache_dir=_boundary_cache())
    print(f"{bset.name}: {bset.source} ({bset.version})")
    for level, frame in sorted(bset.levels.items()):
        print(f"  admin-{level}: {len(frame):,} regions")
    for note in bset.notes:
        print(f"  note: {note}")
    return 0


def _actor() -> str:
    """Who runs this command, for the audit log: ``cli:$USER``."""
    user = os.environ.get("USER", "").strip()
    if not user:
        import getpass

        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
    return f"cli:{user}"


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
    ws = Workspace.open(getattr(args, "data_dir", None), team=getattr(args, "team", None))
    return _WORKSPACE_ACTIONS[args.action](args, ws)


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
    data = _read_input(args.input)
    report = _validated(args, data).report
    info = ws.save_dataset(
        name,
        data,
        filename=args.input.name,
        options=_input_options(args),
        report_summary=report.summary(),
        actor=_actor(),
    )
    verb = "was already saved as" if info.already_saved else "saved as"
    print(
        f"{_quoted(args.input.name)} {verb} {info.id} ({_quoted(info.name)}): "
        f"{report.records:,} records, {report.accepted:,} accepted, {report.rejected:,} rejected"
    )
    return 0


def _ws_rename(args: argparse.Namespace, ws: Any) -> int:
    info = ws.rename(args.id, args.name, actor=_actor())
    print(f"{info.id} is now {_quoted(info.name)}")
    return 0


def _ws_remove(args: argparse.Namespace, ws: Any) -> int:
    info = ws.delete(args.id, actor=_actor())
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
    ws.log(_actor(), "export", info.id, name=info.name, out=str(args.out), sha256=info.sha256)
    _write_output(args.out, data)
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

    ws.log(_actor(), "audit", None, **({"csv": str(args.csv)} if args.csv else {}))
    if args.csv:
        data = ws.audit_csv()
        _write_output(args.csv, data)  # names and who did what: owner-only
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
    for dataset_id, requested, actor in pending:
        print(
            f"{dataset_id}  purge pending since {requested} (by {printable(actor)}): a reader "
            f"still held the workspace; {_again(args, 'purge')} retries"
        )
    if infos:
        print(f"Restore one with {_again(args, 'restore ID')}.")
    return 0


def _ws_restore(args: argparse.Namespace, ws: Any) -> int:
    info = ws.restore(args.id, actor=_actor())
    print(f"{info.id} ({_quoted(info.name)}) restored from the trash")
    return 0


def _ws_purge(args: argparse.Namespace, ws: Any) -> int:
    names = {i.id: i.name for i in ws.trash()}
    result = ws.purge(args.id, actor=_actor(), older_than_days=args.older_than, wait=args.wait)
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
    path = ws.backup(args.out, actor=_actor())
    print(
        f"Backed up the workspace to {path} ({path.stat().st_size:,} bytes, readable by you "
        f"only). Restore it with {_again(args, 'restore-backup ' + str(path))}."
    )
    return 0


def _ws_restore_backup(args: argparse.Namespace) -> int:
    from crisismap.store import Workspace

    ws = Workspace.restore_backup(
        args.input, getattr(args, "data_dir", None), getattr(args, "team", None), actor=_actor()
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


def _add_workspace_parser(sub: Any) -> None:
    p = sub.add_parser(
        "workspace",
        parents=[_workspace_options(top=True)],
        help="a workspace the dashboard opens (list, add, remove, trash, audit, backup...)",
    )
    common = [_workspace_options(top=False)]
    actions = p.add_subparsers(dest="action", required=True)

    def action(name: str, text: str) -> argparse.ArgumentParser:
        return actions.add_parser(name, parents=common, help=text)

    q = action("list", "saved datasets, newest first")
    q.add_argument("--kind", choices=["incidents", "boundaries"])
    q.add_argument("--json", action="store_true", help="print a JSON list")
    q = action("add", "validate an incident CSV and save it for the dashboard")
    _add_input_options(q)
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crisismap",
        description="Validate incident records, join them to admin boundaries, aggregate, export.",
    )
    parser.add_argument("--version", action="version", version=f"crisismap {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="validate an incident file and report every problem")
    _add_input_options(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--rejected", metavar="OUT.csv", help="write rejected records with reasons")
    p.add_argument("--problems", metavar="OUT.csv", help="write every problem found")
    p.add_argument("--max-problems", type=int, default=50, help="problems to print (default 50)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("join", help="attribute each accepted record to a region at every level")
    _add_input_options(p)
    _add_join_options(p)
    p.add_argument("--out", required=True, metavar="OUT.csv")
    p.set_defaults(func=cmd_join)

    p = sub.add_parser("summarize", help="region x period x category figures, exported")
    _add_input_options(p)
    _add_join_options(p)
    p.add_argument("--level", type=int, required=True, help="admin level to summarise at")
    p.add_argument(
        "--period", default="month", help="day, week, acled-week, month, quarter or year"
    )
    p.add_argument("--out", required=True, metavar="OUT.csv|OUT.xlsx|OUT.geojson")
    p.add_argument("--manifest", help="provenance manifest path (default: beside --out)")
    p.add_argument("--rejected", metavar="OUT.csv", help="also write rejected records with reasons")
    _add_view_filters(p)
    p.add_argument("--no-categories", action="store_true", help="one row per region and period")
    p.add_argument(
        "--public",
        action="store_true",
        help="for publication: suppress cells under --k incidents (with complements) and keep "
        "only allow-listed columns; without it the output is SENSITIVE (team only)",
    )
    p.add_argument("--k", type=int, default=5, help="with --public: the small-cell threshold")
    p.add_argument(
        "--engine",
        choices=["local", "dask"],
        default="local",
        help="local: this process; dask: join and count on a dask cluster (INPUT may also be "
        "a folder of Parquet partitions of validated records)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="dask scheduler address, e.g. tcp://10.0.0.5:8786 (with --engine dask; "
        "default: a local cluster)",
    )
    p.set_defaults(func=cmd_summarize)

    p = sub.add_parser("report", help="one ZIP: PDF brief, figures, manifest (public by default)")
    _add_input_options(p)
    _add_join_options(p)
    p.add_argument("--level", type=int, required=True, help="admin level to report at")
    p.add_argument("--period", default="month", help="week, acled-week, month, quarter or year")
    _add_view_filters(p)
    p.add_argument("--title", help="title of the brief")
    p.add_argument("--k", type=int, default=5, help="suppress cells under k incidents (default 5)")
    p.add_argument(
        "--internal",
        action="store_true",
        help="no suppression: a SENSITIVE bundle for the team, never for publication",
    )
    p.add_argument(
        "--mask",
        metavar="round:D|displace:R[:MIN]",
        help="add masked incident points (rounded to D decimals, or displaced R metres)",
    )
    p.add_argument("--out", metavar="REPORT.zip", help="default: crisismap_report_adminN_P.zip")
    p.add_argument(
        "--team",
        help="with --mask: key the masking on this team's workspace (default: the local one)",
    )
    p.set_defaults(func=cmd_report)

    _add_workspace_parser(sub)

    p = sub.add_parser("boundaries", help="describe a boundary source")
    p.add_argument("source", help="boundary file or directory, or world, world:ISO3")
    p.set_defaults(func=cmd_boundaries)
    return parser


# Numeric options and the least each accepts (argparse checks only their type).
_MINIMUMS = {"k": 1, "max_problems": 0, "limit": 0, "wait": 0, "older_than": 0, "snap_m": 0}


def _check_numbers(args: argparse.Namespace) -> None:
    """Refuse a negative or non-finite number where an option needs a count or a length."""
    for name, least in _MINIMUMS.items():
        value = getattr(args, name, None)
        if value is not None and not (abs(value) < float("inf") and value >= least):
            option = "--" + name.replace("_", "-")
            raise CrisismapError(f"{option} expects a number of {least} or more, got {value}.")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        _check_numbers(args)
        return int(args.func(args) or 0)
    except CrisismapError as exc:
        print(f"crisismap: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        print(f"crisismap: error: {exc.strerror or exc}: {exc.filename or ''}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
