"""Public releases: every public figure read from one protected grid, kept in a ledger.

Why: an NGO publishes the same data many times (every month "since 2014", a quarter
for a brief, admin-2 for a partner). Each export protected on its own can be combined
with the others to pin a hidden figure. Here every public view is read from the
dataset's publication grid (:mod:`crisismap.publish.grid`): cells and totals are nodes of
that grid, protected together, and the grid's state (k, what was hidden, what was
published) is kept in a release ledger next to the workspace data, so a later export —
another window, period, level or category — never publishes a figure that undoes an
earlier one.

Rules of public views (checked before any work): periods are ISO weeks, months, quarters
or years; a date window covers whole periods of the view's unit; one k per dataset.
Totals over a window are sums of the coarsest whole periods inside it (years, quarters,
months — or weeks), each a node of the grid; a total is hidden when any of its parts
is. Anything computed from published figures adds nothing a reader could not compute.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crisismap import aggregate, files
from crisismap.aggregate.axes import category_axis
from crisismap.aggregate.cells import record_victims
from crisismap.aggregate.periods import (
    day_number,
    ordinals,
    period_days,
    period_labels,
    record_periods,
)
from crisismap.aggregate.select import selection
from crisismap.errors import InvalidValueError
from crisismap.i18n import N_, _
from crisismap.publish import public_k_refusal
from crisismap.publish.grid import Grid
from crisismap.publish.lattice import Axis, unique_rows
from crisismap.schema import (
    IMPRECISE_CODE,
    IMPRECISE_PERIOD,
    OUTSIDE_CODE,
    MatchStatus,
    Period,
    View,
)

# Two grids per dataset, each a nested family (coarsest first): calendar periods, and ISO
# weeks (which cross month and year ends, so they cannot share the calendar grid's nesting).
CALENDAR = (Period.YEAR, Period.QUARTER, Period.MONTH)
WEEKS = (Period.ISO_WEEK,)
GRAINS = CALENDAR + WEEKS
PUBLIC_PERIODS = frozenset(GRAINS)
UNIT_NAMES = {  # a public period unit as the refusals name it
    Period.YEAR: N_("year"),
    Period.QUARTER: N_("quarter"),
    Period.MONTH: N_("month"),
    Period.ISO_WEEK: N_("week"),
}


def family(period: Period) -> tuple[Period, ...]:
    """The grid a public period is read from: one grid holds every grain, so figures
    shared by weekly and calendar releases (a region's total) are protected once."""
    return GRAINS


_TILE_GRAINS = {
    Period.YEAR: (Period.YEAR,),
    Period.QUARTER: (Period.YEAR, Period.QUARTER),
    Period.MONTH: (Period.YEAR, Period.QUARTER, Period.MONTH),
    Period.ISO_WEEK: (Period.ISO_WEEK,),
}
LEDGER_VERSION = 1
METHOD = "publication grid with small-cell suppression and complementary moves"


def check_public(view: View, k: int) -> None:
    """Refuse, before any work, a public view or a k the grid cannot publish."""
    check_public_view(view)
    refusal = public_k_refusal(k, option="k")
    if refusal:
        raise InvalidValueError(refusal)


def check_public_view(view: View) -> None:
    """Refuse, before any work, a public view the grid cannot publish consistently."""
    if view.period not in PUBLIC_PERIODS:
        raise InvalidValueError(
            _(
                "Public releases use ISO weeks, months, quarters or years; got {period}. Days "
                "and ACLED weeks are too fine to publish safely: choose --period week, month, "
                "quarter or year, or make an --internal export."
            ).format(period=repr(view.period.value))
        )
    for name, value, first in (("start", view.start, True), ("end", view.end, False)):
        if value is None:
            continue
        day = day_number(value)
        ordinal = ordinals(np.array([day]), view.period)
        starts, ends = period_days(ordinal, view.period)
        bound = starts[0] if first else ends[0]
        if int(bound.astype(np.int64)) != day:
            message = (
                _(
                    "Public releases cover whole {period}s: --{name} {day} is not the first day "
                    "of a {period}. Use --{name} {bound} (or leave it out), or make an "
                    "--internal export. Windows that cut periods could be compared with each "
                    "other to reveal hidden figures."
                )
                if first
                else _(
                    "Public releases cover whole {period}s: --{name} {day} is not the last day "
                    "of a {period}. Use --{name} {bound} (or leave it out), or make an "
                    "--internal export. Windows that cut periods could be compared with each "
                    "other to reveal hidden figures."
                )
            )
            raise InvalidValueError(
                message.format(
                    period=_(UNIT_NAMES.get(view.period, view.period.value)),
                    name=name,
                    day=pd.Timestamp(value).date(),
                    bound=pd.Timestamp(bound).date(),
                )
            )


def public_view(analysis: Any, view: View) -> View:
    """The view a public export of ``view`` publishes: its window made of whole periods.

    A window that holds every record is no window (the whole span: the dashboard's
    default date range); otherwise its ends move out to the first and last day of their
    periods. The command line refuses such a window instead (the user typed the dates).
    """
    if view.period not in PUBLIC_PERIODS or (view.start is None and view.end is None):
        return view
    dates = pd.to_datetime(analysis.records.get("date"), errors="coerce")
    ends = pd.to_datetime(analysis.records.get("date_end", dates), errors="coerce")
    first, last = dates.min(), ends.max() if ends is not None else dates.max()
    start, end = view.start, view.end
    if (start is None or pd.isna(first) or pd.Timestamp(start) <= first) and (
        end is None or pd.isna(last) or pd.Timestamp(end) >= last
    ):
        return view.with_(start=None, end=None)
    if start is not None:
        ordinal = ordinals(np.array([day_number(start)]), view.period)
        start = pd.Timestamp(period_days(ordinal, view.period)[0][0]).date()
    if end is not None:
        ordinal = ordinals(np.array([day_number(end)]), view.period)
        end = pd.Timestamp(period_days(ordinal, view.period)[1][0]).date()
    return view.with_(start=start, end=end)


@dataclass
class Ledger:
    """Where the grid's state of each dataset is kept (a private directory)."""

    directory: Path

    @classmethod
    def beside(cls, workspace: Any) -> Ledger:
        """The ledger of a workspace (``<workspace folder>/releases``), local or a team's."""
        return cls(Path(workspace.db_path).parent / "releases")

    def path(self, dataset: str) -> Path:
        return self.directory / f"{dataset}.json"

    def load(self, dataset: str) -> dict[str, Any] | None:
        path = self.path(dataset)
        if not path.exists():
            return None
        state = json.loads(path.read_text(encoding="utf-8"))
        if state.get("version") != LEDGER_VERSION:
            raise InvalidValueError(
                _(
                    "The release ledger {path} was written by another version of crisismap "
                    "(version {version}, expected {expected})."
                ).format(path=path, version=repr(state.get("version")), expected=LEDGER_VERSION)
            )
        return state

    def save(self, dataset: str, state: dict[str, Any], release: dict[str, Any]) -> None:
        old = self.load(dataset) or {}
        log = list(old.get("releases", [])) + [release]
        data = {"version": LEDGER_VERSION, **state, "releases": log}
        files.private_dir(self.directory)
        files.write_private(self.path(dataset), json.dumps(data, sort_keys=True).encode("utf-8"))


def dataset_key(analysis: Any, view: View) -> str:
    """Which data a grid is of: the input files, the boundaries, the record filters, and
    the grid family (calendar periods or ISO weeks)."""
    parts = {
        "family": [g.value for g in family(view.period)],
        "inputs": sorted(str(i.get("sha256")) for i in analysis.inputs),
        "boundaries": str(getattr(analysis.boundaries, "sha256", "") or analysis.boundaries.name),
        "levels": list(analysis.levels),
        "records": len(analysis.records),
        "approved_only": view.approved_only,
        "verified_only": view.verified_only,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]


def grid_of(analysis: Any, view: View, k: int, ledger: Ledger | None = None) -> Grid:
    """The dataset's grid at ``k`` (built once per analysis; restored from the ledger).

    The ledger is keyed by the grid's content (:meth:`Grid.digest`), not by the input
    file: the same file read with other options (a category separator, a snap distance)
    is other data with another grid.
    """
    dataset = dataset_key(analysis, view)
    first_k = analysis.memo(("publication-k", dataset), lambda: int(k))
    if first_k != int(k):  # one k per dataset, for this analysis (with or without a ledger)
        raise _another_k(first_k, k)
    grid = analysis.memo(
        ("publication-grid", dataset, int(k)), lambda: build_grid(analysis, view, k)
    )
    state = ledger.load(grid.digest()) if ledger is not None else None
    if state is not None and int(state["k"]) != int(k):
        raise _another_k(int(state["k"]), k)
    if state is not None:
        grid.restore(state)
    return grid


def _another_k(first: int, k: int) -> InvalidValueError:
    return InvalidValueError(
        _(
            "This data was already published with k={first}; releases of the same data with "
            "another k (here {k}) could be combined to reveal small figures. Use --k {first}, "
            "or make an --internal export."
        ).format(first=first, k=k)
    )


def build_grid(analysis: Any, view: View, k: int) -> Grid:
    """The lattice of the analysis' records (those the view's record filters keep)."""
    records, joined = analysis.records, analysis.joined
    sel = selection(
        records,
        joined,
        None,
        None,
        None,
        None,
        None,
        None,
        approved_only=view.approved_only,
        verified_only=view.verified_only,
    )
    cats = category_axis(records, sel, True)
    rows = cats.rows
    region = _region_axis(joined, analysis.levels, rows)
    time = _time_axis(records, rows, family(view.period))
    category = Axis("category", ("category",), cats.slot.reshape(-1, 1), (tuple(cats.labels),))
    victims = record_victims(records)[rows]
    return Grid.build(
        region,
        time,
        category,
        k=k,
        victims=np.nan_to_num(victims),
        victims_known=~np.isnan(victims),
    )


def _region_axis(joined: pd.DataFrame, levels: Sequence[int], rows: np.ndarray) -> Axis:
    columns, labels, names = [], [], []
    for level in levels:
        code = joined[f"adm{level}_code"].astype("str").to_numpy(dtype=object, na_value=None)
        match = joined.get(f"adm{level}_match")
        imprecise = (
            np.zeros(len(joined), bool)
            if match is None
            else (match.astype("str") == MatchStatus.IMPRECISE.value).to_numpy(bool, na_value=False)
        )
        text = np.where(
            pd.isna(code), np.where(imprecise, IMPRECISE_CODE, OUTSIDE_CODE), code
        ).astype(str)
        part, uniques = pd.factorize(text[rows], sort=True)
        columns.append(part)
        labels.append(tuple(str(u) for u in uniques))
        names.append(f"adm{level}")
    return _with_atoms("region", columns, names, labels, len(rows))


def _time_axis(records: pd.DataFrame, rows: np.ndarray, grains: Sequence[Period]) -> Axis:
    columns, labels = [], []
    for grain in grains:
        first, precise = record_periods(records, grain)
        first, precise = first[rows], precise[rows]
        used = np.unique(first[precise])
        starts, _ = period_days(used, grain)
        names = period_labels(used, starts, grain) + [IMPRECISE_PERIOD]
        part = np.where(precise, np.searchsorted(used, first), len(used))
        columns.append(part)
        labels.append(tuple(names))
    return _with_atoms("time", columns, [g.value for g in grains], labels, len(rows))


def _with_atoms(
    name: str, columns: list[np.ndarray], names: list[str], labels: list[tuple[str, ...]], n: int
) -> Axis:
    """The axis with a last, structural partition: each distinct combination of parts
    (an ISO week cut by a month end is two pieces; a record located only at country level
    is its country's piece of "not attributable"), so moves are built from whole pieces."""
    parts = np.column_stack(columns) if columns else np.zeros((n, 0), np.int64)
    if len(parts):
        atom = unique_rows(parts)[1]  # np.unique(axis=0)'s numbering, without its record sort
    else:
        atom = np.zeros(0, np.int64)
    count = int(atom.max()) + 1 if len(atom) else 0
    return Axis(
        name,
        (*names, f"{name} pieces"),
        np.column_stack([parts, atom]) if len(parts) else np.zeros((n, len(names) + 1), np.int64),
        (*labels, tuple(str(i) for i in range(count))),
        structural=1,
    )


# --- reading a view from the grid -------------------------------------------------------------


@dataclass
class PublicTables:
    """A view's tables read from the grid, in the shape the report's figures use."""

    cells: pd.DataFrame
    regions: pd.DataFrame
    series: pd.DataFrame
    periods: pd.DataFrame
    totals: pd.DataFrame  # per category, then "all categories"
    settings: dict[str, Any]


def _released(
    analysis: Any, view: View, summary: pd.DataFrame, k: int, ledger: Ledger | None
) -> tuple[_Reader, str]:
    """The view's reader over the dataset's grid, protected (the whole lattice at once:
    no order to exploit) and kept in ``ledger``; and the grid's digest."""
    check_public_view(view)
    grid = grid_of(analysis, view, k, ledger)
    summary = _every_row(summary, windowed=view.start is not None or view.end is not None)
    reader = _Reader(grid, analysis, view, summary)
    new = grid.release(grid.combos)
    digest = grid.digest()
    if ledger is not None:
        ledger.save(digest, grid.state(), {"view": view.to_dict(), "new_primaries": int(new)})
    return reader, digest


def public_region_periods(
    analysis: Any, view: View, summary: pd.DataFrame, *, k: int, ledger: Ledger | None = None
) -> pd.DataFrame:
    """Region × period over the view's categories as the grid publishes them (what trends
    compare; hidden: NA + ``suppressed``)."""
    reader, _ = _released(analysis, view, summary, k, ledger)
    return reader.region_periods()


def public_tables(
    analysis: Any,
    view: View,
    summary: pd.DataFrame,
    *,
    k: int,
    ledger: Ledger | None = None,
) -> PublicTables:
    """The view's cells and totals as the grid publishes them (hidden: NA + ``suppressed``).

    ``summary`` is :func:`crisismap.pipeline.summarize` of the view (the cells' rows,
    names and bounds); its figures are replaced by the grid's.
    """
    reader, digest = _released(analysis, view, summary, k, ledger)
    grid = reader.grid
    cells = reader.cells()
    regions = reader.regions()
    series = reader.series()
    periods = reader.periods()
    totals = reader.totals()
    frames = [cells, regions, series, periods, totals]
    shown = sum(len(f) for f in frames)
    hidden = sum(int(f["suppressed"].sum()) for f in frames)
    settings = {
        "method": METHOD,
        "k": int(k),
        "rule": f"a figure is hidden when 0 < incidents < {k}",
        "zeros": "published, except zeros hidden with a small figure next to them",
        "applies_to": ["incidents", "victims"],
        "grid": {
            "regions": list(grid.axes[0].partitions),
            "periods": list(grid.axes[1].partitions) + ["whole span"],
            "categories": "each category and all categories",
        },
        "windows": "whole periods; totals are sums of the coarsest whole periods inside",
        "window_tiles": None
        if not reader.windowed
        else [
            [grain, label, str(first), str(last)]
            for grain, label, first, last in (
                window_tiles(view.period, *reader.bounds) if reader.bounds else []
            )
        ],
        "figures": int(shown),
        "suppressed_figures": int(hidden),
        "protection": (
            "every public export of this data reads one protected grid: for each hidden "
            "figure there is another table, with no negative count, in which every figure "
            "published by any release is unchanged and the hidden one differs"
        ),
        "dataset": digest,
    }
    return PublicTables(cells, regions, series, periods, totals, settings)


def _every_row(summary: pd.DataFrame, *, windowed: bool) -> pd.DataFrame:
    """The summary with a row for every special region and the imprecise period, always.

    The internal summary shows "outside", "not attributable" and "date not attributable"
    rows only when some record falls there; in a public table the row's presence would
    itself say whether a hidden figure is zero. So public tables always carry them (their
    figures come from the grid, hidden or not), except the imprecise period of a dated
    window, which is no figure of the grid: it is never shown.
    """
    if not len(summary):
        return summary
    period_cols = [c for c in ("period", "period_start", "period_end") if c in summary]
    region_cols = [c for c in ("region_code", "region_name", "parent_code") if c in summary]
    periods = summary[period_cols].drop_duplicates("period")
    periods = periods[periods["period"].astype(object) != IMPRECISE_PERIOD]
    if not windowed:
        imprecise = pd.DataFrame({"period": [IMPRECISE_PERIOD]})
        periods = pd.concat([periods, imprecise], ignore_index=True)
    regions = summary[region_cols].drop_duplicates("region_code")
    specials = pd.DataFrame(
        {
            "region_code": [OUTSIDE_CODE, IMPRECISE_CODE],
            "region_name": [aggregate.OUTSIDE_NAME, aggregate.IMPRECISE_NAME],
        }
    )
    regions = pd.concat(
        [regions[~regions["region_code"].isin([OUTSIDE_CODE, IMPRECISE_CODE])], specials],
        ignore_index=True,
    )
    grid = regions.merge(periods, how="cross")
    if "category" in summary:
        cats = summary[["category"]].drop_duplicates()
        grid = grid.merge(cats, how="cross")
    keys = ["region_code", "period"] + (["category"] if "category" in summary else [])
    have = summary.set_index(keys).index
    missing = grid[~grid.set_index(keys).index.isin(have)]
    if windowed:
        summary = summary[summary["period"].astype(object) != IMPRECISE_PERIOD]
    if not len(missing):
        return summary.reset_index(drop=True)
    fill = missing.assign(incidents=0, victims=0.0)
    if "victims_known" in summary:
        fill = fill.assign(victims_known=0)
    out = pd.concat([summary, fill[[c for c in summary.columns if c in fill]]], ignore_index=True)
    for column in summary.columns:
        if column in ("incidents", "victims_known"):
            out[column] = out[column].astype(summary[column].dtype)
    return out.reset_index(drop=True)


class _Reader:
    """Looks the view's figures up in the grid (vectorised per table)."""

    def __init__(self, grid: Grid, analysis: Any, view: View, summary: pd.DataFrame) -> None:
        self.grid, self.view, self.summary = grid, view, summary
        self.level_name = f"adm{view.level}"
        self.grain = view.period.value
        self.windowed = view.start is not None or view.end is not None
        self.bounds = _bounds(view, summary) if self.windowed else None
        self.tiles = (
            [(g, label) for g, label, _, _ in window_tiles(view.period, *self.bounds)]
            if self.bounds
            else ([] if self.windowed else [None])
        )
        cats = view.categories
        self.labels: list[str | None] = [None] if cats is None else list(cats)
        self.region_nodes = self._region_filter(analysis, view)

    def _region_filter(self, analysis: Any, view: View) -> list[tuple[str, str] | None]:
        if view.regions is None:
            return [None]
        found: list[tuple[str, str] | None] = []
        axis = self.grid.axes[0]
        names = axis.partitions
        for code in view.regions:
            for i in range(len(names) - 1 - axis.structural, -1, -1):
                if code in self.grid.index[0].label_to_part[i]:
                    found.append((names[i], code))
                    break
        return found

    # one figure per row: sum of nodes over region × time × label lists
    def _sum(
        self,
        regions: list[list[tuple[str, str] | None]],
        times: list[list[tuple[str, str] | None]],
        labels: list[list[str | None]],
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        g = self.grid
        n = len(regions)
        incidents = np.zeros(n, np.int64)
        victims = np.zeros(n)
        hidden = np.zeros(n, bool)
        for i in range(n):
            for r in regions[i]:
                for t in times[i]:
                    for c in labels[i]:
                        value, vict, _, hide = g.figure(g.node(r, t, c))
                        incidents[i] += value
                        victims[i] += vict
                        hidden[i] |= hide
        return incidents, victims, hidden

    def _apply(self, frame: pd.DataFrame, figures: tuple[np.ndarray, ...]) -> pd.DataFrame:
        incidents, victims, hidden = figures
        out = frame.copy()
        out["incidents"] = pd.array(np.where(hidden, 0, incidents), dtype="Int64")
        out.loc[hidden, "incidents"] = pd.NA
        out["victims"] = np.where(hidden, np.nan, victims)
        out["suppressed"] = hidden
        return out

    def cells(self) -> pd.DataFrame:
        s = self.summary
        g = self.grid
        ci = g.combos.index(g.combo(self.level_name, self.grain, True))
        rmap = g.index[0].label_to_part[g.axes[0].partitions.index(self.level_name)]
        tmap = g.index[1].label_to_part[g.axes[1].partitions.index(self.grain)]
        cmap = g.index[2].label_to_part[0]
        r = s["region_code"].astype(object).map(rmap).fillna(-1).to_numpy(np.int64)
        t = s["period"].astype(object).map(tmap).fillna(-1).to_numpy(np.int64)
        c = (
            s["category"].astype(object).map(cmap).fillna(-1).to_numpy(np.int64)
            if "category" in s
            else np.full(len(s), -1)
        )
        valid = (r >= 0) & (t >= 0) & (c >= 0)
        keys = (ci << 56) | (np.maximum(r, 0) << 36) | (np.maximum(t, 0) << 20) | np.maximum(c, 0)
        # one set lookup per row: np.isin would first hash every hidden node of the grid
        found = map(g.hidden.__contains__, keys.tolist())
        hidden = valid & np.fromiter(found, bool, len(keys))
        if self.windowed:
            hidden |= (s["period"].astype(object) == IMPRECISE_PERIOD).to_numpy(bool)
        out = s.copy()
        out["incidents"] = pd.array(np.where(hidden, 0, s["incidents"]), dtype="Int64")
        out.loc[hidden, "incidents"] = pd.NA
        out["victims"] = np.where(hidden, np.nan, s["victims"].to_numpy(float))
        for column in ("incidents_change", "victims_change"):
            if column in out:
                out[column] = out[column].astype("Float64")
                out.loc[hidden, column] = pd.NA
        out["suppressed"] = hidden
        return out

    def regions(self) -> pd.DataFrame:
        s = self.summary
        attrs = [c for c in ("region_code", "region_name", "parent_code") if c in s]
        frame = s[attrs].drop_duplicates("region_code").reset_index(drop=True)
        regions = [[(self.level_name, str(code))] for code in frame["region_code"]]
        n = len(frame)
        return self._apply(frame, self._sum(regions, [self.tiles] * n, [self.labels] * n))

    def _periods_frame(self, by_category: bool) -> pd.DataFrame:
        s = self.summary
        keys = ["period"] + (["category"] if by_category and "category" in s else [])
        attrs = [c for c in ("period_start", "period_end") if c in s]
        frame = s[keys + attrs].drop_duplicates(keys).reset_index(drop=True)
        return frame

    def series(self) -> pd.DataFrame:
        frame = self._periods_frame(True)
        n = len(frame)
        times = [[(self.grain, str(p))] for p in frame["period"]]
        labels = [[str(c)] for c in frame["category"]] if "category" in frame else [self.labels] * n
        out = self._apply(frame, self._sum([self.region_nodes] * n, times, labels))
        return self._hide_imprecise(out)

    def periods(self) -> pd.DataFrame:
        frame = self._periods_frame(False)
        n = len(frame)
        times = [[(self.grain, str(p))] for p in frame["period"]]
        out = self._apply(frame, self._sum([self.region_nodes] * n, times, [self.labels] * n))
        return self._hide_imprecise(out)

    def _hide_imprecise(self, frame: pd.DataFrame) -> pd.DataFrame:
        if not self.windowed:
            return frame
        mask = (frame["period"].astype(object) == IMPRECISE_PERIOD).to_numpy(bool)
        frame.loc[mask, "incidents"] = pd.NA
        frame.loc[mask, "victims"] = np.nan
        frame.loc[mask, "suppressed"] = True
        return frame

    def region_periods(self) -> pd.DataFrame:
        """Region × period over the view's categories (records once each when unfiltered)."""
        s = self.summary
        regions = s[["region_code", "region_name"]].drop_duplicates("region_code")
        regions = regions[~regions["region_code"].isin([OUTSIDE_CODE, IMPRECISE_CODE])]
        periods = self._periods_frame(False)
        periods = periods[periods["period"].astype(object) != IMPRECISE_PERIOD]
        frame = regions.merge(periods, how="cross").reset_index(drop=True)
        n = len(frame)
        places = [[(self.level_name, str(code))] for code in frame["region_code"]]
        times = [[(self.grain, str(p))] for p in frame["period"]]
        return self._apply(frame, self._sum(places, times, [self.labels] * n))

    def totals(self) -> pd.DataFrame:
        s = self.summary
        # in order of first appearance (pd.unique keeps it): one pass in C, not 50k in Python
        cats = (
            list(dict.fromkeys(str(c) for c in pd.unique(s["category"]))) if "category" in s else []
        )
        frame = pd.DataFrame({"category": cats + ["all categories"]})
        labels = [[c] for c in cats] + [self.labels]
        n = len(frame)
        return self._apply(frame, self._sum([self.region_nodes] * n, [self.tiles] * n, labels))


def _bounds(view: View, summary: pd.DataFrame) -> tuple[Any, Any] | None:
    """The first and last day of a public window (an open end: the data's first or last
    period in the view); None when the view has no period with records."""
    real = summary[summary["period"].astype(object) != IMPRECISE_PERIOD]
    if not len(real):
        return None
    lo = view.start if view.start is not None else real["period_start"].min()
    hi = view.end if view.end is not None else real["period_end"].max()
    return lo, hi


def window_tiles(period: Period, start: Any, end: Any) -> list[tuple[str, str, Any, Any]]:
    """(grain, label, first day, last day) of the coarsest whole periods that tile
    ``start``..``end`` (whole periods of ``period``): years, quarters, months — or weeks.

    A public total over a window is the sum of these grid figures; a record counts in it
    when its dates lie within one of them.
    """
    grains = _TILE_GRAINS[Period.parse(period)]
    lo, hi = day_number(start), day_number(end)
    tiles: list[tuple[str, str, Any, Any]] = []
    day = lo
    while day <= hi:
        for grain in grains:
            ordinal = ordinals(np.array([day]), grain)
            starts, ends = period_days(ordinal, grain)
            first = int(starts[0].astype(np.int64))
            last = int(ends[0].astype(np.int64))
            if first == day and last <= hi:
                label = period_labels(ordinal, starts, grain)[0]
                tiles.append(
                    (
                        grain.value,
                        label,
                        pd.Timestamp(starts[0]).date(),
                        pd.Timestamp(ends[0]).date(),
                    )
                )
                day = last + 1
                break
        else:  # check_public_view guarantees whole periods of the view's unit
            raise AssertionError("window does not tile into whole periods")
    return tiles


__all__ = [
    "GRAINS",
    "METHOD",
    "PUBLIC_PERIODS",
    "Ledger",
    "PublicTables",
    "build_grid",
    "check_public",
    "check_public_view",
    "public_view",
    "window_tiles",
    "dataset_key",
    "grid_of",
    "public_region_periods",
    "public_tables",
]
