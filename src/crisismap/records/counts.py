"""Numbers in the records: victim counts (whole, non-negative) and the location precision
that caps the admin level a record is attributed to (UCDP ``where_prec``, ACLED
``geo_precision``, plain admin levels)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from crisismap.i18n import N_, _
from crisismap.problems import (
    PRECISION_INVALID,
    VICTIMS_INVALID,
    VICTIMS_NEGATIVE,
    VICTIMS_NOT_INTEGER,
    ProblemType,
)
from crisismap.records.checks import Checks
from crisismap.records.columns import (
    MISSING_TOKENS,
    arrow,
    has_any_byte,
    is_missing_token,
    plain_floats,
    strip,
)

# what can be wrong with a victim count that is given, in the order it is flagged
_VICTIMS_PROBLEMS = (VICTIMS_NEGATIVE, VICTIMS_NOT_INTEGER, VICTIMS_INVALID)


def check_victims(checks: Checks) -> np.ndarray:
    """Victim counts as floats; missing words and unusable counts are NaN (the latter flagged)."""
    column = checks.col("victims")
    if column is None:
        return np.full(checks.n, np.nan)
    text = strip(checks.values(column))
    arr = arrow(text)
    plain = _plain_counts(arr)
    number = plain_floats(arr, plain)
    other = ~plain & ~is_missing_token(text, ~plain)
    kind = np.full(checks.n, -1, dtype=np.int8)  # index into _VICTIMS_PROBLEMS
    for j in np.flatnonzero(other):
        kind[j] = _VICTIMS_PROBLEMS.index(_victims_problem(text.iat[j]))
    for k, problem in enumerate(_VICTIMS_PROBLEMS):
        checks.flag(kind == k, problem, column, text)
    return number


def check_max_level(checks: Checks) -> pd.Series:
    """The finest admin level each record's location supports (NA: any level)."""
    column = checks.col("location_precision")
    scheme = checks.mapping.precision_scheme
    result = pd.Series(
        pd.arrays.IntegerArray(np.zeros(checks.n, np.int64), np.ones(checks.n, dtype=bool))
    )
    if column is None or scheme is None:
        return result
    text = strip(checks.values(column))
    codes, uniques = pd.factorize(text)
    levels, bad = [], []
    for value in uniques:
        level, ok = _precision_level(str(value), str(scheme))
        levels.append(level)
        bad.append(not ok)
    levels_arr = pd.array(levels + [pd.NA], dtype="Int64")
    result = pd.Series(levels_arr[codes])
    checks.flag(
        np.array(bad + [False], dtype=bool)[codes],
        PRECISION_INVALID,
        column,
        text,
        scheme=str(scheme),
        allowed=_(_PRECISION_HELP[str(scheme)]),
    )
    return result


_PLAIN_COUNT = r"^\+?\d+(\.0*)?$"


def _plain_counts(arr: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Values that are plain whole numbers (``_PLAIN_COUNT``).

    Without any of ``+ - . e E`` in the column the pattern is "ASCII digits only",
    which Arrow tests without a regex.
    """
    if has_any_byte(arr, b"+-.eE"):
        return pc.match_substring_regex(arr, _PLAIN_COUNT).to_numpy(zero_copy_only=False)
    digits = pc.fill_null(pc.ascii_is_decimal(arr), False)
    return digits.to_numpy(zero_copy_only=False).astype(bool)


def _victims_problem(text: str) -> ProblemType:
    try:
        value = float(text) if re.fullmatch(r"[+-]?\d+(\.\d+)?", text) else None
    except ValueError:
        value = None
    if value is None:
        return VICTIMS_INVALID
    if value < 0:
        return VICTIMS_NEGATIVE
    return VICTIMS_NOT_INTEGER


_PRECISION_TABLES: dict[str, dict[int, int | None]] = {
    "ucdp": {1: None, 2: None, 3: 2, 4: 1, 5: 0, 6: 0, 7: -1},
    "acled": {1: None, 2: None, 3: 1},
    "admin-level": {-1: -1, 0: 0, 1: 1, 2: 2, 3: 3, 4: 4},
}
_PRECISION_HELP = {
    "ucdp": N_("a whole number 1 to 7"),
    "acled": N_("1, 2 or 3"),
    "admin-level": N_("a whole number -1 to 4"),
}


def _precision_level(text: str, scheme: str) -> tuple[Any, bool]:
    """(max_level or NA, understood?) for one location-precision value."""
    if text.lower() in MISSING_TOKENS:
        return pd.NA, True
    match = re.fullmatch(r"[+-]?\d+(?:\.0*)?", text)
    table = _PRECISION_TABLES[scheme]
    if not match or int(float(text)) not in table:
        return pd.NA, False
    level = table[int(float(text))]
    return (pd.NA if level is None else level), True
