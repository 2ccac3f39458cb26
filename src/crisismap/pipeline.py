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
from functools import cached_property, partial
from typing import Any

import pandas as pd

from crisismap import aggregate, join
from crisismap.bilingual import Bilingual
from crisismap.bilingual import detect as detect_bilingual
from crisismap.bilingual import display as bilingual_display
from crisismap.boundaries import BoundarySet
from crisismap.display import simplify_for_display
from crisismap.errors import InputError
from crisismap.export import (
    cells_geojson_bytes,
    hxl_tags,
    manifest_bytes,
    to_csv_bytes,
    to_xlsx_bytes,
    with_hxl_row,
)
from crisismap.i18n import _, language, ngettext
from crisismap.problems import BOUNDARY_NAMES_UNKNOWN, Report
from crisismap.records import (
    RangeCounts,
    Rejections,
    combine_records,
    pin_date_ranges,
    range_counts,
    validate_bytes,
)
from crisismap.schema import (
    IMPRECISE_CODE,
    NAME_PREFIX,
    OUTSIDE_CODE,
    DateOrder,
    DateRange,
    MatchStatus,
    VictimsMeasure,
    View,
    name_column,
    region_names,
    with_region_names,
)
from crisismap.schema import (
    victims_measure as _victims_measure,
)

DEFAULT_MAX_UPLOAD_BYTES = 200 * 1024 * 1024
MAIN_COUNTRY_SHARE = 0.02  # countries holding at least this share of records anchor swap checks

Progress = Callable[[str], None]
Source = bytes | Callable[[], bytes]
"""A file's bytes, or a function reading them, called when the file's turn comes: its
bytes are then let go once its records are read (a 5M-incident file is 635 MB, held for
nothing while the records are checked and joined)."""
# Records of several files sharing an id but not their content (see store.combine_records).
_NO_CONFLICTS = pd.DataFrame(columns=["id", "file", "kept_file", "line", "fields", "values"])


DATE_RANGES = "date-ranges"  # memo key: the records' multi-day ranges as read (RangeCounts)


def _quiet(_: str) -> None:
    return None


@dataclass
class Analysis:
    """Everything one upload yields against one boundary set; input to every view."""

    filename: str
    input_sha256: str
    boundaries: BoundarySet
    records: pd.DataFrame
    # the rejected records, columnar (one per file, with its name, when there are several);
    # ``rejected`` is their table, built on first read: rendered, the reasons of a file
    # whose every record is rejected take about three times the file's size
    rejections: Rejections | list[tuple[str, Rejections]]
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

    @cached_property
    def rejected(self) -> pd.DataFrame:
        """One row per rejected record: line, the file's fields, raw text, reasons (and
        ``file`` when several files were read)."""
        if not isinstance(self.rejections, list):
            return self.rejections.frame()
        frames = [part.frame().assign(file=name) for name, part in self.rejections]
        return pd.concat(frames, ignore_index=True)

    def memo(self, key: Any, make: Callable[[], Any]) -> Any:
        """``make()`` remembered on this analysis (so per user session, never across users)."""
        memo = self.__dict__.setdefault("_memo", {})
        if key not in memo:
            memo[key] = make()
        return memo[key]


def analyse(
    data: Source,
    boundaries: BoundarySet,
    *,
    filename: str = "incidents.csv",
    **options: Any,
) -> Analysis:
    """Validate ``data`` (CSV bytes, or a function reading them: see :data:`Source`) and
    join its accepted records to ``boundaries``.

    Every input record ends in ``records`` (accepted, possibly with warnings) or in
    ``rejected`` with its reasons; ``report.accepted + report.rejected == report.records``.
    Options: ``preset``, ``overrides``, ``date_order``, ``encoding``, ``category_separator``,
    ``date_range`` (see :class:`crisismap.schema.DateRange`),
    ``snap_distance_m`` (None: the boundary set's default, see :func:`snap_distance`; 0: no
    snapping), ``fix_swapped``, ``max_bytes``, ``progress`` (see :func:`analyse_files`).
    """
    return analyse_files([(filename, data)], boundaries, **options)


def snap_distance(boundaries: BoundarySet, asked: float | None) -> float | None:
    """The snap distance a join uses: the one asked for (0: none), else the boundary set's
    default (its own generalisation distance for the bundled set, none for a user's file)."""
    distance = boundaries.snap_default_m if asked is None else asked
    return float(distance) if distance else None


def check_flag_filters(analysis: Analysis, view: View) -> None:
    """Refuse an approval filter the records cannot answer (it would count everything)."""
    for wanted, name in ((view.approved_only, "approved"), (view.verified_only, "verified")):
        if wanted and name not in analysis.records.columns:
            raise InputError(
                _(
                    "Counting only {name} records needs a column saying whether each "
                    "record is {name} (such as Ushahidi's {upper} column; map one with "
                    "--map {name}=COLUMN) and the file has none: leave the filter out "
                    "or map the column."
                ).format(name=name, upper=name.upper())
            )


def analyse_files(
    files: Sequence[tuple[str, Source]],
    boundaries: BoundarySet,
    *,
    preset: str | None = None,
    overrides: Mapping[str, str] | None = None,
    date_order: DateOrder | str = DateOrder.AUTO,
    encoding: str | None = None,
    snap_distance_m: float | None = None,
    fix_swapped: bool = False,
    max_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    category_separator: str | None = None,
    date_range: DateRange | str = DateRange.NEVER,
    progress: Progress = _quiet,
) -> Analysis:
    """Validate each ``(filename, bytes)`` file, then join all accepted records at once.

    Each file keeps its own mapping and line numbers (a ``file`` column says where a
    record came from when there are several); the combined report sums the counts. A
    file given as a function (see :data:`Source`) is read when its turn comes, and its
    bytes are not kept.
    """
    if not files:
        raise InputError(_("No incident file given: upload or name at least one CSV file."))
    date_order = DateOrder.parse(date_order)
    parts: list[Any] = []
    inputs: list[dict[str, Any]] = []
    whole = hashlib.sha256()  # of every file's bytes in turn, when there are several

    def opened(name: str, source: Source) -> bytes:
        """The file's bytes, counted and digested as they are read."""
        data = source() if callable(source) else source
        progress(_("reading {name} ({n:,} bytes)").format(name=name, n=len(data)))
        digest = hashlib.sha256(data).hexdigest()
        inputs.append({"name": name, "sha256": digest, "bytes": len(data)})
        if len(files) > 1:
            whole.update(data)
        return data

    for name, source in files:
        result = validate_bytes(
            partial(opened, name, source),  # read by the reader, let go once read
            filename=name,
            preset=preset,
            overrides=overrides,
            date_order=date_order,
            encoding=encoding,
            max_bytes=max_bytes,
            category_separator=category_separator,
        )
        progress(_("validated {n:,} records of {name}").format(n=result.report.records, name=name))
        parts.append(result)
    records, rejected, report, conflicts = _combine([n for n, _ in files], parts)
    date_range = DateRange.parse(date_range)
    spans = range_counts(records)
    records = pin_date_ranges(records, date_range)
    if spans.records:
        report.notes.append(_range_note(spans, date_range))

    snap_asked = snap_distance_m
    snap_distance_m = snap_distance(boundaries, snap_distance_m)
    progress(
        _("joining {n:,} records to {boundaries}").format(
            n=len(records), boundaries=boundaries.name
        )
    )
    joined = join.join_points(records, boundaries.levels, snap_distance_m=snap_distance_m)
    records, joined = join.check_swapped(
        records,
        joined,
        boundaries.levels,
        report,
        main_share=MAIN_COUNTRY_SHARE,
        fix=fix_swapped,
        snap_distance_m=snap_distance_m,
    )
    agreement, disagreements = join.compare_stated(records, joined, boundaries.levels)
    _flag_unknown_names(records, boundaries, report)
    parameters = {
        "preset": report.preset,
        "mapping": report.mapping,
        "date_order": report.date_order or date_order.value,
        "encoding": report.encoding,
        "category_separator": report.category_separator,
        "date_range": date_range.value,
        "snap_distance_m": snap_distance_m,
        "snap_default": snap_asked is None,
        "fix_swapped": fix_swapped,
    }
    analysis = Analysis(
        filename=", ".join(n for n, _ in files),
        input_sha256=inputs[0]["sha256"] if len(files) == 1 else whole.hexdigest(),
        boundaries=boundaries,
        records=records,
        rejections=rejected,
        report=report,
        joined=joined,
        agreement=agreement,
        disagreements=disagreements,
        parameters=parameters,
        conflicts=conflicts,
        inputs=inputs,
    )
    analysis.memo(DATE_RANGES, lambda: spans)  # as read, before any pinning
    return analysis


def _range_note(spans: RangeCounts, choice: DateRange) -> str:
    """What was done with records whose dates span several days."""
    said = ngettext(
        "{n} record ({victims:,} victims) has dates spanning several days",
        "{n} records ({victims:,} victims) have dates spanning several days",
        spans.records,
    ).format(n=spans.records, victims=spans.victims)
    if choice == DateRange.START:
        return _("{said}: each is counted on its start date, as chosen.").format(said=said)
    if choice == DateRange.END:
        return _("{said}: each is counted on its end date, as chosen.").format(said=said)
    return _(
        "{said}: each is counted in a period only when its whole range lies in it, else as "
        "'date not attributable' (never spread or guessed); choose start or end date to "
        "count them on one day."
    ).format(said=said)


def _flag_unknown_names(records: pd.DataFrame, boundaries: BoundarySet, report: Report) -> None:
    """A file-level warning for each level where over 10 % of stated names are unknown."""
    for found in join.unknown_stated_names(records, boundaries.levels):
        if not found.too_many:
            continue
        shown = found.names[: join.NAMES_SHOWN]
        names = ", ".join(f"{name!r} ({n:,})" for name, n in shown)
        if len(found.names) > len(shown):
            more = len(found.names) - len(shown)
            names = ngettext("{shown} and {n:,} more", "{shown} and {n:,} more", more).format(
                shown=names, n=more
            )
        report.add(
            BOUNDARY_NAMES_UNKNOWN.problem(
                column=_("admin-{level} names").format(level=found.level),
                value=", ".join(name for name, _ in shown),
                unknown=f"{found.unknown:,}",
                stated=f"{found.stated:,}",
                share=found.share,
                level=found.level,
                boundaries=boundaries.name,
                dated=_("dated {date}").format(date=boundaries.date),
                names=names,
            )
        )


def _combine(
    names_: Sequence[str], parts: Sequence[Any]
) -> tuple[pd.DataFrame, Rejections | list[tuple[str, Rejections]], Report, pd.DataFrame]:
    """One records frame (each id once), the rejections, one report, the conflicts.

    Records repeating an id of an earlier file are counted once; when their content
    differs they are listed as conflicts so that nothing is dropped silently.
    """
    if len(parts) == 1:
        part = parts[0]
        return part.records, part.rejections, part.report, _NO_CONFLICTS
    report = Report()
    records, rejected = [], []
    for name, part in zip(names_, parts, strict=True):
        records.append((name, part.records.assign(file=name)))
        rejected.append((name, part.rejections))
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
    report.category_separator = ", ".join(
        sorted({p.report.category_separator or "?" for p in parts})
    )
    combined = combine_records(records)
    merged = combined.summary["records_in"] - combined.summary["records_out"]
    if merged:
        report.notes.append(
            ngettext(
                "{merged:,} record repeats an id of an earlier file and was counted once: "
                "{identical:,} identical, {conflicting:,} with different content (the earlier "
                "file's version was kept; see the conflicts table).",
                "{merged:,} records repeat an id of an earlier file and were counted once: "
                "{identical:,} identical, {conflicting:,} with different content (the earlier "
                "file's version was kept; see the conflicts table).",
                merged,
            ).format(
                merged=merged,
                identical=combined.summary["identical_duplicates"],
                conflicting=combined.summary["conflicts"],
            )
        )
    report.mapping["__combined__"] = dict(combined.summary)
    records_out = combined.records.drop(columns=["dataset"]).reset_index(drop=True)
    conflicts = combined.conflicts.rename(columns={"dataset": "file", "kept_dataset": "kept_file"})
    return records_out, rejected, report, conflicts


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
    top = min(analysis.boundaries.levels)
    code_col = f"adm{top}_code"
    if code_col not in analysis.joined:
        return analysis.boundaries.levels
    return levels_holding(analysis.boundaries, analysis.joined[code_col].dropna().unique())


def levels_holding(boundaries: BoundarySet, top_codes: Any) -> dict[int, Any]:
    """The levels of ``boundaries`` cut to the countries of ``top_codes`` (top-level codes).

    Both engines restrict their zero-filled grids with this: the local one from its
    joined records, the distributed one from its partial counts.
    """
    levels = boundaries.levels
    top = min(levels)
    if "country" not in levels[top]:
        return levels
    present_codes = set(top_codes)
    countries = set(levels[top].loc[levels[top]["code"].isin(present_codes), "country"].dropna())
    if not countries or len(countries) == levels[top]["country"].nunique():
        return levels
    return {n: frame[frame["country"].isin(countries)] for n, frame in levels.items()}


def summarize(analysis: Analysis, view: View, *, by_category: bool = True) -> pd.DataFrame:
    """Region × period (× category) figures for one view of an analysis."""
    aggregate.level_frame(analysis.boundaries, view.level)
    return aggregate.summarize(
        analysis.records, analysis.joined, summary_levels(analysis), view, by_category=by_category
    )


def join_table(analysis: Analysis) -> pd.DataFrame:
    """One row per accepted record: id, line, and admN_code/name/match per level."""
    columns = ["id", "line"]
    for n in analysis.levels:
        columns += [f"adm{n}_code", f"adm{n}_name", f"adm{n}_match"]
    frame = pd.concat([analysis.records[["id", "line"]], analysis.joined], axis=1)
    return frame[columns]


def victims_measure(analysis: Analysis) -> VictimsMeasure:
    """What the victims figures of this analysis count (fatalities, deaths, victims…)."""
    column = (analysis.report.mapping or {}).get("victims")
    return _victims_measure(column if isinstance(column, str) else None, analysis.report.preset)


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


def region_figures(analysis: Analysis, view: View) -> pd.DataFrame:
    """Per-region totals over a view (each record once), indexed by region code.

    Every region of the level is present (zeros included); outside / not-attributable
    buckets are left out (they have no geometry).
    """
    aggregate.level_frame(analysis.boundaries, view.level)
    table = aggregate.region_totals(
        analysis.records, analysis.joined, summary_levels(analysis), view
    )
    table = table[~table["region_code"].isin([OUTSIDE_CODE, IMPRECISE_CODE])]
    return table.set_index("region_code")[["incidents", "victims", "victims_known"]]


@dataclass
class SummaryResult:
    """One view's regional summary and what its exports need, whichever engine made it.

    The local engine (:func:`summary_result`) and the dask engine
    (:func:`crisismap.distributed.summarize_input`) both return this, so the CLI writes
    both the same way. ``figures`` (per-region totals, for GeoJSON) is computed on
    first use.
    """

    view: View
    summary: pd.DataFrame
    totals: dict[str, int]  # records per bucket at the view's level (see :func:`totals`)
    regions: Any  # the view level's regions (GeoDataFrame), cut as the summary's grid
    boundaries: BoundarySet
    rejected: pd.DataFrame
    report: Report | None = None  # None when the input was already-validated partitions
    inputs: list[dict[str, Any]] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    make_figures: Callable[[], pd.DataFrame] | None = field(default=None, repr=False)

    @cached_property
    def figures(self) -> pd.DataFrame:
        """Per region (every region of the level): incidents, victims, victims_known."""
        if self.make_figures is None:
            raise ValueError("This summary was built without per-region figures.")
        return self.make_figures()

    def export(self, fmt: str, *, hxl: bool = False) -> bytes:
        """The internal summary as ``csv``, ``xlsx`` or ``geojson`` bytes.

        CSV and XLSX hold the summary as computed, unprotected: XLSX opens on an "About"
        sheet saying SENSITIVE, GeoJSON (one feature per region × period (× category)
        cell with incidents, see :func:`crisismap.export.cells_geojson_bytes`) carries
        ``sensitivity`` and ``notice`` members; CSV stays a plain table (its
        ``SENSITIVE_`` name and manifest say it). ``hxl`` adds the HXL hashtag row under
        the CSV's header and the Summary sheet's. No rejected record is in them: raw
        rejected values go only to the file asked for (``--rejected``).
        """
        from crisismap.publish import SENSITIVE, SENSITIVE_NOTICE

        fmt = fmt.lower().lstrip(".")
        level, period = self.view.level, self.view.period.value
        summary = with_countries(self.summary, region_countries(self.regions, level))
        tags = hxl_tags(list(summary.columns), level=level, period=period)
        if fmt == "csv":
            data = to_csv_bytes(summary, localized=True)
            return with_hxl_row(data, tags) if hxl else data
        if fmt == "xlsx":
            about = pd.DataFrame({_("About this file"): [_(SENSITIVE_NOTICE)]})
            sheets = {"About": about, "Summary": summary}
            return to_xlsx_bytes(sheets, hxl={"Summary": tags} if hxl else None)
        if fmt == "geojson":
            members = {"sensitivity": SENSITIVE, "notice": _(SENSITIVE_NOTICE)}
            return cells_geojson_bytes(self.regions, self.summary, level=level, members=members)
        raise ValueError(f"Unknown export format {fmt!r}: expected csv, xlsx or geojson.")

    def manifest(self, outputs: Mapping[str, bytes] | None = None) -> bytes:
        """Provenance manifest (JSON bytes): inputs, outputs, counts, every parameter."""
        counts: dict[str, Any] = {}
        if self.report is not None:
            counts = {
                "records": self.report.records,
                "accepted": self.report.accepted,
                "rejected": self.report.rejected,
                "warned": self.report.warned,
            }
        bset = self.boundaries
        return manifest_bytes(
            inputs=list(self.inputs)
            + ([{"name": f"boundaries:{bset.name}", "sha256": bset.sha256}] if bset.sha256 else []),
            outputs=outputs,
            counts={**counts, "level_totals": self.totals},
            boundaries={
                "name": bset.name,
                "source": bset.source,
                "version": bset.version,
                "codes": boundary_codes(bset),
                "date": bset.date,
            },
            parameters={
                "sensitivity": "SENSITIVE: internal figures, no small-cell suppression; "
                "not for publication",
                **self.parameters,
                **self.view.to_dict(),
            },
        )


def region_countries(regions: Any, level: int) -> pd.Series | None:
    """Each region code's country (ISO 3166-1 alpha-3) when ``regions`` (one level's frame)
    spans several countries, else None: tables of several countries carry the country, so
    "Punjab IN-PB" and "Punjab PK-PB" are told apart at a glance."""
    if level == 0 or "country" not in regions or regions["country"].nunique() < 2:
        return None
    return pd.Series(regions["country"].to_numpy(), index=regions["code"].to_numpy())


def with_countries(table: pd.DataFrame, countries: pd.Series | None) -> pd.DataFrame:
    """``table`` with a ``country`` column after ``region_name`` (when ``countries`` is set)."""
    if countries is None or "region_code" not in table or "country" in table:
        return table
    at = table.columns.get_loc("region_name") + 1 if "region_name" in table else 1
    table = table.copy()
    table.insert(at, "country", table["region_code"].map(countries))
    return table


def boundary_codes(bset: BoundarySet) -> dict[str, dict[str, int]]:
    """Per level, how many regions carry which kind of code (P-code, ISO 3166-2, ...)."""
    from crisismap.boundaries import code_kinds

    return {f"admin-{n}": code_kinds(frame) for n, frame in sorted(bset.levels.items())}


def summary_result(analysis: Analysis, view: View, *, by_category: bool = True) -> SummaryResult:
    """The local engine's :class:`SummaryResult` for one view of an analysis."""
    return SummaryResult(
        view=view,
        summary=summarize(analysis, view, by_category=by_category),
        totals=totals(analysis, view.level),
        regions=summary_levels(analysis)[view.level],
        boundaries=analysis.boundaries,
        rejected=analysis.rejected,
        report=analysis.report,
        inputs=list(analysis.inputs),
        parameters={**analysis.parameters, "by_category": by_category},
        make_figures=lambda: region_figures(analysis, view),
    )


def bilingual_categories(analysis: Analysis) -> Bilingual | None:
    """The shape of the analysis's category labels when each is one category in two
    languages (declared with :func:`crisismap.bilingual.showing`, else detected), for a
    choice of the language they are shown in; None when they are not bilingual."""
    declared = bilingual_display().declared
    if declared is not None:
        return declared
    return analysis.memo(
        "bilingual_categories",
        lambda: detect_bilingual(aggregate.category_labels(analysis.records)),
    )


def joined_in_language(analysis: Analysis, lang: str | None = None) -> pd.DataFrame:
    """The joined records with each level's region names in ``lang`` (the current language
    by default) where the boundary set has them; codes unchanged (the records export)."""
    joined, out = analysis.joined, None
    column = name_column(lang or language())
    for level, frame in analysis.boundaries.levels.items():
        name, code = f"adm{level}_name", f"adm{level}_code"
        if column not in frame or name not in joined or code not in joined:
            continue
        names = dict(zip(frame["code"], region_names(frame, lang), strict=True))
        shown = joined[code].map(names)
        out = joined.copy() if out is None else out
        out[name] = shown.where(shown.notna(), joined[name])
    return joined if out is None else out


def display_regions(analysis: Analysis, level: int) -> Any:
    """Display geometry for ``level``: simplified for the browser and the PDF, never the join.

    Coverage simplification keeps shared borders shared (no slivers between
    neighbours). Remembered on the analysis; the simplified geometry itself is cached
    by the boundaries' geometry (see :func:`crisismap.display.simplify_for_display`).
    """

    def make() -> Any:
        frame = analysis.memo("summary_levels", lambda: summary_levels(analysis))[level]
        keep = ("code", "name", "country", "population", "population_source", "geometry")
        frame = frame[[c for c in frame if c in keep or str(c).startswith(NAME_PREFIX)]]
        return simplify_for_display(frame)

    def named() -> Any:  # the region names in the language asked for: one frame each
        return with_region_names(analysis.memo(("display", level), make))

    return analysis.memo(("display", level, language()), named)
