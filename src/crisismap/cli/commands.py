"""validate, join, records, summarize, report, boundaries: the pipeline's commands."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crisismap.cli.common import (
    actor,
    analyse,
    boundary_cache,
    input_options,
    is_public,
    output_path,
    progress,
    read_input,
    release_ledger,
    validated,
    view_of,
    workspace_secret,
    write_output,
)
from crisismap.errors import CrisismapError
from crisismap.schema import View


def cmd_validate(args: argparse.Namespace) -> int:
    from crisismap.export import to_csv_bytes

    result = validated(args, read_input(args.input))
    report = result.report
    if args.rejected:
        _write_rejected(args.rejected, result.rejected)
    if args.problems:
        import pandas as pd

        frame = pd.DataFrame([p.to_dict() for p in report.problems])
        path = output_path(args.problems, public=False)  # messages quote raw values
        write_output(path, to_csv_bytes(frame))
        progress(f"wrote every problem to {path} (SENSITIVE: quotes raw values; 0600)")
    if args.json:
        summary = report.summary()
        summary["file"] = args.input.name
        summary["checked_against_boundaries"] = False  # swapped / outside: see the note
        summary["problems"] = [p.to_dict() for p in report.problems[: args.max_problems]]
        print(json.dumps(summary, ensure_ascii=False, default=str))
    else:
        _print_report(args.input.name, report, args.max_problems)
    return 0


def _write_rejected(path: str | Path, rejected: Any) -> Path:
    """The rejected records (raw values) where the user asked: SENSITIVE_-named, 0600."""
    from crisismap.export import to_csv_bytes

    out = output_path(path, public=False)
    write_output(out, to_csv_bytes(rejected))
    progress(f"wrote {len(rejected):,} rejected records to {out} (SENSITIVE: raw values; 0600)")
    return out


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

    if not args.internal:
        raise CrisismapError(
            "join writes every accepted record with its raw values (names, descriptions, "
            "exact places), so its output is internal only: add --internal (the file is "
            f"written as {output_path(args.out, public=False).name}, readable by you only). "
            "For figures you can publish, use summarize or report."
        )
    out = output_path(args.out, public=False)
    analysis = analyse(args)
    table = pipeline.join_table(analysis)
    write_output(out, _for_excel(args, "csv", to_csv_bytes(table)))
    progress(f"wrote {len(table):,} joined records to {out} (SENSITIVE; 0600)")
    _print_agreement(analysis)
    return 0


def cmd_records(args: argparse.Namespace) -> int:
    """Every record with its original columns, status and regions: internal only."""
    from crisismap import record_table

    fmt = Path(args.out).suffix.lower().lstrip(".")
    if fmt not in record_table.FORMATS:
        raise CrisismapError(
            f"--out must end in .csv, .gpkg or .parquet (the format follows it), "
            f"got {Path(args.out).name!r}."
        )
    _check_table_options(args, fmt)
    out = output_path(args.out, public=False)
    if not args.internal:
        raise CrisismapError(
            "records writes every record with its raw values (names, descriptions, exact "
            "places) and the regions it fell in, so its output is internal only: add "
            f"--internal (the file is written as {out.name}, readable by you only). "
            "For figures you can publish, use summarize or report."
        )
    analysis = analyse(args)
    files = [(args.input.name, read_input(args.input))]
    table = record_table.record_table(
        analysis, files, encoding=args.encoding, rejected=not args.no_rejected
    )
    write_output(out, record_table.records_bytes(table, fmt, bom=args.bom))
    counts = table[next(c for c in table.columns if c.endswith("status"))].value_counts()
    said = ", ".join(f"{counts.get(s, 0):,} {s}" for s in record_table.STATUSES)
    progress(f"wrote {len(table):,} records ({said}) to {out} (SENSITIVE; 0600)")
    _print_agreement(analysis)
    return 0


def _print_agreement(analysis: Any) -> None:
    if analysis.agreement is None or analysis.agreement.empty:
        return
    for row in analysis.agreement.itertuples(index=False):
        progress(
            f"stated admin-{row.level} names: {row.agree:,} of {row.compared:,} agree "
            f"({row.agreement_rate:.1%}); {row.disagree:,} disagreements"
        )


def cmd_summarize(args: argparse.Namespace) -> int:
    out = Path(args.out)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in {"csv", "xlsx", "geojson"}:
        raise CrisismapError(
            f"--out must end in .csv, .xlsx or .geojson (the format follows it), got {out.name!r}."
        )
    _check_table_options(args, fmt)
    view = view_of(args)
    public = is_public(args)
    if public and args.engine == "dask":
        raise CrisismapError(
            "--engine dask makes internal figures only for now: add --internal (the output "
            "is written as SENSITIVE_..., for the team only), or use the local engine for "
            "public figures."
        )
    if public and args.no_categories:
        raise CrisismapError(
            "--no-categories is available for internal figures only for now: public "
            "figures are per category, with totals per region, per period and overall. "
            "Leave --no-categories out, or add --internal for one row per region and period."
        )
    if args.engine == "dask":
        result = _summarize_distributed(args, view)
    else:
        from crisismap import pipeline

        analysis = analyse(args)
        pipeline.check_flag_filters(analysis, view)
        if public:
            return _summarize_public(args, analysis, view, out, fmt)
        result = pipeline.summary_result(analysis, view, by_category=not args.no_categories)
    out = output_path(out, public=False)
    data = _for_excel(args, fmt, result.export(fmt, hxl=args.hxl))
    write_output(out, data)  # internal figures, small counts included: 0600
    manifest_path = output_path(
        args.manifest or out.with_suffix(".manifest.json"), public=False
    )  # the file's name and SHA-256, per-level totals: internal too
    write_output(manifest_path, result.manifest({out.name: data}))
    if args.rejected:
        _write_rejected(args.rejected, result.rejected)
    totals = result.totals
    rejected = f"; {result.report.rejected:,} rejected" if result.report is not None else ""
    progress(
        f"wrote SENSITIVE internal figures, {len(result.summary):,} rows, to {out} "
        f"(+ {manifest_path.name}; both readable by you only); "
        f"{totals['accepted']:,} accepted records: {totals['in_regions']:,} in regions, "
        f"{totals['__outside__']:,} outside, {totals['__not_attributable__']:,} not attributable "
        f"at level {view.level}{rejected}"
    )
    return 0


def _summarize_public(
    args: argparse.Namespace, analysis: Any, view: View, out: Path, fmt: str
) -> int:
    """Public ``summarize`` (the default): small cells suppressed (with complements),
    allow-listed columns, no rejected record, the input named only by a keyed fingerprint."""
    from crisismap import report

    figures = _limited_figures(args, analysis, view, public=True, ledger=release_ledger())
    title = f"Incidents by admin-{view.level} region"
    wanted = {"csv": "cells.csv", "xlsx": "figures.xlsx"}.get(fmt, "cells.geojson")
    files = report.figure_files(analysis, figures, title=title, only=wanted, hxl=args.hxl)
    data = _for_excel(args, fmt, files[wanted])
    write_output(out, data, records=False)
    manifest_path = Path(args.manifest) if args.manifest else out.with_suffix(".manifest.json")
    manifest = report.bundle_manifest(
        analysis, figures, {out.name: data}, title=title, secret=workspace_secret()
    )
    write_output(manifest_path, manifest, records=False)
    if args.rejected:
        _write_rejected(args.rejected, analysis.rejected)
    progress(
        f"wrote public figures to {out} (+ {manifest_path.name}): figures under {args.k} "
        f"incidents suppressed with their complements ({hidden_figures(figures):,} figures "
        "hidden)"
    )
    return 0


def _check_table_options(args: argparse.Namespace, fmt: str) -> None:
    """``--hxl`` needs a table (CSV or XLSX), ``--bom`` a CSV: say so rather than ignore it."""
    if getattr(args, "hxl", False) and fmt not in {"csv", "xlsx"}:
        raise CrisismapError(
            f"--hxl adds a hashtag row to a table, so it needs --out ending in .csv or .xlsx, "
            f"got .{fmt}: change the ending or leave --hxl out."
        )
    if getattr(args, "bom", False) and fmt != "csv":
        raise CrisismapError(
            f"--bom marks a CSV file as UTF-8 for Excel, so it needs --out ending in .csv, "
            f"got .{fmt}: change the ending or leave --bom out."
        )


def _for_excel(args: argparse.Namespace, fmt: str, data: bytes) -> bytes:
    """The CSV with a UTF-8 byte-order mark first when ``--bom`` asks for it."""
    from crisismap.export import with_bom

    return with_bom(data) if fmt == "csv" and getattr(args, "bom", False) else data


def _limited_figures(
    args: argparse.Namespace, analysis: Any, view: View, *, public: bool, ledger: Any = None
) -> Any:
    """The view's figures within ``--time-limit`` (or $CRISISMAP_EXPORT_TIME_LIMIT, 120 s)."""
    from crisismap import prepared

    return prepared.view_figures(
        analysis,
        view,
        public=public,
        k=args.k,
        ledger=ledger,
        time_limit=prepared.export_time_limit(args.time_limit),
        setting=f"--time-limit (or ${prepared.TIME_LIMIT_ENV})",
    )


def cmd_trends(args: argparse.Namespace) -> int:
    """Rising / falling regions of one view, as CSV or XLSX (public unless --internal)."""
    from crisismap import parallel, pipeline, trends
    from crisismap.aggregate.trends import TrendSettings

    out = Path(args.out)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in {"csv", "xlsx"}:
        raise CrisismapError(
            f"--out must end in .csv or .xlsx (the format follows it), got {out.name!r}."
        )
    try:
        settings = TrendSettings(baseline=args.baseline, alpha=args.alpha, min_count=args.min_count)
    except ValueError as exc:
        raise CrisismapError(
            f"--baseline, --alpha or --min-count is out of range: {exc}."
        ) from None
    view = view_of(args)
    public = is_public(args)
    analysis = analyse(args)
    pipeline.check_flag_filters(analysis, view)
    from crisismap import prepared

    result = parallel.run_limited(
        lambda: trends.view_trends(
            analysis,
            view,
            public=public,
            k=args.k,
            ledger=release_ledger() if public else None,
            settings=settings,
            latest=args.latest,
        ),
        time_limit=prepared.export_time_limit(args.time_limit),
        what="The trend table",
    )
    data = trends.export(result, fmt)
    out = output_path(out, public=public)
    write_output(out, data, records=not public)
    label = "public" if public else "SENSITIVE (internal)"
    progress(f"{result.sentence()} Wrote the {label} trend table to {out}.")
    return 0


def hidden_figures(figures: Any) -> int:
    """How many published figures suppression hid: the settings' count, else the flags.

    Read defensively: the count is ``suppressed_figures`` in the suppression settings;
    without it, the suppressed flags of every published table (cells and totals) are summed.
    """
    import numbers

    count = figures.suppression.get("suppressed_figures")
    if isinstance(count, numbers.Integral) and not isinstance(count, bool):
        return int(count)
    tables = (figures.cells, figures.regions, figures.series, figures.periods, figures.totals)
    return int(sum(table["suppressed"].sum() for table in tables if "suppressed" in table))


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
    from crisismap import parallel, pipeline, report

    started = datetime.now(UTC)  # a displacement secret must be older than this export
    _id_column(args)
    view = view_of(args)
    public = is_public(args)
    masking = _parse_masking(args.mask)
    secret = _masking_secret(args, masking, started)  # refuses before anything is made
    if secret is None and public:  # the manifest's input fingerprints are keyed on it
        secret = workspace_secret(args.team)
    analysis = analyse(args)
    pipeline.check_flag_filters(analysis, view)
    progress("building the report bundle (suppression and PDF can take a few seconds)")
    ledger = release_ledger(args.team) if public else None
    with parallel.processes_allowed():  # the PDF drawn in a child while the tables are written
        data = report.build_bundle(
            analysis,
            view,
            title=args.title,
            public=public,
            k=args.k,
            masking=masking,
            secret=secret,
            ledger=ledger,
            figures=lambda: _limited_figures(args, analysis, view, public=public, ledger=ledger),
        )
    out = output_path(
        args.out or report.bundle_filename(level=view.level, period=view.period, public=public),
        public=public,
    )
    write_output(out, data, records=not public)
    label = "public" if public else "SENSITIVE (internal)"
    progress(f"wrote the {label} report bundle to {out} ({len(data):,} bytes)")
    if masking is not None:
        _report_points(data, public)
    return 0


def _id_column(args: argparse.Namespace) -> None:
    """``--id-column NAME`` is ``--map id=NAME``: the ids masked points are keyed on."""
    if not getattr(args, "id_column", None):
        return
    mapped = [m for m in args.map if m.partition("=")[0].strip() == "id"]
    if mapped and mapped != [f"id={args.id_column}"]:
        raise CrisismapError(
            f"--id-column {args.id_column} and --map {mapped[0]} both name the id column: "
            "give one of them."
        )
    args.map = [*args.map, f"id={args.id_column}"]


def _masking_secret(args: argparse.Namespace, masking: Any, started: datetime) -> bytes | None:
    """The workspace secret that keys displacement: made with the workspace, never here.

    A data directory without a workspace is refused before anything is created in it,
    so no export can mint its own secret.
    """
    if masking is None:
        return None
    from crisismap.store import Workspace, default_data_dir

    displace = masking.method == "displace"
    if displace and not Workspace.exists(team=args.team):
        where = f"team {args.team!r} in " if args.team else ""
        team = f" --team {args.team}" if args.team else ""
        raise CrisismapError(
            f"Displaced points need the workspace's secret, but there is no workspace for "
            f"{where}{default_data_dir()} yet: a secret made now would be made for this one "
            "export, and exports keyed on different secrets can be averaged to narrow each "
            "point down. Create the workspace once with `crisismap workspace init"
            f"{team}` (or open it in the dashboard), keep using that data directory "
            "($CRISISMAP_DATA_DIR), then run this report again."
        )
    workspace = Workspace.open(team=args.team)
    workspace.log(actor(), "export", None, command="report", internal=args.internal, mask=args.mask)
    return workspace.export_secret(started) if displace else None


def _report_points(bundle: bytes, public: bool) -> None:
    """What the bundle's manifest says about its points, on stderr."""
    import io
    import zipfile

    from crisismap import publish, report

    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        name = publish.export_filename("manifest.json", public)
        said = json.loads(archive.read(name))["parameters"]["publication"].get("points") or {}
    if said.get("left_out"):
        progress(
            f"{said['points']:,} masked points; {said['left_out']:,} record(s) left out: "
            "every cell of theirs is suppressed"
        )
    if said.get("secret_fingerprint"):
        progress(f"points displaced with the workspace secret {said['secret_fingerprint']}")
    if said.get("generated_ids"):
        progress("warning: " + report.id_warning(said["generated_ids"], said["points"]))


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
    progress(f"loading boundaries {args.boundaries}")
    return distributed.summarize_input(
        args.input,
        load_boundaries(
            args.boundaries,
            cache_dir=boundary_cache(),
            keep_unnamed_overlaps=args.keep_unnamed_overlaps,
        ),
        view,
        by_category=not args.no_categories,
        **input_options(args),
        snap_distance_m=args.snap_m,
        date_range=args.date_range,
        scheduler=args.scheduler,
        progress=progress,
    )


def cmd_boundaries(args: argparse.Namespace) -> int:
    from crisismap.boundaries import code_kinds, load_boundaries
    from crisismap.boundaries.checks import counts_text, summary_lines, threshold_text
    from crisismap.cli.fetch import check_not_fetch_options, cmd_fetch

    if args.source == "fetch":  # a folder called fetch is ./fetch
        return cmd_fetch(args)
    check_not_fetch_options(args)
    bset = load_boundaries(
        args.source, cache_dir=boundary_cache(), keep_unnamed_overlaps=args.keep_unnamed_overlaps
    )
    print(f"{bset.name}: {bset.source}")
    print(f"  version: {bset.version}")
    print(f"  date: {bset.date}")
    for level, frame in sorted(bset.levels.items()):
        codes = ", ".join(f"{kind} {n:,}" for kind, n in code_kinds(frame).items())
        print(f"  admin-{level}: {len(frame):,} regions; codes: {codes}")
    if bset.checks:
        print(f"  checks: {counts_text(bset.checks)}. {threshold_text()}")
    for line in summary_lines(bset.checks):
        print(f"  check: {line}")
    for note in bset.notes:
        print(f"  note: {note}")
    return 0
