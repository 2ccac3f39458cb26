"""Column allow-lists: only named columns leave a public export.

Free text, sources, record ids and line numbers can never be allowed, whatever an
allow-list says.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from crisismap.i18n import _
from crisismap.publish.suppression import SUPPRESSED

# Columns that may leave in a public export (everything else is dropped).
PUBLIC_SUMMARY_COLUMNS: tuple[str, ...] = (
    "region_code",
    "region_name",
    "parent_code",
    "period",
    "period_start",
    "period_end",
    "category",
    "incidents",
    "victims",
    SUPPRESSED,
)
# Points carry the view's period, not their dates: a date would place them in finer
# periods whose figures other exports suppress (see report.view_points).
PUBLIC_POINT_COLUMNS: tuple[str, ...] = (
    "period",
    "category",
    "victims",
    "lat",
    "lon",
    *(f"adm{n}_{part}" for n in range(6) for part in ("code", "name")),
)
# Never public, whatever an allow-list says: free text, sources, identifiers.
NEVER_PUBLIC: frozenset[str] = frozenset(
    {
        "id",
        "line",
        "file",
        "description",
        "source",
        "notes",
        "comments",
        "text",
        "narrative",
        "name",
        "names",
        "victim_name",
        "witness_name",
        "contact",
    }
)


def allow_columns(frame: pd.DataFrame, allowed: Iterable[str]) -> pd.DataFrame:
    """``frame`` with only the ``allowed`` columns (in frame order); the rest never leaves.

    Raises ValueError when ``allowed`` names a column that is never public (free text,
    sources, record ids, line numbers): an allow-list cannot open those.
    """
    allowed = list(allowed)
    refused = sorted(c for c in allowed if str(c).lower() in NEVER_PUBLIC)
    if refused:
        raise ValueError(
            _(
                "Column(s) {columns} can never be in a public export (free text, sources and "
                "identifiers): remove them from the allow-list."
            ).format(columns=", ".join(refused))
        )
    keep = [c for c in frame.columns if c in set(allowed)]
    return frame[keep].copy()
