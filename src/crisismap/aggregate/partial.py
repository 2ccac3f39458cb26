"""The figures of :func:`summarize` from partial counts, so the distributed engine can split them.

Each part of the records is counted on its own (:func:`partial_counts`) with ordinals
for periods and codes for regions, so no part needs the others' axes; the parts'
counts, concatenated, give :func:`summarize_partials`, which rebuilds the axes and
the output table exactly as :func:`summarize` does on all the records.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from crisismap.aggregate.axes import (
    CategoryAxis,
    PeriodAxis,
    RegionAxis,
    category_axis,
    period_axis_of,
    region_axis,
)
from crisismap.aggregate.cells import TEXT, Counts, cell_table, record_victims
from crisismap.aggregate.codes import equal_mask, factor_codes
from crisismap.aggregate.levels import level_frame
from crisismap.aggregate.periods import NO_PERIOD, record_periods
from crisismap.aggregate.select import Selection, selection
from crisismap.schema import MatchStatus, Period, View

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
PARTIAL_NO_PERIOD = NO_PERIOD


def partial_counts(
    records: pd.DataFrame,
    joined: pd.DataFrame,
    levels: Any,
    view: View,
    *,
    by_category: bool = True,
) -> pd.DataFrame:
    """Counts of one part of the records, to be combined by :func:`summarize_partials`.

    Any split of the records into parts gives, once the parts' counts are concatenated
    and combined, exactly :func:`summarize` of all records (same filters and rules):
    this is what lets the join and the counting run on many machines.
    """
    level, period = view.level, view.period
    sel = selection(records, joined, levels, level, **view.filters())
    cats = category_axis(records, sel, by_category)
    grouped = _grouped_pairs(records, joined, level, period, cats)
    partly = sel.notes.get("partly_in_range", 0)
    if not len(grouped) and partly:
        return _only_straddling(partly)
    return _partial_frame(grouped, joined, level, cats, partly)


def _grouped_pairs(
    records: pd.DataFrame, joined: pd.DataFrame, level: int, period: Period, cats: CategoryAxis
) -> pd.DataFrame:
    """The selected pairs summed by (region code, imprecise, period ordinal, label)."""
    first, precise = record_periods(records, period)
    rows = cats.rows
    codes, _ = factor_codes(joined[f"adm{level}_code"])
    code = codes[rows]
    imprecise = equal_mask(joined.get(f"adm{level}_match"), MatchStatus.IMPRECISE.value)
    imprecise = imprecise[rows] if len(imprecise) else np.zeros(len(rows), bool)
    victims = record_victims(records)[rows]
    frame = pd.DataFrame(
        {
            "code": code,
            "imprecise": imprecise & (code < 0),
            "period": np.where(precise[rows], first[rows], PARTIAL_NO_PERIOD),
            "label": cats.slot,
            "victims": np.nan_to_num(victims),
            "known": ~np.isnan(victims),
        }
    )
    return frame.groupby(["code", "imprecise", "period", "label"], sort=True).agg(
        incidents=("victims", "size"), victims=("victims", "sum"), known=("known", "sum")
    )


def _only_straddling(partly_in_range: int) -> pd.DataFrame:
    """The one row of a part whose records all straddle start/end: it carries their count."""
    return pd.DataFrame(
        {
            "region_code": pd.array([None], dtype=TEXT),
            "region_name": pd.array([None], dtype=TEXT),
            "imprecise": [False],
            "period": [PARTIAL_NO_PERIOD],
            "category": pd.array([""], dtype=TEXT),
            "incidents": [0],
            "victims": [0.0],
            "victims_known": [0],
            "partly_in_range": [partly_in_range],
        }
    )


def _partial_frame(
    grouped: pd.DataFrame, joined: pd.DataFrame, level: int, cats: CategoryAxis, partly: int
) -> pd.DataFrame:
    """The grouped pairs with codes, names and labels as text (see ``PARTIAL_COLUMNS``)."""
    keys = grouped.index.to_frame(index=False)
    label_of = np.array(cats.labels + [""], dtype=object)
    codes, names = factor_codes(joined[f"adm{level}_code"])
    code_text = np.append(np.array(names, dtype=object), None)
    name_text = np.append(_names_of_codes(joined, level, codes, names), None)
    partly_in_range = np.zeros(len(grouped), np.int64)
    partly_in_range[:1] = partly
    code = keys["code"].to_numpy()
    return pd.DataFrame(
        {
            "region_code": pd.array(code_text[code], dtype=TEXT),
            "region_name": pd.array(name_text[code], dtype=TEXT),
            "imprecise": keys["imprecise"].to_numpy(dtype=bool),
            "period": keys["period"].to_numpy(dtype=np.int64),
            "category": pd.array(label_of[keys["label"].to_numpy()], dtype=TEXT),
            "incidents": grouped["incidents"].to_numpy(dtype=np.int64),
            "victims": grouped["victims"].to_numpy(dtype=float),
            "victims_known": grouped["known"].to_numpy(dtype=np.int64),
            "partly_in_range": partly_in_range,
        }
    )


def _names_of_codes(
    joined: pd.DataFrame, level: int, codes: np.ndarray, categories: pd.Index
) -> np.ndarray:
    """Per category of the code column: the joined name of its first record (or None)."""
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
    view: View,
    *,
    by_category: bool = True,
) -> pd.DataFrame:
    """:func:`summarize` from the :func:`partial_counts` of every part (same arguments)."""
    level, period, start, end = view.level, view.period, view.start, view.end
    categories, regions = view.filters()["categories"], view.filters()["regions"]
    level_frame(levels, level)  # fail early on an unknown level
    frame = partials if isinstance(partials, pd.DataFrame) else pd.concat(partials)
    partly_in_range = int(frame["partly_in_range"].sum()) if len(frame) else 0
    summed = _summed(frame)
    keys = summed.index.to_frame(index=False)
    wanted = sorted({str(c) for c in categories}) if categories is not None else None
    places = [str(r) for r in regions] if regions is not None else None
    notes = {} if start is None and end is None else {"partly_in_range": int(partly_in_range or 0)}
    axis, region_slot = _regions_of_keys(keys, levels, level, wanted, places, notes)
    periods = _periods_of_keys(keys, period, start, end)
    cats = _categories_of_keys(keys, by_category, wanted)
    n_p, n_c = len(periods.labels) + 1, len(cats.labels)
    counts = Counts(
        key=(region_slot * n_p + periods.slot) * n_c + cats.slot,
        victims=summed["victims"].to_numpy(dtype=float),
        known=summed["victims_known"].to_numpy(dtype=float),
        incidents=summed["incidents"].to_numpy(dtype=float),
    )
    table = cell_table(counts, axis, periods, cats, by_category)
    table.attrs.update(notes)
    return table


def _summed(frame: pd.DataFrame) -> pd.DataFrame:
    """The parts' rows with incidents, summed per region, period and category."""
    return (
        frame[frame["incidents"] > 0]
        .groupby(
            ["region_code", "region_name", "imprecise", "period", "category"],
            dropna=False,
            sort=True,
        )[["incidents", "victims", "victims_known"]]
        .sum()
    )


def _regions_of_keys(
    keys: pd.DataFrame,
    levels: Any,
    level: int,
    wanted: list[str] | None,
    places: list[str] | None,
    notes: dict[str, Any],
) -> tuple[RegionAxis, np.ndarray]:
    """The region axis from a stand-in "joined" frame (one row per distinct region),
    and each key row's slot on it."""
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
    standin_sel = Selection(np.arange(len(standin)), wanted, places, notes)
    axis = region_axis(levels, standin, level, standin_sel)
    combo_of = (
        keys[["region_code", "region_name", "imprecise"]]
        .merge(combos.assign(_k=np.arange(len(combos))), how="left")["_k"]
        .to_numpy()
    )
    region_slot = axis.slot[combo_of] if len(combo_of) else np.zeros(0, np.int64)
    return axis, region_slot


def _periods_of_keys(keys: pd.DataFrame, period: Period, start: Any, end: Any) -> PeriodAxis:
    """The period axis spanning the keys' ordinals (and the window), keys mapped onto it."""
    ordinal = keys["period"].to_numpy(dtype=np.int64)
    precise = ordinal != PARTIAL_NO_PERIOD
    return period_axis_of(ordinal, precise, ordinal[precise], period, start, end)


def _categories_of_keys(
    keys: pd.DataFrame, by_category: bool, wanted: list[str] | None
) -> CategoryAxis:
    """The category axis of the keys' labels (the filter's, when there is one)."""
    labels_found = keys["category"].astype(str).to_numpy()
    if not by_category:
        labels = [""]
    elif wanted is not None:
        labels = list(wanted)
    else:
        labels = sorted(set(labels_found))
    position = {label: i for i, label in enumerate(labels)}
    cat_slot = np.array([position[x] for x in labels_found], dtype=np.int64)
    return CategoryAxis(labels, np.arange(len(keys)), cat_slot)
