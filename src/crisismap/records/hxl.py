"""HXL: a hashtag row (``#date``, ``#geo+lat``) right under the header is not a record.

Its tags are kept per column, for column detection (:mod:`crisismap.records.presets`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from crisismap.i18n import _

if TYPE_CHECKING:
    from crisismap.records.parse import Records

_HXL_TAG = re.compile(r"^#[a-z][a-z0-9_]*(\s*\+\s*[a-z][a-z0-9_]*)*$", re.IGNORECASE)


def take_hxl_row(
    records: Records, header: list[str], notes: list[str]
) -> tuple[list[str] | None, int | None]:
    """Remove a hashtag row right after the header; return its tags per column."""
    if not records.rows:
        return None, None
    tags = _hxl_tags(records.rows[0], len(header))
    if tags is None:
        return None, None
    start, _ = records.pop_first()
    _hxl_note(start + 1, tags, notes)
    return tags, start + 1


def take_hxl_frame(
    frame: pd.DataFrame, starts: np.ndarray, notes: list[str]
) -> tuple[pd.DataFrame, np.ndarray, list[str] | None, int | None]:
    """:func:`take_hxl_row` for rows already in a frame (the fast path's)."""
    if frame.empty:
        return frame, starts, None, None
    tags = _hxl_tags([str(v) for v in frame.iloc[0]], frame.shape[1])
    if tags is None:
        return frame, starts, None, None
    _hxl_note(int(starts[0]), tags, notes)
    return frame.iloc[1:].reset_index(drop=True), starts[1:], tags, int(starts[0])


def _hxl_tags(cells: list[str], width: int) -> list[str] | None:
    """Tags per column when most filled cells are HXL hashtags, else None."""
    cells = [c.strip() for c in cells]
    filled = [c for c in cells if c]
    tagged = sum(1 for c in filled if _HXL_TAG.match(c))
    if not filled or tagged * 2 <= len(filled):
        return None
    tags = [_normalise_tag(c) if _HXL_TAG.match(c) else "" for c in cells]
    return (tags + [""] * width)[:width]


def _hxl_note(line: int, tags: list[str], notes: list[str]) -> None:
    notes.append(
        _(
            "Line {line} is an HXL hashtag row ({sum} tags); used for column "
            "detection and not counted as a record."
        ).format(line=line, sum=sum(1 for t in tags if t))
    )


def _normalise_tag(cell: str) -> str:
    parts = [p.strip().lower() for p in cell.split("+")]
    return "+".join(p for p in parts if p)
