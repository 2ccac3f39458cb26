"""The figures of one view, computed once and protected once, and how they are printed.

:func:`view_figures` computes the view through :func:`crisismap.pipeline.summarize` and
protects it with :func:`crisismap.publish.suppress`; every file of a bundle is written
from the one :class:`Figures` it returns, so the PDF, the tables and the GeoJSON cannot
disagree. Region, period and category totals are sums of the cells (an incident with two
categories counts in each), so a reader can check every sum. :func:`view_points` gives
the view's records as points, masked when public.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crisismap import aggregate, pipeline, publish, releases
from crisismap.i18n import N_, _, format_date, format_number, language
from crisismap.pipeline import Analysis
from crisismap.schema import (
    CATEGORY_SEPARATOR,
    IMPRECISE_CODE,
    IMPRECISE_PERIOD,
    OUTSIDE_CODE,
    Period,
    View,
)

MARK = "x"  # a suppressed figure in the PDF (as statistical offices print it)
SPECIAL_NAMES = {
    OUTSIDE_CODE: N_("Outside all regions"),
    IMPRECISE_CODE: N_("Not attributable at this level"),
    IMPRECISE_PERIOD: N_("Date not precise enough"),
    aggregate.NO_CATEGORY: N_("(no category)"),
}
PERIOD_NAMES = {  # the period unit as the brief names it ("by month", "periods (month)")
    Period.DAY: N_("day"),
    Period.ISO_WEEK: N_("ISO week"),
    Period.ACLED_WEEK: N_("ACLED week (Saturday to Friday)"),
    Period.MONTH: N_("month"),
    Period.QUARTER: N_("quarter"),
    Period.YEAR: N_("year"),
}
NO_DATES = "(no dates)"
PRECISION_ROWS = {  # the data-quality line for records dated less precisely than a day
    "month": N_("Accepted records dated to the month only"),
    "year": N_("Accepted records dated to the year only"),
}


@dataclass
class Figures:
    """Every figure one bundle publishes, already protected when ``public``."""

    public: bool
    level: int
    period: Period
    view: dict[str, Any]  # the filters, JSON-ready
    cells: pd.DataFrame  # region × period × category
    regions: pd.DataFrame  # per region (every region of the level, zeros included)
    series: pd.DataFrame  # per period × category
    periods: pd.DataFrame  # per period
    totals: pd.DataFrame  # per category, then the grand total ("all categories")
    quality: pd.DataFrame  # item, value: records read/rejected, precision caveats
    problems: pd.DataFrame  # problem, severity, records
    suppression: dict[str, Any]
    first: str  # first day covered
    last: str  # last day covered

    @property
    def grand_total(self) -> pd.Series:
        return self.totals.iloc[-1]


def view_figures(
    analysis: Analysis,
    view: View,
    *,
    public: bool = True,
    k: int = publish.DEFAULT_K,
    ledger: releases.Ledger | None = None,
) -> Figures:
    """The protected figures of one view (the same filters as the dashboard's view).

    Public: every figure is read from the dataset's protected publication grid
    (:mod:`crisismap.releases`), so any number of public exports of the same data stay
    consistent (kept in ``ledger`` across processes); only allow-listed columns are kept.
    Internal: the same tables, nothing suppressed.
    """
    level, unit, start, end = view.level, view.period, view.start, view.end
    filters = view.filters()
    if public:
        releases.check_public(view, k)
    summary = pipeline.summarize(analysis, view)
    if public:
        protected = _from_grid(releases.public_tables(analysis, view, summary, k=k, ledger=ledger))
    else:
        protected = publish.suppress(summary, k=1)
    cells = protected.cells
    if public:
        cells = publish.allow_columns(cells, publish.PUBLIC_SUMMARY_COLUMNS)
    totals = pd.concat(
        [
            protected.margin("category"),
            protected.margin().assign(category="all categories"),
        ],
        ignore_index=True,
    )
    periods_ = protected.margin("period")
    real = periods_[periods_["period"] != IMPRECISE_PERIOD]
    first = _day(start) if start is not None else _day(real["period_start"].min())
    last = _day(end) if end is not None else _day(real["period_end"].max())
    first, last = first or last or NO_DATES, last or first or NO_DATES
    return Figures(
        public=public,
        level=level,
        period=unit,
        view={k_: v for k_, v in view.to_dict().items() if k_ in filters},
        cells=cells.reset_index(drop=True),
        regions=protected.margin("region_code"),
        series=protected.margin("period", "category"),
        periods=periods_,
        totals=totals,
        quality=_quality(analysis, protected, summary),
        problems=_problems(analysis),
        suppression=protected.settings,
        first=first,
        last=last,
    )


def _from_grid(tables: releases.PublicTables) -> publish.Protected:
    """The grid's tables in the shape of :class:`crisismap.publish.Protected`."""
    totals = tables.totals
    margins = {
        ("region_code",): tables.regions,
        ("period", "category"): tables.series,
        ("period",): tables.periods,
        ("category",): totals.iloc[:-1].reset_index(drop=True),
        (): totals.iloc[-1:].drop(columns=["category"]).reset_index(drop=True),
    }
    return publish.Protected(tables.cells, margins, tables.settings)


def _day(value: Any) -> str:
    stamp = pd.Timestamp(value)
    return "" if pd.isna(stamp) else stamp.date().isoformat()


def _quality(
    analysis: Analysis, protected: publish.Protected, summary: pd.DataFrame
) -> pd.DataFrame:
    """Data-quality facts; counts tied to the view come from the protected totals."""
    report = analysis.report
    rows: list[tuple[str, Any]] = [
        (_("Records read"), report.records),
        (_("Records accepted"), report.accepted),
        (_("Accepted with warnings"), report.warned),
        (_("Records rejected"), report.rejected),
    ]
    by_region = protected.margin("region_code").set_index("region_code")
    for code, label in [
        (OUTSIDE_CODE, _("Incidents outside every region (in this view)")),
        (IMPRECISE_CODE, _("Incidents located too coarsely for this level (in this view)")),
    ]:
        if code in by_region.index:
            rows.append((label, _published(by_region.loc[code])))
    by_period = protected.margin("period").set_index("period")
    if IMPRECISE_PERIOD in by_period.index:
        rows.append(
            (
                _("Incidents dated too coarsely for the period unit (in this view)"),
                _published(by_period.loc[IMPRECISE_PERIOD]),
            )
        )
    straddling = int(summary.attrs.get("partly_in_range", 0) or 0)
    if straddling:
        rows.append((_("Records left out: their dates straddle the start or end"), straddling))
    records = analysis.records
    if "victims" in records and len(records):
        rows.append(
            (
                _("Accepted records that state no victim figure"),
                int(records["victims"].isna().sum()),
            )
        )
    if "date_precision" in records and len(records):
        for precision, n in records["date_precision"].value_counts().sort_index().items():
            if str(precision) != "day":
                line = PRECISION_ROWS.get(str(precision))
                text = _(line) if line else f"Accepted records dated to the {precision} only"
                rows.append((text, int(n)))
    frame = pd.DataFrame(rows, columns=["item", "value"])
    frame["value"] = frame["value"].astype("Int64")
    frame[publish.SUPPRESSED] = frame["value"].isna()
    return frame


def _published(row: pd.Series) -> Any:
    return None if row["suppressed"] else int(row["incidents"])


def _problems(analysis: Analysis) -> pd.DataFrame:
    rows = [
        {"problem": code, "severity": sev, "records": n}
        for (code, sev), n in analysis.report.counts.items()
    ]
    frame = pd.DataFrame(rows, columns=["problem", "severity", "records"])
    return frame.sort_values(["severity", "records", "problem"], ascending=[True, False, True])


# ----------------------------------------------------------------------------- points


def view_points(
    analysis: Analysis,
    view: View,
    *,
    masking: publish.Masking | None,
    secret: bytes | None,
    public: bool = True,
    figures: Figures | None = None,
    k: int = publish.DEFAULT_K,
) -> pd.DataFrame:
    """The view's records as points: masked, allow-listed and cut to published cells when
    ``public``.

    Public points say no more than the published tables: a record is a point only in
    the cells (region at the view's level, period, category) that ``figures`` publishes
    (computed with ``k`` when not given), with only those cells' categories (see
    :func:`crisismap.publish.published_pairs`), so counting points per cell gives each
    published figure and 0 in every suppressed one. Points carry the view's period
    instead of dates and no region code or name finer than the view's level (the level
    displacement keeps them in). ``attrs["left_out"]`` counts the records left out
    (every cell of theirs suppressed); ``attrs["generated_ids"]`` the points keyed on
    generated ids.
    """
    if public and masking is None:
        raise ValueError("A public point export needs location masking (round or displace).")
    levels = pipeline.summary_levels(analysis)
    level = view.level
    if public:
        figures = figures if figures is not None else view_figures(analysis, view, k=k)
        pairs = aggregate.record_cells(analysis.records, analysis.joined, levels, view)
        published = publish.published_pairs(pairs, figures.cells)
        rows = np.unique(pairs["row"].to_numpy()[published])
        left_out = np.setdiff1d(pairs["row"].to_numpy(), rows)
        pairs = pairs[published]
    else:
        rows = aggregate.select_rows(
            analysis.records, analysis.joined, levels, level=level, **view.filters()
        )
        left_out = np.zeros(0, np.int64)
    frame = pd.concat([analysis.records, analysis.joined], axis=1)
    frame = frame.reset_index(drop=True).iloc[rows]  # index = record position, as in pairs
    generated = int(frame["id"].astype("str").str.startswith("gen-").sum()) if "id" in frame else 0
    if masking is not None:
        frame = publish.mask_points(
            frame,
            masking,
            secret=secret,
            regions=levels[level],
            region_column=f"adm{level}_code",
        )
    if public:
        frame = _as_cells(frame, pairs, level)
        frame = frame.drop(columns=publish.finer_columns(list(frame.columns), level))
        frame = publish.allow_columns(frame, publish.PUBLIC_POINT_COLUMNS)
        frame = frame.drop(columns=[c for c in frame if c.endswith("_match")], errors="ignore")
        order = [c for c in ("period", f"adm{level}_code", "category", "lat", "lon") if c in frame]
        frame = frame.sort_values(order, kind="stable", na_position="last")
    frame = frame.reset_index(drop=True)
    frame.attrs.update(left_out=len(left_out), generated_ids=generated)
    return frame


def _as_cells(frame: pd.DataFrame, pairs: pd.DataFrame, level: int) -> pd.DataFrame:
    """Each point's cell as the tables name it: the view's period in place of its dates,
    the categories the view counts, and the region code of its row (``__outside__`` or
    ``__not_attributable__`` too, as in cells.csv)."""
    by_row = pairs.groupby("row", sort=False)
    labels = by_row["category"].agg(
        lambda ls: CATEGORY_SEPARATOR.join(x for x in ls if x != aggregate.NO_CATEGORY) or None
    )
    out = frame.drop(columns=["date", "date_end", "date_precision"], errors="ignore")
    out["period"] = by_row["period"].first().reindex(out.index).to_numpy()
    out["category"] = pd.array(labels.reindex(out.index).to_numpy(), dtype="str")
    code = by_row["region_code"].first().reindex(out.index)
    out[f"adm{level}_code"] = pd.array(code.to_numpy(), dtype="str")
    return out


# ----------------------------------------------------------------------------- printing


def display_name(value: Any) -> str:
    """Human label for codes used in the tables (outside, not attributable...)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    special = SPECIAL_NAMES.get(str(value))
    return _(special) if special is not None else str(value)


def fmt_count(value: Any, suppressed: bool) -> str:
    """A figure as printed in the PDF: ``x`` when suppressed, thousands separated."""
    if suppressed:
        return MARK
    if value is None or pd.isna(value):
        return ""
    number = float(value)
    return format_number(int(number) if number.is_integer() else round(number, 1))


def period_name(period: Period) -> str:
    """The period unit in the user's language (``month``, ``mois``, ``شهر``)."""
    return _(PERIOD_NAMES.get(period, period.value))


def printed_day(day: str) -> str:
    """A first or last day as the brief prints it: ISO in English (as the tables write it),
    the locale's date elsewhere (``5 mars 2024``)."""
    if day == NO_DATES:
        return _("(no dates)")
    if language() == "en":
        return day
    import datetime as dt

    try:
        return format_date(dt.date.fromisoformat(day))
    except ValueError:
        return day
