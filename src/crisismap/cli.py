"""The ``crisismap`` command line: the same pipeline as the app, for batch work.

Bad input ends with one clear sentence on stderr and exit code 2, never a traceback;
a traceback means a bug.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from crisismap import __version__
from crisismap.errors import CrisismapError
from crisismap.schema import DateOrder, Period

EXIT_BAD_INPUT = 2


def _progress(message: str) -> None:
    print(f"crisismap: {message}", file=sys.stderr, flush=True)


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


def _read_input(path: Path) -> bytes:
    if not path.is_file():
        raise CrisismapError(f"Input file {str(path)!r} does not exist or is not a file.")
    return path.read_bytes()


def _analyse(args: argparse.Namespace, *, with_join: bool = True) -> Any:
    from crisismap import pipeline
    from crisismap.boundaries import load_boundaries

    data = _read_input(args.input)
    _progress(f"loading boundaries {args.boundaries}")
    boundaries = load_boundaries(args.boundaries)
    return pipeline.analyse(
        data,
        boundaries,
        filename=args.input.name,
        preset=args.preset,
        overrides=_parse_overrides(args.map),
        date_order=args.date_order,
        encoding=args.encoding,
        snap_distance_m=args.snap_m,
        fix_swapped=args.fix_swapped,
        progress=_progress,
    )


def cmd_validate(args: argparse.Namespace) -> int:
    from crisismap import ingest, presets, validate
    from crisismap.export import to_csv_bytes

    data = _read_input(args.input)
    raw = ingest.read_csv_bytes(data, filename=args.input.name, encoding=args.encoding)
    mapping = presets.detect_mapping(
        raw.header, raw.hxl_tags, preset=args.preset, overrides=_parse_overrides(args.map)
    )
    result = validate.validate(raw, mapping, date_order=DateOrder.parse(args.date_order))
    report = result.report
    if args.rejected:
        Path(args.rejected).write_bytes(to_csv_bytes(result.rejected))
    if args.problems:
        import pandas as pd

        frame = pd.DataFrame([p.to_dict() for p in report.problems])
        Path(args.problems).write_bytes(to_csv_bytes(frame))
    if args.json:
        summary = report.summary()
        summary["file"] = args.input.name
        summary["problems"] = [p.to_dict() for p in report.problems[: args.max_problems]]
        print(json.dumps(summary, ensure_ascii=False, default=str))
    else:
        _print_report(args.input.name, report, args.max_problems)
    return 0


def _print_report(name: str, report: Any, limit: int) -> None:
    print(
        f"{name}: {report.records:,} records, {report.accepted:,} accepted "
        f"({report.warned:,} with warnings), {report.rejected:,} rejected"
    )
    print(
        f"preset: {report.preset}; encoding: {report.encoding}; delimiter: {report.delimiter!r}; "
        f"date order: {report.date_order}"
    )
    print("mapping: " + ", ".join(f"{k} <- {v}" for k, v in report.mapping.items()))
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
    Path(args.out).write_bytes(to_csv_bytes(table))
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


def cmd_summarize(args: argparse.Namespace) -> int:
    from crisismap import pipeline

    out = Path(args.out)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in {"csv", "xlsx", "geojson"}:
        raise CrisismapError(
            f"--out must end in .csv, .xlsx or .geojson (the format follows it), got {out.name!r}."
        )
    period = Period.parse(args.period)
    analysis = _analyse(args)
    view = {
        "level": args.level,
        "period": period.value,
        "start": args.start,
        "end": args.end,
        "categories": args.category or None,
    }
    filters = {k: view[k] for k in ("start", "end", "categories")}
    summary = pipeline.summarize(
        analysis, level=args.level, period=period, by_category=not args.no_categories, **filters
    )
    data = pipeline.export_summary(analysis, summary, fmt=fmt, level=args.level, **filters)
    out.write_bytes(data)
    manifest_path = Path(args.manifest) if args.manifest else out.with_suffix(".manifest.json")
    manifest_path.write_bytes(pipeline.manifest(analysis, view=view, outputs={out.name: data}))
    if args.rejected:
        from crisismap.export import to_csv_bytes

        Path(args.rejected).write_bytes(to_csv_bytes(analysis.rejected))
    totals = pipeline.totals(analysis, args.level)
    _progress(
        f"wrote {len(summary):,} rows to {out} (+ {manifest_path.name}); "
        f"{totals['accepted']:,} accepted records: {totals['in_regions']:,} in regions, "
        f"{totals['__outside__']:,} outside, {totals['__not_attributable__']:,} not attributable "
        f"at level {args.level}; {analysis.report.rejected:,} rejected"
    )
    return 0


def cmd_boundaries(args: argparse.Namespace) -> int:
    from crisismap.boundaries import load_boundaries

    bset = load_boundaries(args.source)
    print(f"{bset.name}: {bset.source} ({bset.version})")
    for level, frame in sorted(bset.levels.items()):
        print(f"  admin-{level}: {len(frame):,} regions")
    for note in bset.notes:
        print(f"  note: {note}")
    return 0


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
    p.add_argument("--start", help="first date to include (YYYY-MM-DD)")
    p.add_argument("--end", help="last date to include (YYYY-MM-DD)")
    p.add_argument("--category", action="append", help="only this category (repeatable)")
    p.add_argument("--no-categories", action="store_true", help="one row per region and period")
    p.set_defaults(func=cmd_summarize)

    p = sub.add_parser("boundaries", help="describe a boundary source")
    p.add_argument("source", help="boundary file or directory, or world, world:ISO3")
    p.set_defaults(func=cmd_boundaries)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (CrisismapError, ValueError) as exc:
        print(f"crisismap: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        print(f"crisismap: error: {exc.strerror or exc}: {exc.filename or ''}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
