"""The one place that chains the steps: ingest → validate → join → compare → aggregate.

The app and the CLI both call :func:`analyse` once per upload and boundary choice,
then :func:`summarize` (cheap) for every view; export helpers turn the results into
bytes. Nothing here touches Streamlit or folium, and nothing is cached globally:
callers own their results (per session in the app).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from crisismap import aggregate, join
from crisismap.boundaries import BoundarySet
from crisismap.errors import InputError
from crisismap.export import manifest_bytes, regions_geojson_bytes, to_csv_bytes, to_xlsx_bytes
from crisismap.problems import COORDS_SWAPPED, COORDS_SWAPPED_FIXED, Report
from crisismap.records import combine_records, validate_bytes
from crisismap.schema import (
    IMPRECISE_CODE,
    OUTSIDE_CODE,
    DateOrder,
    MatchStatus,
    Period,
)

DEFAULT_MAX_UPLOAD_BYTES = 200 * 1024 * 1024
MAIN_COUNTRY_SHARE = 0.02  # countries holding at least this share of records anchor swap checks

Progress = Callable[[str], None]
# Records of several files sharing an id but not their content (see store.combine_records).
_NO_CONFLICTS = pd.DataFrame(columns=["id", "file", "kept_file", "line", "fields", "values"])


def _quiet(_: str) -> None:
    return None


@dataclass
class Analysis:
    """Everything one upload yields against one boundary set; input to every view."""

    filename: str
    input_sha256: str
    boundaries: BoundarySet
    records: pd.DataFrame
    rejected: pd.DataFrame
    report: Report
    joined: pd.DataFrame
    agreement: pd.DataFrame
    disagreements: pd.DataFrame
    parameters: dict[str, Any] = field(default_factory=dict)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    conflicts: pd.DataFrame = field(default_factory=lambda: _NO_CONFLICTS)

    @property
    def levels(self) -> list[int]:
        return sorted(self.boundaries.levels)


def analyse(
    data: bytes,
    boundaries: BoundarySet,
    *,
    filename: str = "incidents.csv",
    **options: Any,
) -> Analysis:
    """Validate ``data`` (CSV bytes) and join its accepted records to ``boundaries``.

    Every input record ends in ``records`` (accepted, possibly with warnings) or in
    ``rejected`` with its reasons; ``report.accepted + report.rejected == report.records``.
    Options: ``preset``, ``overrides``, ``date_order``, ``encoding``, ``snap_distance_m``,
    ``fix_swapped``, ``max_bytes``, ``progress`` (see :func:`analyse_files`).
    """
    return analyse_files([(filename, data)], boundaries, **options)


def analyse_files(
    files: Sequence[tuple[str, bytes]],
    boundaries: BoundarySet,
    *,
    preset: str | None = None,
    overrides: Mapping[str, str] | None = None,
    date_order: DateOrder | str = DateOrder.AUTO,
    encoding: str | None = None,
    snap_distance_m: float | None = None,
    fix_swapped: bool = False,
    max_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    progress: Progress = _quiet,
) -> Analysis:
    """Validate each ``(filename, bytes)`` file, then join all accepted records at once.

    Each file keeps its own mapping and line numbers (a ``file`` column says where a
    record came from when there are several); the combined report sums the counts.
    """
    if not files:
        raise InputError("No incident file given: upload or name at least one CSV file.")
    date_order = DateOrder.parse(date_order)
    parts = []
    for name, data in files:
        progress(f"reading {name} ({len(data):,} bytes)")
        result = validate_bytes(
            data,
            filename=name,
            preset=preset,
            overrides=overrides,
            date_order=date_order,
            encoding=encoding,
            max_bytes=max_bytes,
        )
        progress(f"validated {result.report.records:,} records of {name}")
        parts.append(result)
    records, rejected, report, conflicts = _combine([n for n, _ in files], parts)

    progress(f"joining {len(records):,} records to {boundaries.name}")
    joined = join.join_points(records, boundaries.levels, snap_distance_m=snap_distance_m)
    swapped = _find_swapped(records, joined, boundaries)
    if swapped.any():
        records = _flag_swapped(records, swapped, report, fix=fix_swapped)
        if fix_swapped:
            joined = join.join_points(records, boundaries.levels, snap_distance_m=snap_distance_m)
    agreement, disagreements = join.compare_stated(records, joined, boundaries.levels)
    parameters = {
        "preset": report.preset,
        "mapping": report.mapping,
        "date_order": report.date_order or date_order.value,
        "encoding": report.encoding,
        "snap_distance_m": snap_distance_m,
        "fix_swapped": fix_swapped,
    }
    inputs = [
        {"name": n, "sha256": hashlib.sha256(d).hexdigest(), "bytes": len(d)} for n, d in files
    ]
    return Analysis(
        filename=", ".join(n for n, _ in files),
        input_sha256=(
            inputs[0]["sha256"]  # the same digest: no second pass over the bytes
            if len(files) == 1
            else hashlib.sha256(b"".join(d for _, d in files)).hexdigest()
        ),
        boundaries=boundaries,
        records=records,
        rejected=rejected,
        report=report,
        joined=joined,
        agreement=agreement,
        disagreements=disagreements,
        parameters=parameters,
        conflicts=conflicts,
        inputs=inputs,
    )


def _combine(
    names_: Sequence[str], parts: Sequence[Any]
) -> tuple[pd.DataFrame, pd.DataFrame, Report, pd.DataFrame]:
    """One records frame (each id once), one rejected frame, one report, the conflicts.

    Records repeating an id of an earlier file are counted once; when their content
    differs they are listed as conflicts so that nothing is dropped silently.
    """
    if len(parts) == 1:
        part = parts[0]
        return part.records, part.rejected, part.report, _NO_CONFLICTS
    report = Report()
    records, rejected = [], []
    for name, part in zip(names_, parts, strict=True):
        records.append((name, part.records.assign(file=name)))
        rejected.append(part.rejected.assign(file=name))
        r = part.report
        report.records += r.records
        report.accepted += r.accepted
        report.rejected += r.rejected
        report.warned += r.warned
        report.counts.update(r.counts)
        report.problems.extend(replace(p, file=name) for p in r.problems)
        report.notes.extend(f"{name}: {note}" for note in r.notes)
        report.mapping[name] = r.mapping
    report.preset = ", ".join(sorted({p.report.preset or "?" for p in parts}))
    report.encoding = ", ".join(sorted({p.report.encoding or "?" for p in parts}))
    report.date_order = ", ".join(sorted({p.report.date_order or "?" for p in parts}))
    report.delimiter = ", ".join(sorted({repr(p.report.delimiter) for p in parts}))
    combined = combine_records(records)
    merged = combined.summary["records_in"] - combined.summary["records_out"]
    if merged:
        report.notes.append(
            f"{merged:,} records repeat an id of an earlier file and were counted once: "
            f"{combined.summary['identical_duplicates']:,} identical, "
            f"{combined.summary['conflicts']:,} with different content (the earlier file's "
            "version was kept; see the conflicts table)."
        )
    report.mapping["__combined__"] = dict(combined.summary)
    records_out = combined.records.drop(columns=["dataset"]).reset_index(drop=True)
    conflicts = combined.conflicts.rename(columns={"dataset": "file", "kept_dataset": "kept_file"})
    return records_out, pd.concat(rejected, ignore_index=True), report, conflicts


def _find_swapped(
    records: pd.DataFrame, joined: pd.DataFrame, boundaries: BoundarySet
) -> pd.Series:
    """Records whose lat/lon look swapped (see :func:`crisismap.join.find_swapped`).

    Only records outside the countries the file is about can be swapped ones, and the
    join already says which those are: only they are tested again, swapped.
    """
    flagged = pd.Series(False, index=records.index, name="swapped")
    if records.empty:
        return flagged
    top = min(boundaries.levels)
    reference = _swap_reference(joined, boundaries)
    code = joined[f"adm{top}_code"]
    match = joined[f"adm{top}_match"].astype(str)
    # snapped and imprecise points were outside (or never located) as given
    candidate = ~code.isin(set(reference["code"])).to_numpy(dtype=bool) | match.isin(
        [MatchStatus.OUTSIDE.value, MatchStatus.SNAPPED.value, MatchStatus.IMPRECISE.value]
    ).to_numpy(dtype=bool)
    if candidate.any():
        tested = join.find_swapped(records[candidate], {top: reference})
        flagged[candidate] = tested.to_numpy(dtype=bool)
    return flagged


def _flag_swapped(
    records: pd.DataFrame, swapped: pd.Series, report: Report, *, fix: bool
) -> pd.DataFrame:
    """Warn about each swapped-looking record; swap it only when asked."""
    records = records.copy()
    newly_warned = swapped & (records["warnings"] == 0)
    report.warned += int(newly_warned.sum())
    records.loc[swapped, "warnings"] += 1
    kind = COORDS_SWAPPED_FIXED if fix else COORDS_SWAPPED
    for row in records.loc[swapped, ["id", "line", "lat", "lon"]].itertuples(index=False):
        report.add(
            kind.problem(
                line=int(row.line),
                column="latitude/longitude",
                value=f"{row.lat}, {row.lon}",
                record_id=str(row.id),
                lat=row.lat,
                lon=row.lon,
            )
        )
    if fix:
        lat = records.loc[swapped, "lat"].copy()
        records.loc[swapped, "lat"] = records.loc[swapped, "lon"]
        records.loc[swapped, "lon"] = lat
    return records


def _swap_reference(joined: pd.DataFrame, boundaries: BoundarySet) -> Any:
    """The top level, cut to the countries that hold the data (>= 2 % of records each).

    Against a world boundary set a swapped point rarely falls outside every region
    (13°N 30°E swapped lands in Libya); it falls outside the countries the file is
    about, and inside one of them once swapped. Shares count points as given (a
    snapped point was outside).
    """
    top = min(boundaries.levels)
    frame = boundaries.levels[top]
    if "country" not in frame or frame["country"].nunique() <= 1:
        return frame
    as_given = joined[f"adm{top}_match"].astype(str) != MatchStatus.SNAPPED.value
    codes = joined[f"adm{top}_code"].where(as_given.to_numpy(dtype=bool))
    share = codes.value_counts(normalize=True)
    main = frame.loc[frame["code"].isin(share[share >= MAIN_COUNTRY_SHARE].index), "country"]
    if main.empty:
        return frame
    return frame[frame["country"].isin(set(main))]


def main_countries(analysis: Analysis) -> set[str]:
    """Countries holding at least ``MAIN_COUNTRY_SHARE`` of the accepted records."""
    levels = analysis.boundaries.levels
    top = min(levels)
    if "country" not in levels[top]:
        return set()
    share = analysis.joined[f"adm{top}_code"].value_counts(normalize=True)
    codes = set(share[share >= MAIN_COUNTRY_SHARE].index)
    return set(levels[top].loc[levels[top]["code"].isin(codes), "country"].dropna())


def summary_levels(analysis: Analysis) -> dict[int, Any]:
    """Boundary levels restricted to the countries that hold records, for zero-filled grids.

    Without this a world boundary set would list every region of every country
    with zeros; a one-country set is returned unchanged.
    """
    levels = analysis.boundaries.levels
    top = min(levels)
    code_col = f"adm{top}_code"
    if code_col not in analysis.joined or "country" not in levels[top]:
        return levels
    present_codes = set(analysis.joined[code_col].dropna().unique())
    countries = set(levels[top].loc[levels[top]["code"].isin(present_codes), "country"].dropna())
    if not countries or len(countries) == levels[top]["country"].nunique():
        return levels
    return {n: frame[frame["country"].isin(countries)] for n, frame in levels.items()}


def summarize(
    analysis: Analysis,
    *,
    level: int,
    period: Period | str = Period.MONTH,
    by_category: bool = True,
    start: Any = None,
    end: Any = None,
    categories: Sequence[str] | None = None,
    regions: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Region × period (× category) figures for one view of an analysis."""
    require_level(analysis, level)
    return aggregate.summarize(
        analysis.records,
        analysis.joined,
        summary_levels(analysis),
        level=level,
        period=Period.parse(period),
        by_category=by_category,
        start=start,
        end=end,
        categories=categories,
        regions=regions,
    )


def require_level(analysis: Analysis, level: int) -> None:
    """Refuse a level the analysis's boundary set lacks, naming the ones it has."""
    if level not in analysis.boundaries.levels:
        available = ", ".join(str(n) for n in analysis.levels)
        raise ValueError(
            f"Admin level {level} is not in boundary set {analysis.boundaries.name!r}: "
            f"available levels are {available}."
        )


def join_table(analysis: Analysis) -> pd.DataFrame:
    """One row per accepted record: id, line, and admN_code/name/match per level."""
    columns = ["id", "line"]
    for n in analysis.levels:
        columns += [f"adm{n}_code", f"adm{n}_name", f"adm{n}_match"]
    frame = pd.concat([analysis.records[["id", "line"]], analysis.joined], axis=1)
    return frame[columns]


def totals(analysis: Analysis, level: int) -> dict[str, int]:
    """Record counts per bucket at ``level``: attributed regions, outside, not attributable."""
    match = analysis.joined[f"adm{level}_match"]
    outside = int((match == MatchStatus.OUTSIDE.value).sum())
    imprecise = int((match == MatchStatus.IMPRECISE.value).sum())
    return {
        "accepted": len(analysis.records),
        "in_regions": len(match) - outside - imprecise,
        OUTSIDE_CODE: outside,
        IMPRECISE_CODE: imprecise,
    }


def manifest(
    analysis: Analysis,
    *,
    view: Mapping[str, Any],
    outputs: Mapping[str, bytes] | None = None,
) -> bytes:
    """Provenance manifest (JSON bytes) for exports of one view of ``analysis``."""
    report = analysis.report
    bset = analysis.boundaries
    return manifest_bytes(
        inputs=list(analysis.inputs)
        + ([{"name": f"boundaries:{bset.name}", "sha256": bset.sha256}] if bset.sha256 else []),
        outputs=outputs,
        counts={
            "records": report.records,
            "accepted": report.accepted,
            "rejected": report.rejected,
            "warned": report.warned,
            **({"level_totals": totals(analysis, int(view["level"]))} if "level" in view else {}),
        },
        boundaries={"name": bset.name, "source": bset.source, "version": bset.version},
        parameters={
            "sensitivity": "SENSITIVE: internal figures, no small-cell suppression; "
            "not for publication",
            **analysis.parameters,
            **dict(view),
        },
    )


def region_figures(
    analysis: Analysis,
    *,
    level: int,
    start: Any = None,
    end: Any = None,
    categories: Sequence[str] | None = None,
    regions: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per-region totals over a view (each record once), indexed by region code.

    Every region of the level is present (zeros included); outside / not-attributable
    buckets are left out (they have no geometry).
    """
    require_level(analysis, level)
    table = aggregate.region_totals(
        analysis.records,
        analysis.joined,
        summary_levels(analysis),
        level=level,
        start=start,
        end=end,
        categories=categories,
        regions=regions,
    )
    table = table[~table["region_code"].isin([OUTSIDE_CODE, IMPRECISE_CODE])]
    return table.set_index("region_code")[["incidents", "victims", "victims_known"]]


def export_summary(
    analysis: Analysis, summary: pd.DataFrame, *, fmt: str, level: int, **view: Any
) -> bytes:
    """The regional summary of one view as ``csv``, ``xlsx`` or ``geojson`` bytes.

    CSV and XLSX hold ``summary`` as shown; GeoJSON holds every region of the level
    with its totals over the same view (``view`` = the filters used for ``summary``).
    """
    fmt = fmt.lower().lstrip(".")
    if fmt == "csv":
        return to_csv_bytes(summary)
    if fmt == "xlsx":
        return to_xlsx_bytes({"Summary": summary, "Rejected records": analysis.rejected})
    if fmt == "geojson":
        view = {k: v for k, v in view.items() if k in ("start", "end", "categories", "regions")}
        figures = region_figures(analysis, level=level, **view)
        return regions_geojson_bytes(summary_levels(analysis)[level], figures)
    raise ValueError(f"Unknown export format {fmt!r}: expected csv, xlsx or geojson.")
