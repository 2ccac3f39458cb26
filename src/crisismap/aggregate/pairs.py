"""Each counted (record, label) pair and the cell it is counted in.

The same selection and axes as :func:`crisismap.aggregate.summarize`, so a pair's
``region_code``, ``period`` and ``category`` are exactly the keys of the row that counts
it: a public point can be published only where its cells are (see
:func:`crisismap.publish.published_rows`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crisismap.aggregate.axes import category_axis, period_axis, region_axis
from crisismap.aggregate.levels import level_frame
from crisismap.aggregate.select import selection
from crisismap.schema import IMPRECISE_PERIOD, View


def record_cells(
    records: pd.DataFrame, joined: pd.DataFrame, levels: Any, view: View
) -> pd.DataFrame:
    """One row per (record, label) pair the view counts.

    Returns ``row`` (the record's position in ``records``), ``region_code``, ``period``
    and ``category`` (by category, as :func:`summarize` counts by default).
    """
    level_frame(levels, view.level)  # fail early on an unknown level
    sel = selection(records, joined, levels, view.level, **view.filters())
    axis = region_axis(levels, joined, view.level, sel)
    periods = period_axis(records, sel.rows, view.period, view.start, view.end)
    cats = category_axis(records, sel, True)
    period_labels = np.array([*periods.labels, IMPRECISE_PERIOD], dtype=object)
    return pd.DataFrame(
        {
            "row": cats.rows.astype(np.int64),
            "region_code": pd.array(
                np.array(axis.codes, dtype=object)[axis.slot[cats.rows]], dtype="str"
            ),
            "period": pd.array(period_labels[periods.slot[cats.rows]], dtype="str"),
            "category": pd.array(np.array(cats.labels, dtype=object)[cats.slot], dtype="str"),
        }
    )
