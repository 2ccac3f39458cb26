"""Region × period × category counts and victim sums, zero-filled, totals that reconcile.

Rules:

* **Every record is counted once per row kind.** Records with no region at the level go
  to ``OUTSIDE_CODE`` (outside every polygon) or ``IMPRECISE_CODE`` (located only at a
  coarser level); records whose date cannot be placed in one period (precision coarser
  than the period, or a date range crossing periods) go to ``IMPRECISE_PERIOD``. Nothing
  is spread over periods or guessed. With ``by_category=False`` the incidents of all rows
  sum to the number of selected records.
* **Multi-label records** count once in each of their categories' rows (so category rows
  can sum to more than the records); records without a category use ``NO_CATEGORY``.
  Victims follow the record into each of its category rows.
* **Zero-filled grid**: every region of the level × every period from the first to the
  last (widened to ``start``/``end`` when given) × every category present (or asked for).
  Outside / not-attributable regions and the imprecise period appear only when some
  record falls there. If that grid would exceed ``MAX_GRID_ROWS`` rows, only non-zero
  rows are returned and ``frame.attrs["zero_filled"]`` is False.
* **Filters** apply before counting: ``start``/``end`` keep records whose whole date
  range lies within them (``attrs["partly_in_range"]`` counts those straddling an end);
  ``categories`` keeps records with at least one of the labels (only those labels get
  rows); ``regions`` keeps records in those regions, given as codes at this level or any
  coarser one.
* ``incidents_change``/``victims_change`` compare with the previous period of the same
  region and category (NA for the first period and for the imprecise period).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from crisismap.schema import (
    CATEGORY_SEPARATOR,
    IMPRECISE_CODE,
    IMPRECISE_PERIOD,
    OUTSIDE_CODE,
    DatePrecision,
    MatchStatus,
    Period,
)

NO_CATEGORY = "__uncategorised__"
MAX_GRID_ROWS = 2_000_000
# Inputs with at least this many records build the summary's axes on two threads.
PARALLEL_MIN_RECORDS = 50_000
_DENSE_CELLS = 32_000_000  # cell spaces up to this size are counted in one array
OUTSIDE_NAME = "Outside all regions"
IMPRECISE_NAME = "Not attributable at this level"

_PRECISION_RANK = {DatePrecision.DAY: 0, DatePrecision.MONTH: 1, DatePrecision.YEAR: 2}
_NEEDED_PRECISION = {
    Period.DAY: 0,
    Period.ISO_WEEK: 0,
    Period.ACLED_WEEK: 0,
    Period.MONTH: 1,
    Period.QUARTER: 1,
    Period.YEAR: 2,
}
_NO_PERIOD = np.iinfo(np.int64).min
_TEXT = pd.StringDtype("pyarrow", na_value=np.nan)  # the default "str" dtype of pandas 3


# --- public API ---------------------------------------------------------------------


def summarize(
    records: pd.DataFrame,
    joined: pd.DataFrame,
    levels: Any,
    *,
    level: int,
    period: Period | str,
    by_category: bool = True,
    start: Any = None,
    end: Any = None,
    categories: Sequence[str] | None = None,
    regions: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Region × period (× category) figures at ``level`` (see the module rules).

    Returns
    -------
    DataFrame with ``region_code``, ``region_name``, ``parent_code``, ``period`` (label),
    ``period_start``, ``period_end`` (inclusive days), ``category`` (when
    ``by_category``), ``incidents``, ``victims`` (NaN counted as 0), ``victims_known``,
    ``incidents_change``, ``victims_change``.
    """
    period = Period.parse(period)
    _level_frame(levels, level)  # fail early on an unknown level
    sel = _select(records, joined, levels, level, start, end, categories, regions)
    axis, periods, cats = _in_parallel(
        len(records),
        lambda: _region_axis(levels, joined, level, sel),
        lambda: _period_axis(records, sel.rows, period, start, end),
        lambda: _category_axis(records, sel, by_category),
    )
    counts = _count(records, axis.slot, periods, cats)
    table = _table(counts, axis, periods, cats, by_category)
    table.attrs.update(sel.notes)
    return table


def _in_parallel(n_records: int, *tasks: Callable[[], Any]) -> list[Any]:
    """Run independent steps on two threads for large inputs (numpy releases the GIL)."""
    if n_records < PARALLEL_MIN_RECORDS:
        return [task() for task in tasks]
    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(task) for task in tasks]
        return [f.result() for f in futures]


def time_series(
    records: pd.DataFrame,
    joined: pd.DataFrame,
    *,
    period: Period | str,
    region: str | None = None,
    level: int | None = None,
    by_category: bool = True,
    start: Any = None,
    end: Any = None,
    categories: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Figures per period (× category) for one region or for all records, for charts.

    ``region`` is a code at ``level``, or at any level of ``joined`` when ``level`` is None.
    Same columns as :func:`summarize` without the region columns.
    """
    period = Period.parse(period)
    level = _series_level(joined, region, level)
    regions = None if region is None else [region]
    sel = _select(records, joined, None, level, start, end, categories, regions)
    axis = _RegionAxis(np.zeros(len(records), np.int64), ["*"], ["*"], [None], 1)
    periods = _period_axis(records, sel.rows, period, start, end)
    cats = _category_axis(records, sel, by_category)
    counts = _count(records, axis.slot, periods, cats)
    table = _table(counts, axis, periods, cats, by_category)
    table = table.drop(columns=["region_code", "region_name", "parent_code"])
    table.attrs.update(sel.notes)
    return table.reset_index(drop=True)


def region_totals(
    records: pd.DataFrame,
    joined: pd.DataFrame,
    levels: Any,
    *,
    level: int,
    start: Any = None,
    end: Any = None,
    categories: Sequence[str] | None = None,
    regions: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per region over all time: ``incidents``, ``victims``, ``victims_known``,
    ``first_date``, ``last_date`` (every region of the level, zeros included)."""
    _level_frame(levels, level)  # fail early on an unknown level
    sel = _select(records, joined, levels, level, start, end, categories, regions)
    axis = _region_axis(levels, joined, level, sel)
    rows = sel.rows
    slot = axis.slot[rows]
    n = len(axis.codes)
    victims = _victims(records)[rows]
    dates = _days(records["date"])[rows]
    last = _days(records["date_end"])[rows] if "date_end" in records else dates
    last = np.where(last == _NO_PERIOD, dates, last)
    first_day = np.full(n, np.iinfo(np.int64).max)
    last_day = np.full(n, np.iinfo(np.int64).min)
    dated = dates != _NO_PERIOD
    np.minimum.at(first_day, slot[dated], dates[dated])
    np.maximum.at(last_day, slot[dated], last[dated])
    table = pd.DataFrame(
        {
            "region_code": pd.array(axis.codes, dtype="str"),
            "region_name": pd.array(axis.names, dtype="str"),
            "parent_code": pd.array(axis.parents, dtype="str"),
            "incidents": np.bincount(slot, minlength=n),
            "victims": np.bincount(slot, weights=np.nan_to_num(victims), minlength=n),
            "victims_known": np.bincount(slot, weights=~np.isnan(victims), minlength=n).astype(
                np.int64
            ),
            "first_date": _to_dates(np.where(first_day <= last_day, first_day, _NO_PERIOD)),
            "last_date": _to_dates(np.where(first_day <= last_day, last_day, _NO_PERIOD)),
        }
    )
    special = np.arange(n) >= axis.n_regions
    table = table[~special | (table["incidents"].to_numpy() > 0)].reset_index(drop=True)
    table.attrs.update(sel.notes)
    return table


def select_rows(
    records: pd.DataFrame,
    joined: pd.DataFrame,
    levels: Any,
    *,
    level: int | None,
    start: Any = None,
    end: Any = None,
    categories: Sequence[str] | None = None,
    regions: Sequence[str] | None = None,
) -> np.ndarray:
    """Positions of the records a view counts (the same filters as :func:`summarize`).

    The map's points and the figures come from one selection, so they always agree.
    """
    return _select(records, joined, levels, level, start, end, categories, regions).rows


# --- the same figures from partial counts (the distributed engine) ---------------------------

PARTIAL_COLUMNS = {
    "region_code": "str or NA: the record's region at the level (NA: outside or imprecise)",
    "region_name": "str or NA",
    "imprecise": "bool: no region because the location is too coarse for the level",
    "period": "int64: ordinal of the record's period, or PARTIAL_NO_PERIOD when imprecise",
    "category": "str: one label ('' when not by category)",
    "incidents": "int64",
    "victims": "float64: victims summed, NaN counted as 0",
    "victims_known": "int64",
    "partly_in_range": "int64: records straddling start/end (on the part's first row only;"
    " a part with none selected but some straddling has one row with 0 incidents)",
}
PARTIAL_NO_PERIOD = _NO_PERIOD


def partial_counts(
    records: pd.DataFrame,
    joined: pd.DataFrame,
    levels: Any,
    *,
    level: int,
    period: Period | str,
    by_category: bool = True,
    start: Any = None,
    end: Any = None,
    categories: Sequence[str] | None = None,
    regions: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Counts of one part of the records, to be combined by :func:`summarize_partials`.

    Any split of the records into parts gives, once the parts' counts are concatenated
    and combined, exactly :func:`summarize` of all records (same filters and rules):
    this is what lets the join and the counting run on many machines.
    """
    period = Period.parse(period)
    sel = _select(records, joined, levels, level, start, end, categories, regions)
    first, precise = _record_periods(records, period)
    cats = _category_axis(records, sel, by_category)
    rows = cats.rows
    codes, names = _codes(joined[f"adm{level}_code"])
    code = codes[rows]
    imprecise = _equals(joined.get(f"adm{level}_match"), MatchStatus.IMPRECISE.value)
    imprecise = imprecise[rows] if len(imprecise) else np.zeros(len(rows), bool)
    ordinal = np.where(precise[rows], first[rows], PARTIAL_NO_PERIOD)
    frame = pd.DataFrame(
        {
            "code": code,
            "imprecise": imprecise & (code < 0),
            "period": ordinal,
            "label": cats.slot,
            "victims": np.nan_to_num(_victims(records)[rows]),
            "known": ~np.isnan(_victims(records)[rows]),
        }
    )
    grouped = frame.groupby(["code", "imprecise", "period", "label"], sort=True).agg(
        incidents=("victims", "size"), victims=("victims", "sum"), known=("known", "sum")
    )
    keys = grouped.index.to_frame(index=False)
    label_of = np.array(cats.labels + [""], dtype=object)
    code_text = np.append(np.array(names, dtype=object), None)
    name_text = np.append(_names_of_codes(joined, level, code), None)
    partly = np.zeros(len(grouped), np.int64)
    partly[:1] = sel.notes.get("partly_in_range", 0)
    if not len(grouped) and sel.notes.get("partly_in_range", 0):
        return pd.DataFrame(
            {
                "region_code": pd.array([None], dtype=_TEXT),
                "region_name": pd.array([None], dtype=_TEXT),
                "imprecise": [False],
                "period": [PARTIAL_NO_PERIOD],
                "category": pd.array([""], dtype=_TEXT),
                "incidents": [0],
                "victims": [0.0],
                "victims_known": [0],
                "partly_in_range": [sel.notes["partly_in_range"]],
            }
        )
    return pd.DataFrame(
        {
            "region_code": pd.array(code_text[keys["code"].to_numpy()], dtype=_TEXT),
            "region_name": pd.array(name_text[keys["code"].to_numpy()], dtype=_TEXT),
            "imprecise": keys["imprecise"].to_numpy(dtype=bool),
            "period": keys["period"].to_numpy(dtype=np.int64),
            "category": pd.array(label_of[keys["label"].to_numpy()], dtype=_TEXT),
            "incidents": grouped["incidents"].to_numpy(dtype=np.int64),
            "victims": grouped["victims"].to_numpy(dtype=float),
            "victims_known": grouped["known"].to_numpy(dtype=np.int64),
            "partly_in_range": partly,
        }
    )


def _names_of_codes(joined: pd.DataFrame, level: int, code: np.ndarray) -> np.ndarray:
    """Per category of the code column: the joined name of its first record (or None)."""
    codes, categories = _codes(joined[f"adm{level}_code"])
    out = np.full(len(categories), None, dtype=object)
    column = f"adm{level}_name"
    used, first = np.unique(codes, return_index=True)
    keep = used >= 0
    if column in joined and keep.any():
        names = joined[column].iloc[first[keep]].astype(object).to_numpy()
        out[used[keep]] = [None if pd.isna(v) else str(v) for v in names]
    return out


def summarize_partials(
    partials: Sequence[pd.DataFrame] | pd.DataFrame,
    levels: Any,
    *,
    level: int,
    period: Period | str,
    by_category: bool = True,
    start: Any = None,
    end: Any = None,
    categories: Sequence[str] | None = None,
    regions: Sequence[str] | None = None,
) -> pd.DataFrame:
    """:func:`summarize` from the :func:`partial_counts` of every part (same arguments)."""
    period = Period.parse(period)
    _level_frame(levels, level)  # fail early on an unknown level
    frame = partials if isinstance(partials, pd.DataFrame) else pd.concat(partials)
    partly_in_range = int(frame["partly_in_range"].sum()) if len(frame) else 0
    frame = (
        frame[frame["incidents"] > 0]
        .groupby(
            ["region_code", "region_name", "imprecise", "period", "category"],
            dropna=False,
            sort=True,
        )[["incidents", "victims", "victims_known"]]
        .sum()
    )
    keys = frame.index.to_frame(index=False)
    wanted = sorted({str(c) for c in categories}) if categories is not None else None
    places = [str(r) for r in regions] if regions is not None else None
    notes = {} if start is None and end is None else {"partly_in_range": int(partly_in_range or 0)}
    # the region axis from a stand-in "joined" frame: one row per distinct region
    combos = keys[["region_code", "region_name", "imprecise"]].drop_duplicates()
    status = np.where(
        combos["imprecise"].to_numpy(dtype=bool),
        MatchStatus.IMPRECISE.value,
        np.where(combos["region_code"].isna(), MatchStatus.OUTSIDE.value, MatchStatus.INSIDE.value),
    )
    standin = pd.DataFrame(
        {
            f"adm{level}_code": combos["region_code"].to_numpy(dtype=object),
            f"adm{level}_name": combos["region_name"].to_numpy(dtype=object),
            f"adm{level}_match": status,
        }
    )
    standin_sel = _Selection(np.arange(len(standin)), wanted, places, notes)
    axis = _region_axis(levels, standin, level, standin_sel)
    combo_of = (
        keys[["region_code", "region_name", "imprecise"]]
        .merge(combos.assign(_k=np.arange(len(combos))), how="left")["_k"]
        .to_numpy()
    )
    region_slot = axis.slot[combo_of] if len(combo_of) else np.zeros(0, np.int64)
    ordinal = keys["period"].to_numpy(dtype=np.int64)
    precise = ordinal != PARTIAL_NO_PERIOD
    periods = _period_axis_of(ordinal, precise, ordinal[precise], period, start, end)
    labels_found = keys["category"].astype(str).to_numpy()
    if not by_category:
        labels = [""]
    elif wanted is not None:
        labels = list(wanted)
    else:
        labels = sorted(set(labels_found))
    position = {label: i for i, label in enumerate(labels)}
    cat_slot = np.array([position[x] for x in labels_found], dtype=np.int64)
    cats = _CategoryAxis(labels, np.arange(len(keys)), cat_slot)
    n_p, n_c = len(periods.labels) + 1, len(labels)
    counts = _Counts(
        key=(region_slot * n_p + periods.slot) * n_c + cat_slot,
        victims=frame["victims"].to_numpy(dtype=float),
        known=frame["victims_known"].to_numpy(dtype=float),
        incidents=frame["incidents"].to_numpy(dtype=float),
    )
    table = _table(counts, axis, periods, cats, by_category)
    table.attrs.update(notes)
    return table


def category_labels(records: pd.DataFrame) -> list[str]:
    """Every category label present, sorted (multi-label values split; none left out).

    Splits the distinct values only, so a million records cost one factorisation
    (remembered across calls while the column is unchanged), not a million splits.
    """
    combo, label_sets = _label_sets(records)
    used = np.flatnonzero(np.bincount(combo, minlength=len(label_sets)))
    return sorted({label for i in used for label in label_sets[i]})


# --- selection (shared by every view) -----------------------------------------------------


@dataclass
class _Selection:
    rows: np.ndarray  # positions of the selected records
    categories: list[str] | None  # the category filter, if any
    regions: list[str] | None  # the region filter, if any
    notes: dict[str, Any]


def _select(
    records: pd.DataFrame,
    joined: pd.DataFrame,
    levels: Any,
    level: int | None,
    start: Any,
    end: Any,
    categories: Sequence[str] | None,
    regions: Sequence[str] | None,
) -> _Selection:
    """The records a view counts: date window, category and region filters."""
    if len(joined) != len(records):
        raise ValueError(
            f"joined has {len(joined):,} rows but records has {len(records):,}: pass the "
            "frame join_points returned for these same records."
        )
    keep = np.ones(len(records), dtype=bool)
    notes: dict[str, Any] = {}
    if start is not None or end is not None:
        keep &= _in_window(records, start, end, notes)
    wanted = places = None
    if categories is not None:
        wanted = sorted({str(c) for c in categories})
        keep &= _has_category(records, wanted)
    if regions is not None:
        places = [str(r) for r in regions]
        keep &= _in_regions(joined, levels, level, places)
    return _Selection(np.flatnonzero(keep), wanted, places, notes)


def _in_window(records: pd.DataFrame, start: Any, end: Any, notes: dict[str, Any]) -> np.ndarray:
    """Records whose whole date range lies within [start, end] (whole days)."""
    first = _days(records["date"])
    last = _days(records["date_end"]) if "date_end" in records else first
    last = np.where(last == _NO_PERIOD, first, last)
    return _window(first, last, start, end, notes)


def _window(
    first: np.ndarray, last: np.ndarray, start: Any, end: Any, notes: dict[str, Any]
) -> np.ndarray:
    """Day ranges [first, last] wholly within [start, end]; counts the partly-inside ones."""
    dated = first != _NO_PERIOD
    inside, overlaps = dated.copy(), dated.copy()
    if start is not None:
        day = _day_number(start)
        inside &= first >= day
        overlaps &= last >= day
    if end is not None:
        day = _day_number(end)
        inside &= last <= day
        overlaps &= first <= day
    notes["partly_in_range"] = int((overlaps & ~inside).sum())
    return inside


def _has_category(records: pd.DataFrame, wanted: list[str]) -> np.ndarray:
    combo, labels = _label_sets(records)
    hit = np.array([any(label in wanted for label in ls) for ls in labels], dtype=bool)
    if NO_CATEGORY in wanted:
        hit |= np.array([not ls for ls in labels], dtype=bool)
    return hit[combo] if len(combo) else np.zeros(0, bool)


def _in_regions(
    joined: pd.DataFrame, levels: Any, level: int | None, wanted: list[str]
) -> np.ndarray:
    """Records whose region at ``level`` or at any coarser level is in ``wanted``."""
    known: set[str] = set()
    keep = np.zeros(len(joined), dtype=bool)
    for column in _code_columns(joined, level):
        codes, categories = _codes(joined[column])
        keep |= np.append(categories.isin(wanted), False)[codes]
        known.update(categories)
    if levels is not None:
        for number, frame in _frames(levels).items():
            if level is None or number <= level:
                known.update(frame["code"].astype("str").dropna())
    unknown = [r for r in wanted if r not in known]
    if unknown:
        raise ValueError(
            f"Unknown region code(s) {unknown[:5]}: expected codes of the boundary set at "
            f"level {level} or a coarser level (e.g. {sorted(known)[:3]})."
        )
    return keep


def _code_columns(joined: pd.DataFrame, level: int | None) -> list[str]:
    found = []
    for column in joined.columns:
        if column.startswith("adm") and column.endswith("_code"):
            number = column[3:-5]
            if number.isdigit() and (level is None or int(number) <= level):
                found.append(column)
    return found


def _series_level(joined: pd.DataFrame, region: str | None, level: int | None) -> int | None:
    if region is None or level is not None:
        return level
    for column in _code_columns(joined, None):
        codes, categories = _codes(joined[column])
        position = categories.get_indexer([region])[0]
        if position >= 0 and (codes == position).any():
            return int(column[3:-5])
    return None


# --- axes ---------------------------------------------------------------------------------


def _frames(levels: Any) -> dict[int, Any]:
    mapping = getattr(levels, "levels", levels)
    if not isinstance(mapping, Mapping):
        raise ValueError(
            f"Expected boundary levels as a {{level: GeoDataFrame}} mapping, got "
            f"{type(levels).__name__}."
        )
    return {int(k): mapping[k] for k in sorted(mapping)}


def _level_frame(levels: Any, level: int) -> Any:
    frames = _frames(levels)
    if level not in frames:
        raise ValueError(
            f"Admin level {level} is not in the boundaries: available levels are "
            f"{', '.join(map(str, frames)) or 'none'}."
        )
    return frames[level]


@dataclass
class _RegionAxis:
    slot: np.ndarray  # per record: index into codes
    codes: list[str]
    names: list[str]
    parents: list[str | None]
    n_regions: int  # real regions come first; then outside, then not attributable


def _region_axis(levels: Any, joined: pd.DataFrame, level: int, sel: _Selection) -> _RegionAxis:
    """Regions of the level sorted by code (plus any joined code the frame lacks)."""
    frame = _level_frame(levels, level)
    column = f"adm{level}_code"
    if column not in joined.columns:
        raise ValueError(f"joined has no {column!r} column: join the records at level {level}.")
    table = pd.DataFrame(
        {
            "code": frame["code"].astype("str").to_numpy(),
            "name": (frame["name"] if "name" in frame else frame["code"]).astype("str").to_numpy(),
            "parent": (
                frame["parent_code"].astype("str").to_numpy()
                if "parent_code" in frame
                else np.full(len(frame), None, dtype=object)
            ),
        }
    )
    table = table.dropna(subset=["code"]).drop_duplicates("code")
    if sel.regions is not None:
        table = table[_within(table, levels, level, sel.regions)]
    codes, categories = _codes(joined[column])
    selected = codes[sel.rows]
    used = np.flatnonzero(np.bincount(selected[selected >= 0], minlength=len(categories)))
    extra = categories[used].difference(pd.Index(table["code"]))
    if len(extra):
        table = pd.concat(
            [table, pd.DataFrame({"code": extra, "name": _joined_names(joined, level, extra)})]
        )
    table = table.sort_values("code", kind="stable").reset_index(drop=True)
    n = len(table)
    # code -1 (NA) picks the appended -1
    slot = np.append(pd.Index(table["code"]).get_indexer(categories), -1)[codes]
    imprecise = _equals(joined.get(f"adm{level}_match"), MatchStatus.IMPRECISE.value)
    slot = np.where(slot >= 0, slot, np.where(imprecise, n + 1, n))
    return _RegionAxis(
        slot.astype(np.int64),
        list(table["code"]) + [OUTSIDE_CODE, IMPRECISE_CODE],
        [c if pd.isna(x) else x for c, x in zip(table["code"], table["name"], strict=True)]
        + [OUTSIDE_NAME, IMPRECISE_NAME],
        [None if pd.isna(x) else str(x) for x in table["parent"]] + [None, None],
        n,
    )


def _within(table: pd.DataFrame, levels: Any, level: int, wanted: list[str]) -> np.ndarray:
    """Regions that are, or lie within, one of ``wanted`` (following parent codes up)."""
    keep = table["code"].isin(wanted).to_numpy(dtype=bool, copy=True)
    parent = table["parent"]
    for number, frame in sorted(_frames(levels).items(), reverse=True):
        if number >= level:
            continue
        keep |= parent.isin(wanted).to_numpy(dtype=bool, na_value=False)
        if "parent_code" not in frame:
            break
        up = dict(zip(frame["code"].astype("str"), frame["parent_code"], strict=True))
        parent = parent.map(up)
    return keep


def _codes(series: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes (-1 for NA) and their text values; categoricals are not re-hashed."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy().astype(np.int64), series.cat.categories.astype("str")
    codes, uniques = _factorized(series)
    return codes, pd.Index(uniques).astype("str")


_factor_cache: OrderedDict[int, tuple[Any, np.ndarray, Any]] = OrderedDict()
_factor_lock = threading.Lock()


def _factorized(series: pd.Series) -> tuple[np.ndarray, Any]:
    """``pd.factorize`` (codes int64, -1 for NA), remembered for Arrow-backed columns.

    Every view of the dashboard factorises the same million-row text columns (category,
    date precision) several times. Arrow arrays are immutable (writing to such a column
    makes a new one), so the array object itself is a safe key; the cache holds it, so
    its id cannot be reused while the entry lives.
    """
    array = series.array
    key = array.__arrow_array__() if isinstance(array, pd.arrays.ArrowStringArray) else None
    if key is not None:
        with _factor_lock:
            hit = _factor_cache.get(id(key))
            if hit is not None and hit[0] is key:
                _factor_cache.move_to_end(id(key))
                return hit[1], hit[2]
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    codes = codes.astype(np.int64)
    if key is not None:
        codes.flags.writeable = False  # shared between callers
        with _factor_lock:
            _factor_cache[id(key)] = (key, codes, uniques)
            while len(_factor_cache) > 8:
                _factor_cache.popitem(last=False)
    return codes, uniques


def _equals(series: pd.Series | None, value: str) -> np.ndarray:
    if series is None:
        return np.zeros(0, bool)
    return (series == value).to_numpy(dtype=bool, na_value=False)


def _joined_names(joined: pd.DataFrame, level: int, codes: pd.Index) -> list[str]:
    """Names for codes the boundary frame lacks, from the joined name column."""
    column = f"adm{level}_name"
    if column not in joined:
        return list(codes)
    pairs = pd.DataFrame(
        {"c": joined[f"adm{level}_code"].astype("str"), "n": joined[column].astype("str")}
    )
    lookup = pairs.dropna().drop_duplicates("c").set_index("c")["n"].to_dict()
    return [lookup.get(c, c) for c in codes]


@dataclass
class _PeriodAxis:
    slot: np.ndarray  # per record: 0..n-1, or n for the imprecise period
    labels: list[str]
    starts: np.ndarray  # datetime64[D]
    ends: np.ndarray


def _period_axis(
    records: pd.DataFrame, rows: np.ndarray, period: Period, start: Any, end: Any
) -> _PeriodAxis:
    """Periods from the first to the last selected (or the window), records mapped to them."""
    first, precise = _record_periods(records, period)
    return _period_axis_of(first, precise, first[rows][precise[rows]], period, start, end)


def _record_periods(records: pd.DataFrame, period: Period) -> tuple[np.ndarray, np.ndarray]:
    """Per record: the ordinal of its start period, and whether it lies in that one period."""
    first = _ordinals(_days(records["date"]), period)
    last_days = _days(records["date_end"]) if "date_end" in records else _days(records["date"])
    last = _ordinals(last_days, period)
    precise = (first != _NO_PERIOD) & ((last == _NO_PERIOD) | (last == first))
    if "date_precision" in records:
        rank = _precision_ranks(records["date_precision"])
        precise &= rank <= _NEEDED_PRECISION[period]
    return first, precise


def _period_axis_of(
    first: np.ndarray,
    precise: np.ndarray,
    chosen: np.ndarray,
    period: Period,
    start: Any,
    end: Any,
) -> _PeriodAxis:
    """The axis spanning ``chosen`` ordinals (and the window); ``first`` mapped onto it."""
    bounds = [chosen.min(), chosen.max()] if len(chosen) else []
    if start is not None:
        bounds.append(_ordinals(np.array([_day_number(start)]), period)[0])
    if end is not None:
        bounds.append(_ordinals(np.array([_day_number(end)]), period)[0])
    lo, hi = (min(bounds), max(bounds)) if bounds else (0, -1)
    n = int(hi - lo + 1)
    slot = np.where(precise, first - lo, n)
    ordinals = np.arange(lo, hi + 1)
    starts, ends = _period_bounds(ordinals, period)
    return _PeriodAxis(slot, _labels(ordinals, starts, period), starts, ends)


@dataclass
class _CategoryAxis:
    labels: list[str]  # [""] when not by category
    rows: np.ndarray  # expanded: record position for each (record, label) pair
    slot: np.ndarray  # expanded: label index for each pair


def _category_axis(records: pd.DataFrame, sel: _Selection, by_category: bool) -> _CategoryAxis:
    """Record × label pairs among the selected records (one pair per record if not by category)."""
    rows = sel.rows
    if not by_category:
        return _CategoryAxis([""], rows, np.zeros(len(rows), np.int64))
    combo, label_sets = _label_sets(records)
    label_sets = [ls or [NO_CATEGORY] for ls in label_sets]
    if sel.categories is not None:
        label_sets = [[x for x in ls if x in sel.categories] for ls in label_sets]
        labels = list(sel.categories)
    else:
        used = np.flatnonzero(np.bincount(combo[rows], minlength=len(label_sets)))
        labels = sorted({x for i in used for x in label_sets[i]})
    position = {label: i for i, label in enumerate(labels)}
    lengths = np.array([len(ls) for ls in label_sets], dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    # labels of combinations no selected record uses have no position: never looked up
    flat = np.array([position.get(x, -1) for ls in label_sets for x in ls], dtype=np.int64)
    rec_combo = combo[rows]
    counts = lengths[rec_combo] if len(rows) else np.zeros(0, np.int64)
    expanded_rows = np.repeat(rows, counts)
    starts = np.repeat(offsets[rec_combo] - (np.cumsum(counts) - counts), counts)
    slot = flat[starts + np.arange(len(expanded_rows))] if len(expanded_rows) else expanded_rows
    return _CategoryAxis(labels, expanded_rows, slot)


def _label_sets(records: pd.DataFrame) -> tuple[np.ndarray, list[list[str]]]:
    """Factorised category column: per record a combination id, per id its labels."""
    if "category" not in records:
        return np.zeros(len(records), np.int64), [[]]
    combo, uniques = _factorized(records["category"])
    sets = [_split_labels(u) for u in uniques]
    if (combo < 0).any():
        combo = np.where(combo < 0, len(sets), combo)
        sets.append([])
    return combo.astype(np.int64), sets


def _split_labels(text: Any) -> list[str]:
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return []
    labels = [part.strip() for part in str(text).split(CATEGORY_SEPARATOR.strip())]
    return list(dict.fromkeys(label for label in labels if label))


# --- counting ---------------------------------------------------------------------------------


@dataclass
class _Counts:
    key: np.ndarray  # per (record, label) pair: flat cell id (region, period, category)
    victims: np.ndarray  # the pair's victims, NaN as 0
    known: np.ndarray  # whether the pair's record states victims
    incidents: np.ndarray | None = None  # pairs each key stands for (None: one each)


def _count(
    records: pd.DataFrame,
    region_slot: np.ndarray,
    periods: _PeriodAxis,
    cats: _CategoryAxis,
) -> _Counts:
    """Flat cell id for each selected (record, label) pair, with its victim figures."""
    n_p, n_c = len(periods.labels) + 1, len(cats.labels)
    key = (region_slot[cats.rows] * n_p + periods.slot[cats.rows]) * n_c + cats.slot
    victims = _victims(records)[cats.rows]
    return _Counts(key, np.nan_to_num(victims), ~np.isnan(victims))


def _table(
    counts: _Counts,
    axis: _RegionAxis,
    periods: _PeriodAxis,
    cats: _CategoryAxis,
    by_category: bool,
) -> pd.DataFrame:
    """Output rows: the zero-filled grid when small enough, else only the non-zero cells."""
    n_r, n_p, n_c = len(axis.codes), len(periods.labels) + 1, len(cats.labels)
    r_used = np.zeros(n_r, bool)
    p_used = np.zeros(n_p, bool)
    if len(counts.key):
        r_used = np.bincount(counts.key // (n_p * n_c), minlength=n_r) > 0
        p_used = np.bincount(counts.key // n_c % n_p, minlength=n_p) > 0
    keep_r = np.concatenate((np.ones(axis.n_regions, bool), r_used[axis.n_regions :]))
    keep_p = np.concatenate((np.ones(n_p - 1, bool), p_used[-1:]))
    zero_filled = int(keep_r.sum()) * int(keep_p.sum()) * n_c <= MAX_GRID_ROWS
    if zero_filled:
        r, p, c = (
            a.ravel()
            for a in np.meshgrid(
                np.flatnonzero(keep_r), np.flatnonzero(keep_p), np.arange(n_c), indexing="ij"
            )
        )
        cell = (r * n_p + p) * n_c + c
        size = n_r * n_p * n_c
        figures = [
            np.bincount(counts.key, weights=counts.incidents, minlength=size),
            np.bincount(counts.key, weights=counts.victims, minlength=size),
            np.bincount(counts.key, weights=counts.known, minlength=size),
        ]
        values = [f[cell] for f in figures]
        previous = [np.where(p >= 1, f[np.maximum(cell - n_c, 0)], np.nan) for f in figures[:2]]
    elif n_r * n_p * n_c <= _DENSE_CELLS:  # the same cells, without sorting the pairs
        size = n_r * n_p * n_c
        pairs = np.bincount(counts.key, minlength=size)
        figures = [
            pairs  # one incident per pair unless told otherwise
            if counts.incidents is None
            else np.bincount(counts.key, weights=counts.incidents, minlength=size),
            np.bincount(counts.key, weights=counts.victims, minlength=size),
            np.bincount(counts.key, weights=counts.known, minlength=size),
        ]
        cell = np.flatnonzero(pairs)
        values = [f[cell] for f in figures]
        r, p, c = cell // (n_p * n_c), cell // n_c % n_p, cell % n_c
        before = np.maximum(cell - n_c, 0)
        # an absent cell's figures are 0 already
        previous = [np.where(p >= 1, f[before], np.nan) for f in figures[:2]]
    else:
        cell, inverse = np.unique(counts.key, return_inverse=True)
        values = [
            np.bincount(inverse, weights=counts.incidents, minlength=len(cell)),
            np.bincount(inverse, weights=counts.victims, minlength=len(cell)),
            np.bincount(inverse, weights=counts.known, minlength=len(cell)),
        ]
        r, p, c = cell // (n_p * n_c), cell // n_c % n_p, cell % n_c
        found = np.searchsorted(cell, cell - n_c)
        hit = (found < len(cell)) & (cell[np.minimum(found, len(cell) - 1)] == cell - n_c)
        previous = [
            np.where(p >= 1, np.where(hit, v[np.minimum(found, len(cell) - 1)], 0), np.nan)
            for v in values[:2]
        ]
    real_period = p < n_p - 1
    change = [
        np.where(real_period, v - prev, np.nan)
        for v, prev in zip(values[:2], previous, strict=True)
    ]
    return _frame(values, change, (r, p, c), axis, periods, cats, by_category, zero_filled)


def _frame(
    values: list[np.ndarray],
    change: list[np.ndarray],
    cells: tuple[np.ndarray, np.ndarray, np.ndarray],
    axis: _RegionAxis,
    periods: _PeriodAxis,
    cats: _CategoryAxis,
    by_category: bool,
    zero_filled: bool,
) -> pd.DataFrame:
    r, p, c = cells
    labels = np.array(periods.labels + [IMPRECISE_PERIOD], dtype=object)
    nat = np.array(["NaT"], dtype="datetime64[D]")
    starts = np.concatenate((periods.starts, nat)).astype("datetime64[s]")
    ends = np.concatenate((periods.ends, nat)).astype("datetime64[s]")
    columns: dict[str, Any] = {
        "region_code": _take(axis.codes, r),
        "region_name": _take(axis.names, r),
        "parent_code": _take(axis.parents, r),
        "period": _take(list(labels), p),
        "period_start": pd.to_datetime(starts[p]),
        "period_end": pd.to_datetime(ends[p]),
    }
    if by_category:
        columns["category"] = _take(cats.labels, c)
    columns["incidents"] = values[0].astype(np.int64)
    columns["victims"] = values[1].astype(float)
    columns["victims_known"] = values[2].astype(np.int64)
    columns["incidents_change"] = pd.array(change[0], dtype="Float64").astype("Int64")
    columns["victims_change"] = change[1]
    table = pd.DataFrame(columns)
    table.attrs["zero_filled"] = zero_filled
    return table


def _take(values: list[Any], index: np.ndarray) -> pd.Series:
    """``values[index]`` as a text column (None → NA), taken in Arrow: fast on 1M rows."""
    dictionary = pa.array([None if v is None else str(v) for v in values], type=pa.string())
    taken = pc.take(dictionary, pa.array(np.asarray(index, dtype=np.int64)))
    return pd.Series(pd.array(taken, dtype=_TEXT))


# --- dates and periods ------------------------------------------------------------------


def _days(values: pd.Series) -> np.ndarray:
    """Days since 1970-01-01 as int64, ``_NO_PERIOD`` for missing dates."""
    dates = pd.to_datetime(values).to_numpy(dtype="datetime64[ns]")
    days = dates.astype("datetime64[D]").astype(np.int64)
    return np.where(np.isnat(dates), _NO_PERIOD, days)


def _day_number(value: Any) -> int:
    day = pd.Timestamp(value)
    if pd.isna(day):
        raise ValueError(f"Expected a date such as 2024-03-05 for start/end, got {value!r}.")
    return int(np.datetime64(day.date(), "D").astype(np.int64))


def _precision_ranks(values: pd.Series) -> np.ndarray:
    """0 day, 1 month, 2 year; unknown text counts as day (validate guarantees the values)."""
    ranks = {p.value: r for p, r in _PRECISION_RANK.items()}
    codes, uniques = _codes(values)
    by_unique = np.array([ranks.get(str(u).lower(), 0) for u in uniques] + [0], dtype=np.int64)
    return by_unique[codes]


def _ordinals(days: np.ndarray, period: Period) -> np.ndarray:
    """Consecutive integer per period: consecutive periods differ by exactly 1."""
    missing = days == _NO_PERIOD
    if missing.all():
        return days.copy()
    lo, hi = days[~missing].min(), days[~missing].max()
    if hi - lo > 4 * len(days) + 1000:  # sparse dates: compute each one
        return np.where(missing, _NO_PERIOD, _ordinal_of_days(np.where(missing, lo, days), period))
    # Dates span few distinct days: compute each day of the span once, then look up.
    table = _ordinal_of_days(np.arange(lo, hi + 1), period)
    return np.where(missing, _NO_PERIOD, table[np.where(missing, lo, days) - lo])


def _ordinal_of_days(days: np.ndarray, period: Period) -> np.ndarray:
    if period == Period.DAY:
        return days.copy()
    if period == Period.ISO_WEEK:  # 1970-01-01 was a Thursday: Monday weeks
        return np.floor_divide(days + 3, 7)
    if period == Period.ACLED_WEEK:  # 1970-01-03 was a Saturday: Saturday weeks
        return np.floor_divide(days - 2, 7)
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    if period == Period.MONTH:
        return months
    return np.floor_divide(months, 3 if period == Period.QUARTER else 12)


def _period_bounds(ordinals: np.ndarray, period: Period) -> tuple[np.ndarray, np.ndarray]:
    """First and last day (datetime64[D]) of each period."""
    if period == Period.DAY:
        start = ordinals
        stop = ordinals + 1
    elif period == Period.ISO_WEEK:
        start = ordinals * 7 - 3
        stop = start + 7
    elif period == Period.ACLED_WEEK:
        start = ordinals * 7 + 2
        stop = start + 7
    else:
        months = {Period.MONTH: 1, Period.QUARTER: 3, Period.YEAR: 12}[period]
        first_month = (ordinals * months).astype("datetime64[M]")
        start = first_month.astype("datetime64[D]").astype(np.int64)
        stop = (first_month + months).astype("datetime64[D]").astype(np.int64)
    start = np.asarray(start, dtype=np.int64).astype("datetime64[D]")
    end = (np.asarray(stop, dtype=np.int64) - 1).astype("datetime64[D]")
    return start, end


def _labels(ordinals: np.ndarray, starts: np.ndarray, period: Period) -> list[str]:
    days = [str(d) for d in starts]
    if period in (Period.DAY, Period.ACLED_WEEK):
        return days
    if period == Period.ISO_WEEK:
        out = []
        for d in starts:
            year, week, _ = pd.Timestamp(d).isocalendar()
            out.append(f"{year}-W{week:02d}")
        return out
    if period == Period.MONTH:
        return [d[:7] for d in days]
    if period == Period.QUARTER:
        return [f"{d[:4]}-Q{(int(d[5:7]) - 1) // 3 + 1}" for d in days]
    return [d[:4] for d in days]


def _to_dates(days: np.ndarray) -> pd.Series:
    values = np.where(days == _NO_PERIOD, np.datetime64("NaT"), days.astype("datetime64[D]"))
    return pd.Series(pd.to_datetime(values.astype("datetime64[s]")))


def _victims(records: pd.DataFrame) -> np.ndarray:
    if "victims" not in records:
        return np.full(len(records), np.nan)
    return pd.to_numeric(records["victims"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


# --- the dashboard: every view of one set of records from arrays derived once ----------------


class RecordViews:
    """Views of one set of joined records (a dashboard's), from per-record arrays derived once.

    A dashboard recomputes what it shows on every widget change; turning a million dates
    into days and periods and re-reading victims took most of that time. This keeps the
    derived arrays (day numbers, victims, record periods per unit) and answers the
    dashboard's questions with the same rules and results as :func:`select_rows`,
    :func:`region_totals` and :func:`time_series`. Keep one per set of records (the app
    keeps it on the user's own analysis, never in a cache shared between users).
    """

    def __init__(self, records: pd.DataFrame, joined: pd.DataFrame) -> None:
        if len(joined) != len(records):
            raise ValueError(
                f"joined has {len(joined):,} rows but records has {len(records):,}: pass the "
                "frame join_points returned for these same records."
            )
        self.records = records
        self.joined = joined
        first = _days(records["date"])
        last = _days(records["date_end"]) if "date_end" in records else first
        self._first_day = first
        self._last_day = np.where(last == _NO_PERIOD, first, last)
        victims = _victims(records)
        self._victims = np.nan_to_num(victims)  # NaN counted as 0, as everywhere
        self._victims_known = ~np.isnan(victims)
        self._periods: dict[Period, tuple[np.ndarray, np.ndarray]] = {}

    def select(
        self,
        levels: Any,
        *,
        level: int | None,
        start: Any = None,
        end: Any = None,
        categories: Sequence[str] | None = None,
        regions: Sequence[str] | None = None,
    ) -> _Selection:
        """The records a view counts (``.rows``): the filters of :func:`summarize`."""
        keep = np.ones(len(self.records), dtype=bool)
        notes: dict[str, Any] = {}
        if start is not None or end is not None:
            keep &= self._in_window(start, end, notes)
        wanted = places = None
        if categories is not None:
            wanted = sorted({str(c) for c in categories})
            keep &= _has_category(self.records, wanted)
        if regions is not None:
            places = [str(r) for r in regions]
            keep &= _in_regions(self.joined, levels, level, places)
        return _Selection(np.flatnonzero(keep), wanted, places, notes)

    def region_totals(self, levels: Any, level: int, selection: _Selection) -> pd.DataFrame:
        """``incidents``, ``victims``, ``victims_known`` per region of the level, indexed by
        ``region_code``: :func:`region_totals` without dates and the no-region buckets."""
        _level_frame(levels, level)  # fail early on an unknown level
        axis = _region_axis(levels, self.joined, level, selection)
        slot = axis.slot[selection.rows]
        size, n = len(axis.codes), axis.n_regions
        victims = np.bincount(slot, weights=self._victims[selection.rows], minlength=size)
        known = np.bincount(slot, weights=self._victims_known[selection.rows], minlength=size)
        table = pd.DataFrame(
            {
                "incidents": np.bincount(slot, minlength=size)[:n],
                "victims": victims[:n],
                "victims_known": known[:n].astype(np.int64),
            },
            index=pd.Index(pd.array(axis.codes[:n], dtype="str"), name="region_code"),
        )
        table.attrs.update(selection.notes)
        return table

    def time_series(
        self,
        selection: _Selection,
        *,
        period: Period | str,
        by_category: bool = True,
        start: Any = None,
        end: Any = None,
    ) -> pd.DataFrame:
        """:func:`time_series` of the selected records (``start``/``end`` widen the axis)."""
        period = Period.parse(period)
        first, precise = self._record_periods(period)
        rows = selection.rows
        periods = _period_axis_of(first, precise, first[rows][precise[rows]], period, start, end)
        cats = _category_axis(self.records, selection, by_category)
        axis = _RegionAxis(np.zeros(0, np.int64), ["*"], ["*"], [None], 1)
        key = periods.slot[cats.rows] * len(cats.labels) + cats.slot
        counts = _Counts(key, self._victims[cats.rows], self._victims_known[cats.rows])
        table = _table(counts, axis, periods, cats, by_category)
        table = table.drop(columns=["region_code", "region_name", "parent_code"])
        table.attrs.update(selection.notes)
        return table.reset_index(drop=True)

    def period_labels(
        self, selection: _Selection, *, period: Period | str, start: Any = None, end: Any = None
    ) -> list[str]:
        """Labels of the periods :func:`time_series` would list for the selection, in order."""
        period = Period.parse(period)
        first, precise = self._record_periods(period)
        chosen = first[selection.rows][precise[selection.rows]]
        empty = np.zeros(0, np.int64)
        return _period_axis_of(empty, empty.astype(bool), chosen, period, start, end).labels

    def _record_periods(self, period: Period) -> tuple[np.ndarray, np.ndarray]:
        if period not in self._periods:
            self._periods[period] = _record_periods(self.records, period)
        return self._periods[period]

    def _in_window(self, start: Any, end: Any, notes: dict[str, Any]) -> np.ndarray:
        """:func:`_in_window` from the day numbers derived once."""
        return _window(self._first_day, self._last_day, start, end, notes)


def period_bounds(label: str, period: Period | str) -> tuple[Any, Any]:
    """First and last day (``datetime.date``) of the period labelled ``label``.

    Labels are those :func:`summarize` writes: ``2024-03-05`` (day; ACLED week: its
    Saturday), ``2024-W10``, ``2024-03``, ``2024-Q1``, ``2024``.
    """
    period = Period.parse(period)
    text = str(label).strip()
    wrong = f"Period {label!r} is not a {period.value} label {_EXAMPLE[period]}."
    try:
        if period == Period.ISO_WEEK:
            year, week = text.split("-W")
            first = pd.Timestamp.fromisocalendar(int(year), int(week), 1)
        elif period == Period.QUARTER:
            year, quarter = text.split("-Q")
            first = pd.Timestamp(int(year), 3 * int(quarter) - 2, 1)
        else:
            first = pd.Timestamp(text if period != Period.YEAR else f"{int(text)}-01-01")
        ordinal = _ordinals(np.array([_day_number(first)]), period)
    except (ValueError, TypeError) as exc:
        raise ValueError(wrong) from exc
    starts, ends = _period_bounds(ordinal, period)
    if _labels(ordinal, starts, period) != [text]:
        raise ValueError(wrong)
    return pd.Timestamp(starts[0]).date(), pd.Timestamp(ends[0]).date()


_EXAMPLE = {
    Period.DAY: "(e.g. 2024-03-05)",
    Period.ISO_WEEK: "(e.g. 2024-W10)",
    Period.ACLED_WEEK: "(the week's Saturday, e.g. 2024-03-02)",
    Period.MONTH: "(e.g. 2024-03)",
    Period.QUARTER: "(e.g. 2024-Q1)",
    Period.YEAR: "(e.g. 2024)",
}
