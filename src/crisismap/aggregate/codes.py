"""Text columns as integer codes, factorised once: region codes, date precisions, categories.

Every view reads the same million-row text columns; factorising them (and splitting the
multi-label category values) once per distinct value keeps each view to array work.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import numpy as np
import pandas as pd

from crisismap.schema import CATEGORY_SEPARATOR

NO_CATEGORY = "__uncategorised__"


def factor_codes(series: pd.Series) -> tuple[np.ndarray, pd.Index]:
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


def equal_mask(series: pd.Series | None, value: str) -> np.ndarray:
    """``series == value`` as a bool array (NA is False; empty when there is no column)."""
    if series is None:
        return np.zeros(0, bool)
    return (series == value).to_numpy(dtype=bool, na_value=False)


def category_labels(records: pd.DataFrame) -> list[str]:
    """Every category label present, sorted (multi-label values split; none left out).

    Splits the distinct values only, so a million records cost one factorisation
    (remembered across calls while the column is unchanged), not a million splits.
    """
    combo, sets = label_sets(records)
    used = np.flatnonzero(np.bincount(combo, minlength=len(sets)))
    return sorted({label for i in used for label in sets[i]})


def label_sets(records: pd.DataFrame) -> tuple[np.ndarray, list[list[str]]]:
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
    """The distinct non-empty labels of one multi-label value, in order."""
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return []
    labels = [part.strip() for part in str(text).split(CATEGORY_SEPARATOR.strip())]
    return list(dict.fromkeys(label for label in labels if label))
