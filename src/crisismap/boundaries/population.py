"""Population per region, where a boundary file carries it (COD-AB / COD-PS ``T_TL``,
``Pop``, ``population``, ``POP2020``, ``Total_Pop``...), never guessed.

A column counts only when its name says population and every value it holds is a
non-negative number; a column the user names must be one, or loading stops and says so.
Regions without a figure keep NaN: "no population figure", never 0.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from crisismap.errors import BoundaryError
from crisismap.i18n import _

# t_tl, pop, population, total_pop, pop_total, pop_est, pop2020, population_2021, t_tl_2019...
_NAME = re.compile(
    r"^(?:t_tl|total_?pop(?:ulation)?|pop(?:ulation)?(?:_?(?:total|tot|est))?)"
    r"(?:_?(?P<year>(?:19|20)\d\d))?$",
    re.I,
)


def population_column(frame: pd.DataFrame, wanted: str | None = None) -> str | None:
    """The column of ``frame`` holding each region's population, or None.

    ``wanted`` (the user's choice) must exist and hold non-negative numbers. Otherwise
    the columns whose name says population and whose values all are non-negative
    numbers; of several, the latest year in the name, then the first in the file.
    """
    geometry = getattr(frame, "_geometry_column_name", None)
    if wanted:
        if wanted not in frame.columns:
            raise BoundaryError(
                _(
                    "Population field {wanted!r} is not in the boundaries: their columns are "
                    "{values}. Name one of them."
                ).format(wanted=wanted, values=", ".join(map(str, frame.columns)))
            )
        if not _counts(frame[wanted]):
            raise BoundaryError(
                _(
                    "Population field {wanted!r} holds values that are not non-negative "
                    "numbers. Name a column of population counts."
                ).format(wanted=wanted)
            )
        return wanted
    found = []
    for i, col in enumerate(frame.columns):
        match = _NAME.match(str(col))
        if col != geometry and match and _counts(frame[col]):
            found.append((-int(match["year"] or 0), i, col))
    return min(found)[2] if found else None


def population_values(column: pd.Series) -> pd.Series:
    """The column as float people counts: NaN where blank (no figure, never 0)."""
    values = pd.to_numeric(column, errors="coerce").astype("float64")
    return values.where(values >= 0)


def _counts(column: pd.Series) -> bool:
    """True when every non-blank value is a non-negative number, and there is one."""
    if pd.api.types.is_bool_dtype(column):
        return False
    text = column.astype("string").str.strip()
    present = column.notna() & (text != "")
    if not present.any():
        return False
    values = pd.to_numeric(column[present], errors="coerce").to_numpy(dtype=float)
    return bool(np.all(np.isfinite(values) & (values >= 0)))


def with_country_populations(frame: pd.DataFrame, table: dict) -> pd.DataFrame:
    """Admin-0 ``frame`` with ``population`` and ``population_source`` from ``table`` (the
    bundled ``world_population.json``: ``{"population": {ISO3: n}, "source", ...}``);
    countries it does not list get no figure (NaN), never 0."""
    people = pd.Series(table.get("population", {}), dtype="float64")
    values = frame["code"].map(people).astype("float64")
    source = table.get("short_source") or table.get("source", "")
    return frame.assign(
        population=values,
        population_source=pd.Series(source, index=frame.index, dtype="string").mask(values.isna()),
    )
