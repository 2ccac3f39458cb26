"""Helpers on text columns shared by the record checks: strip, blank, missing-value words,
a few rows taken without converting the whole column, Arrow views of the strings.

The checks run on millions of rows: these stay in Arrow (or numpy) and build Python
strings only for the rows a problem is reported on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

MISSING_TOKENS = frozenset(
    {"", "na", "n/a", "n.a.", "nan", "null", "none", "unknown", "unk", "-", "--", "?", "nd"}
)
TEXT = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' default "str"


def take(values: Any, rows: np.ndarray) -> np.ndarray | pa.Array | pa.ChunkedArray:
    """``values[rows]``, without converting the whole column: Arrow strings stay Arrow (no
    Python string per row; read one with :func:`value_at`), anything else an object array.

    ``values`` may be a function returning the column: it is called only when needed.
    """
    if callable(values):
        values = values()
    if isinstance(values, pd.Series) and isinstance(values.array, pd.arrays.ArrowStringArray):
        return take_arrow(values.array.__arrow_array__(), rows)
    if isinstance(values, pd.Series):
        return values.iloc[rows].to_numpy(dtype=object)
    return np.asarray(values)[rows].astype(object)


def take_arrow(array: pa.ChunkedArray | pa.Array, rows: np.ndarray) -> pa.Array | pa.ChunkedArray:
    """``array[rows]`` for increasing ``rows``, chunk by chunk (``ChunkedArray.take`` would
    first join every chunk: a copy of the whole column)."""
    if isinstance(array, pa.Array):
        return array.take(pa.array(rows, pa.int64()))
    if len(rows) == len(array):  # every row (increasing, so in order): no copy
        return array
    ends = np.cumsum([len(chunk) for chunk in array.chunks])
    cuts = np.searchsorted(rows, ends, side="left")
    parts, lo = [], 0
    for k, chunk in enumerate(array.chunks):
        hi = int(cuts[k])
        if hi > lo:
            parts.append(chunk.take(pa.array(rows[lo:hi] - (ends[k] - len(chunk)), pa.int64())))
        lo = hi
    if not parts:
        return pa.array([], array.type)
    return parts[0] if len(parts) == 1 else pa.concat_arrays(parts)


def value_at(values: np.ndarray | pa.Array, k: int) -> Any:
    """Element ``k`` of what :func:`take` returned, as a Python value."""
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values[k].as_py()
    return values[k]


def strip(series: pd.Series) -> pd.Series:
    """Values without surrounding whitespace; the column itself when none has any."""
    if isinstance(series.array, pd.arrays.ArrowStringArray) and not _may_need_strip(
        series.array.__arrow_array__()
    ):
        return series
    return series.str.strip()


# First or last bytes that may belong to whitespace: ASCII spaces and separators, and
# any non-ASCII byte (Unicode spaces such as U+00A0 and U+3000 are multi-byte).
_MAYBE_SPACE = np.zeros(256, dtype=bool)
_MAYBE_SPACE[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True
_MAYBE_SPACE[128:] = True


def _may_need_strip(arr: pa.ChunkedArray | pa.Array) -> bool:
    """Whether some value may start or end with whitespace (looking at two bytes each)."""
    for chunk in arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]:
        if len(chunk) == 0:
            continue
        if chunk.type != pa.large_string():
            return True  # not worth special-casing: let pandas decide
        _, offsets_buf, data_buf = chunk.buffers()
        offsets = np.frombuffer(offsets_buf, np.int64)[chunk.offset : chunk.offset + len(chunk) + 1]
        if data_buf is None:
            continue
        data = np.frombuffer(data_buf, np.uint8)
        starts, stops = offsets[:-1], offsets[1:]
        filled = stops > starts
        if _MAYBE_SPACE[data[starts[filled]]].any() or _MAYBE_SPACE[data[stops[filled] - 1]].any():
            return True
    return False


def arrow(series: pd.Series) -> pa.ChunkedArray | pa.Array:
    """The Arrow strings behind a text column (no copy when it is Arrow-backed)."""
    if isinstance(series.array, pd.arrays.ArrowStringArray):
        return series.array.__arrow_array__()
    return pa.array(series, type=pa.large_string(), from_pandas=True)


def is_missing_token(series: pd.Series, where: np.ndarray | None = None) -> np.ndarray:
    """Missing-value words (NA, unknown, -, ...); only rows in ``where`` are looked at."""
    if where is None:
        return series.str.lower().isin(MISSING_TOKENS).to_numpy(dtype=bool)
    found = np.zeros(len(series), dtype=bool)
    rows = np.flatnonzero(where)
    if len(rows):
        found[rows] = series.iloc[rows].str.lower().isin(MISSING_TOKENS).to_numpy(dtype=bool)
    return found


def blank(series: pd.Series) -> np.ndarray:
    """Values that are empty once stripped, without building the stripped strings."""
    arr = arrow(series)
    found = pc.or_(pc.equal(pc.binary_length(arr), 0), pc.utf8_is_space(arr))
    return found.to_numpy(zero_copy_only=False).astype(bool, copy=False)


def text_take(labels: Sequence[str], codes: np.ndarray) -> pd.Series:
    """``labels[codes]`` as a text column, taken in Arrow (no million Python strings)."""
    taken = pc.take(pa.array(list(labels), type=pa.large_string()), pa.array(codes))
    return pd.Series(pd.array(taken, dtype=TEXT))


def plain_floats(arr: pa.ChunkedArray | pa.Array, plain: np.ndarray) -> np.ndarray:
    """The values matched as plain decimals as floats, NaN elsewhere.

    Casting the whole column skips a copy of the strings in the usual all-plain case.
    """
    source = arr if plain.all() else pc.if_else(plain, arr, None)
    value = pc.cast(source, pa.float64()).to_numpy(zero_copy_only=False)
    return value if plain.all() else np.where(plain, value, np.nan)


def has_any_byte(arr: pa.ChunkedArray | pa.Array, wanted: bytes) -> bool:
    """Whether any of these bytes occurs in the column's character data (or near it:
    a buffer may hold bytes of sliced-off values, so True is only a maybe)."""
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    for chunk in chunks:
        data = chunk.buffers()[2]
        if data is None:
            continue
        raw = np.frombuffer(data, dtype=np.uint8)
        if any((raw == byte).any() for byte in wanted):
            return True
    return False
