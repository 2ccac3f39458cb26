"""validate, join, records, summarize, report, boundaries: the pipeline's commands."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crisismap import i18n
from crisismap.cli.common import (
    actor,
    analyse,
    boundary_cache,
    input_options,
    is_public,
    number,
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
from crisismap.i18n import _, ngettext, pgettext
from crisismap.records.notes import category_notes
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
        write_output(path, to_csv_bytes(frame, localized=True))
        progress(
            _("wrote every problem to {path} (SENSITIVE: quotes raw values; 0600)").format(
                path=path
            )
        )
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
    from crisismap.records.rejections import META_COLUMNS

    out = output_path(path, public=False)
    write_output(out, to_csv_bytes(rejected, localized=META_COLUMNS))  # the file's own: as is
    n = len(rejected)
    progress(
        ngettext(
            "wrote {n} rejected record to {path} (SENSITIVE: raw values; 0600)",
            "wrote {n} rejected records to {path} (SENSITIVE: raw values; 0600)",
            n,
        ).format(n=number(n), path=out)
    )
    return out


def _print_report(name: str, report: Any, limit: int) -> None:
    from crisismap.problems import UNJOINED_NOTE

    records = ngettext("{n} record", "{n} records", report.records).format(n=number(report.records))
    print(
        _(
            "{file}: {records}, {accepted} accepted ({warned} with warnings), {rejected} rejected"
        ).format(
            file=name,
            records=records,
            accepted=number(report.accepted),
            warned=number(report.warned),
            rejected=number(report.rejected),
        )
    )
    print(
        _(
            "preset: {preset}; encoding: {encoding}; delimiter: {delimiter!r}; date order: "
            "{date_order}; category separator: {separator}"
        ).format(
            preset=report.preset,
            encoding=report.encoding,
            delimiter=report.delimiter,
            date_order=report.date_order,
            separator=report.category_separator,
        )
    )
    pairs = ", ".join(f"{k} <- {v}" for k, v in report.mapping.items())
    print(_("mapping: {pairs}").format(pairs=pairs))
    notes = [*category_notes(report), _(UNJOINED_NOTE)]
    for note in notes:
        print(_("note: {note}").format(note=note))
    severities = {
        "error": pgettext("severity", "error"),
        "warning": pgettext("severity", "warning"),
    }
    for (code, severity), count in sorted(report.counts.items()):
        print(f"  {severities.get(severity, severity):<7} {code:<28} {number(count):>7}")
    for problem in report.problems[:limit]:
        where = _("line {line}").format(line=problem.line) if problem.line else _("file")
        if problem.column:
            where = _("{where}, column {column}").format(where=where, column=problem.column)
        print(f"  {where}: [{problem.code}] {problem.message}")
    if len(report.problems) > limit or report.truncated:
        print("  " + _("… more problems not shown (use --json or --problems FILE for all)"))


def cmd_join(args: argparse.Namespace) -> int:
    from crisismap import pipeline
    from crisismap.export import to_csv_bytes

    if not args.internal:
        raise CrisismapError(
            _(
                "join writes every accepted record with its raw values (names, descriptions, "
                "exact places), so its output is internal only: add --internal (the file is "
                "written as {name}, readable by you only). For figures you can publish, use "
                "summarize or report."
            ).format(name=output_path(args.out, public=False).name)
        )
    out = output_path(args.out, public=False)
    analysis = analyse(args)
    table = pipeline.join_table(analysis)
    write_output(out, _for_excel(args, "csv", to_csv_bytes(table)))
    progress(
        ngettext(
            "wrote {n} joined record to {path} (SENSITIVE; 0600)",
            "wrote {n} joined records to {path} (SENSITIVE; 0600)",
            len(table),
        ).format(n=number(len(table)), path=out)
    )
    _print_agreement(analysis)
    return 0


def cmd_records(args: argparse.Namespace) -> int:
    """Every record with its original columns, status and regions: internal only."""
    from crisismap import record_table

    fmt = Path(args.out).suffix.lower().lstrip(".")
    if fmt not in record_table.FORMATS:
        raise CrisismapError(
            _(
                "--out must end in .csv, .gpkg or .parquet (the format follows it), got {name!r}."
            ).format(name=Path(args.out).name)
        )
    _check_table_options(args, fmt)
    out = output_path(args.out, public=False)
    if not args.internal:
        raise CrisismapError(
            _(
                "records writes every record with its raw values (names, descriptions, exact "
                "places) and the regions it fell in, so its output is internal only: add "
                "--internal (the file is written as {name}, readable by you only). For figures "
                "you can publish, use summarize or report."
            ).format(name=out.name)
        )
    analysis = analyse(args)
    files = [(args.input.name, read_input(args.input))]
    table = record_table.record_table(
        analysis, files, encoding=args.encoding, rejected=not args.no_rejected
    )
    write_output(out, record_table.records_bytes(table, fmt, bom=args.bom))
    counts = table[next(c for c in table.columns if c.endswith("status"))].value_counts()
    said = _("{accepted} accepted, {warned} warned, {rejected} rejected").format(
        **{status: number(counts.get(status, 0)) for status in record_table.STATUSES}
    )
    progress(
        ngettext(
            "wrote {n} record ({counts}) to {path} (SENSITIVE; 0600)",
            "wrote {n} records ({counts}) to {path} (SENSITIVE; 0600)",
            len(table),
        ).format(n=number(len(table)), counts=said, path=out)
    )
    _print_agreement(analysis)
    return 0


def _print_agreement(analysis: Any) -> None:
    if analysis.agreement is None or analysis.agreement.empty:
        return
    for row in analysis.agreement.itertuples(index=False):
        progress(
            _(
                "stated admin-{level} names: {agree} of {compared} agree ({rate}); "
                "{disagree} disagreements"
            ).format(
                level=row.level,
                agree=number(row.agree),
                compared=number(row.compared),
                rate=i18n.format_percent(row.agreement_rate, digits=1),
                disagree=number(row.disagree),
            )
        )


def cmd_summarize(args: argparse.Namespace) -> int:
    out = Path(args.out)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in {"csv", "xlsx", "geojson"}:
        raise CrisismapError(
            _(
                "--out must end in .csv, .xlsx or .geojson (the format follows it), got {name!r}."
            ).format(name=out.name)
        )
    _check_table_options(args, fmt)
    view = view_of(args)
    public = is_public(args)
    if public and args.engine == "dask":
        raise CrisismapError(
            _(
                "--engine dask makes internal figures only for now: add --internal (the output "
                "is written as SENSITIVE_..., for the team only), or use the local engine for "
                "public figures."
            )
        )
    if public and args.no_categories:
        raise CrisismapError(
            _(
                "--no-categories is available for internal figures only for now: public "
                "figures are per category, with totals per region, per period and overall. "
                "Leave --no-categories out, or add --internal for one row per region and period."
            )
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
    rejected = (
        _("; {n} rejected").format(n=number(result.report.rejected))
        if result.report is not None
        else ""
    )
    progress(
        _(
            "wrote SENSITIVE internal figures, {rows} rows, to {path} (+ {manifest}; both "
            "readable by you only); {accepted} accepted records: {inside} in regions, "
            "{outside} outside, {unattributable} not attributable at level {level}{rejected}"
        ).format(
            rows=number(len(result.summary)),
            path=out,
            manifest=manifest_path.name,
            accepted=number(totals["accepted"]),
            inside=number(totals["in_regions"]),
            outside=number(totals["__outside__"]),
            unattributable=number(totals["__not_attributable__"]),
            level=view.level,
            rejected=rejected,
        )
    )
    return 0


def _summarize_public(
    args: argparse.Namespace, analysis: Any, view: View, out: Path, fmt: str
) -> int:
    """Public ``summarize`` (the default): small cells suppressed (with complements),
    allow-listed columns, no rejected record, the input named only by a keyed fingerprint."""
    from crisismap import report

    figures = _limited_figures(args, analysis, view, public=True, ledger=release_ledger())
    title = _("Incidents by admin-{level} region").format(level=view.level)
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
        _(
            "wrote public figures to {path} (+ {manifest}): figures under {k} incidents "
            "suppressed with their complements ({hidden} figures hidden)"
        ).format(
            path=out,
            manifest=manifest_path.name,
            k=args.k,
            hidden=number(hidden_figures(figures)),
        )
    )
    return 0


def _check_table_options(args: argparse.Namespace, fmt: str) -> None:
    """``--hxl`` needs a table (CSV or XLSX), ``--bom`` a CSV: say so rather than ignore it."""
    if getattr(args, "hxl", False) and fmt not in {"csv", "xlsx"}:
        raise CrisismapError(
            _(
                "--hxl adds a hashtag row to a table, so it needs --out ending in .csv or "
                ".xlsx, got .{fmt}: change the ending or leave --hxl out."
            ).format(fmt=fmt)
        )
    if getattr(args, "bom", False) and fmt != "csv":
        raise CrisismapError(
            _(
                "--bom marks a CSV file as UTF-8 for Excel, so it needs --out ending in .csv, "
                "got .{fmt}: change the ending or leave --bom out."
            ).format(fmt=fmt)
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
        setting=_("--time-limit (or ${variable})").format(variable=prepared.TIME_LIMIT_ENV),
    )


def cmd_trends(args: argparse.Namespace) -> int:
    """Rising / falling regions of one view, as CSV or XLSX (public unless --internal)."""
    from crisismap import parallel, pipeline, trends
    from crisismap.aggregate.trends import TrendSettings

    out = Path(args.out)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in {"csv", "xlsx"}:
        raise CrisismapError(
            _("--out must end in .csv or .xlsx (the format follows it), got {name!r}.").format(
                name=out.name
            )
        )
    try:
        settings = TrendSettings(baseline=args.baseline, alpha=args.alpha, min_count=args.min_count)
    except ValueError as exc:
        raise CrisismapError(
            _("--baseline, --alpha or --min-count is out of range: {error}.").format(error=exc)
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
        what=_("The trend table"),
    )
    data = trends.export(result, fmt)
    out = output_path(out, public=public)
    write_output(out, data, records=not public)
    wrote = (
        _("Wrote the public trend table to {path}.")
        if public
        else _("Wrote the SENSITIVE (internal) trend table to {path}.")
    )
    progress(f"{result.sentence()} {wrote.format(path=out)}")
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

    method, _sep, rest = spec.partition(":")
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
        _(
            "--mask expects round:DECIMALS or displace:RADIUS_M[:MIN_RADIUS_M] (e.g. "
            "displace:5000), got {spec!r}."
        ).format(spec=spec)
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
    progress(_("building the report bundle (suppression and PDF can take a few seconds)"))
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
    wrote = (
        _("wrote the public report bundle to {path} ({size} bytes)")
        if public
        else _("wrote the SENSITIVE (internal) report bundle to {path} ({size} bytes)")
    )
    progress(wrote.format(path=out, size=number(len(data))))
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
            _(
                "--id-column {column} and --map {mapped} both name the id column: give one of them."
            ).format(column=args.id_column, mapped=mapped[0])
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
        where = (
            _("team {team!r} in {folder}").format(team=args.team, folder=default_data_dir())
            if args.team
            else str(default_data_dir())
        )
        team = f" --team {args.team}" if args.team else ""
        raise CrisismapError(
            _(
                "Displaced points need the workspace's secret, but there is no workspace for "
                "{where} yet: a secret made now would be made for this one export, and "
                "exports keyed on different secrets can be averaged to narrow each point "
                "down. Create the workspace once with {command} (or open it in the "
                "dashboard), keep using that data directory ($CRISISMAP_DATA_DIR), then run "
                "this report again."
            ).format(where=where, command=f"`crisismap workspace init{team}`")
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
            _(
                "{points} masked points; {left_out} record(s) left out: every cell of theirs "
                "is suppressed"
            ).format(points=number(said["points"]), left_out=number(said["left_out"]))
        )
    if said.get("secret_fingerprint"):
        progress(
            _("points displaced with the workspace secret {fingerprint}").format(
                fingerprint=said["secret_fingerprint"]
            )
        )
    if said.get("generated_ids"):
        warning = report.id_warning(said["generated_ids"], said["points"])
        progress(_("warning: {message}").format(message=warning))


def _summarize_distributed(args: argparse.Namespace, view: View) -> Any:
    """``summarize --engine dask``: join and count on a dask cluster (see crisismap.distributed)."""
    from crisismap import distributed
    from crisismap.boundaries import load_boundaries

    if args.fix_swapped:
        raise CrisismapError(
            _(
                "--fix-swapped is not available with --engine dask: check and fix swapped "
                "coordinates with the local engine first, or leave the option out."
            )
        )
    if not args.input.exists():
        raise CrisismapError(_("Input {path!r} does not exist.").format(path=str(args.input)))
    progress(_("loading boundaries {source}").format(source=args.boundaries))
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
    print("  " + _("version: {version}").format(version=bset.version))
    print("  " + _("date: {date}").format(date=bset.date))
    for level, frame in sorted(bset.levels.items()):
        codes = ", ".join(f"{kind} {number(n)}" for kind, n in code_kinds(frame).items())
        regions = ngettext("{n} region", "{n} regions", len(frame)).format(n=number(len(frame)))
        said = _("admin-{level}: {regions}; codes: {codes}")
        print("  " + said.format(level=level, regions=regions, codes=codes))
    if bset.checks:
        said = _("checks: {counts}. {threshold}")
        print("  " + said.format(counts=counts_text(bset.checks), threshold=threshold_text()))
    for line in summary_lines(bset.checks):
        print("  " + _("check: {line}").format(line=line))
    for note in bset.notes:
        print("  " + _("note: {note}").format(note=note))
    return 0
