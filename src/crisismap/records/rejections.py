"""Rejected records kept columnar: file lines, raw values as Arrow, reasons rendered on demand.

A file whose every record is rejected held, per record, a list of rendered reasons and a
Python string per raw value: about 30 times the file's size. Here the raw values are
Arrow columns taken from the read table, each reason is the check's :class:`Issue` (its
rows and values, already columnar) and the table of :meth:`Rejections.frame` (what users
download: line, the file's fields, raw text, reasons) is built in Arrow only when asked
for, its messages rendered a block at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from crisismap.records.columns import TEXT, arrow, take_arrow

if TYPE_CHECKING:
    from crisismap.records.checks import Issue
    from crisismap.records.parse import RejectedLine

# Columns of the rejected table that are not the file's (a file column of that name is renamed).
META_COLUMNS = ("line", "raw_text", "reasons")
_RENDER_BLOCK = 1 << 16  # messages rendered as Python strings at a time
_JOIN = pa.scalar(" | ", pa.large_string())


@dataclass
class Rejections:
    """Every rejected record in file order; ``frame()`` is the table users see."""

    lines: np.ndarray
    names: list[str]  # the file's column names as output (``line`` → ``line (file)``)
    values: list[pa.Array | pa.ChunkedArray]  # one per name, null where a record had none
    raw_text: pa.Array | pa.ChunkedArray
    # (positions in the table, the issue): each error's reasons, rendered in frame()
    reasons: list[tuple[np.ndarray, Issue]] = field(default_factory=list)
    parse_positions: np.ndarray = field(default_factory=lambda: np.array([], np.int64))
    parse_reasons: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.lines)

    def frame(self) -> pd.DataFrame:
        """One row per rejected record: ``line``, the raw fields, ``raw_text``, ``reasons``."""
        columns: dict[str, pd.Series] = {"line": pd.Series(self.lines.astype(np.int64))}
        for name, values in zip(self.names, self.values, strict=True):
            columns[name] = _text(values)
        columns["raw_text"] = _text(self.raw_text)
        columns["reasons"] = _text(self._reasons())
        return pd.DataFrame(columns, index=pd.RangeIndex(len(self)), copy=False)

    def _reasons(self) -> pa.Array:
        """``code: message`` of every reason of each record, ``" | "``-joined in check order."""
        n = len(self)
        out = pa.nulls(n, pa.large_string())
        for positions, issue in self.reasons:
            rendered = pa.concat_arrays(
                [
                    _render(issue, a, min(a + _RENDER_BLOCK, len(positions)))
                    for a in range(0, len(positions), _RENDER_BLOCK)
                ]
                or [pa.array([], pa.large_string())]
            )
            out = _join(out, _scatter(rendered, positions, n))
        if len(self.parse_positions):
            parsed = pa.array(self.parse_reasons, pa.large_string())
            out = _join(out, _scatter(parsed, self.parse_positions, n))
        return out


def build(
    frame: pd.DataFrame,
    lines: np.ndarray,
    rows: np.ndarray,
    errors: Sequence[Issue],
    parsed: Sequence[RejectedLine],
) -> Rejections:
    """The rejections of ``rows`` of the read table (errors in ``errors``) and of the
    records that could not be read (``parsed``), merged in file order."""
    file_lines = np.concatenate(
        (np.asarray(lines, np.int64)[rows], np.array([r.line for r in parsed], np.int64))
    )
    order = np.argsort(file_lines, kind="stable")
    position = np.empty(len(order), np.int64)
    position[order] = np.arange(len(order))
    names = [f"{c} (file)" if c in META_COLUMNS else str(c) for c in frame.columns]
    values = []
    for k, name in enumerate(frame.columns):
        taken = take_arrow(arrow(frame[name]), rows)
        if parsed:
            extra = [r.fields[k] if k < len(r.fields) else None for r in parsed]
            taken = _ordered(taken, pa.array(extra, pa.large_string()), order)
        values.append(taken)
    raw_text = pa.array([r.raw_text for r in parsed], pa.large_string())
    raw_text = _ordered(pa.nulls(len(rows), pa.large_string()), raw_text, order)
    reasons = [
        (position[np.searchsorted(rows, issue.rows)], issue) for issue in errors if len(issue.rows)
    ]
    return Rejections(
        lines=file_lines[order],
        names=names,
        values=values,
        raw_text=raw_text,
        reasons=reasons,
        parse_positions=position[len(rows) :],
        parse_reasons=[f"{r.problem.code}: {r.problem.message}" for r in parsed],
    )


def _render(issue: Issue, a: int, b: int) -> pa.Array:
    """``code: message`` of the issue's rows ``a``..``b`` (Python strings for one block only)."""
    prefix = f"{issue.code}: "
    return pa.array([prefix + m for m in issue.messages(a, b)], pa.large_string())


def _ordered(first: pa.Array | pa.ChunkedArray, second: pa.Array, order: np.ndarray) -> pa.Array:
    chunks = list(first.chunks) if isinstance(first, pa.ChunkedArray) else [first]
    joined = pa.chunked_array([*chunks, second], pa.large_string())
    if len(second) == 0:
        return joined
    return joined.take(pa.array(order, pa.int64()))


def _scatter(values: pa.Array, positions: np.ndarray, n: int) -> pa.Array:
    """``values`` at ``positions`` of a length-``n`` array, null elsewhere."""
    index = np.zeros(n, np.int64)
    index[positions] = np.arange(len(positions))
    mask = np.ones(n, bool)
    mask[positions] = False
    return values.take(pa.array(index, mask=mask))


def _join(left: pa.Array, right: pa.Array) -> pa.Array:
    """``left | right`` where both are set, whichever is set elsewhere (null when neither)."""
    return pc.coalesce(pc.binary_join_element_wise(left, right, _JOIN), left, right)


def _text(values: pa.Array | pa.ChunkedArray) -> pd.Series:
    if values.type != pa.large_string():
        values = values.cast(pa.large_string())
    return pd.Series(pd.array(values, dtype=TEXT))
