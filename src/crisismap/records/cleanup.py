"""What the reader sets aside once the records are read: empty unnamed columns at the end
of the header, and records holding NUL bytes (a corrupt or mis-saved file)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crisismap.i18n import ngettext
from crisismap.problems import NUL_BYTE, NUL_BYTES, Problem
from crisismap.records.parse import RejectedLine, clip


def drop_empty_unnamed(
    frame: pd.DataFrame,
    header: list[str],
    tags: list[str] | None,
    trailing: int,
    notes: list[str],
) -> tuple[pd.DataFrame, list[str], list[str] | None]:
    """Drop columns from trailing blank header names when they hold no value at all."""
    drop = (
        [name for name in header[len(header) - trailing :] if not (frame[name].str.len() > 0).any()]
        if trailing
        else []
    )
    if not drop:
        return frame, header, tags
    notes.append(
        ngettext(
            "{n} empty unnamed column at the end of the header was ignored.",
            "{n} empty unnamed columns at the end of the header were ignored.",
            len(drop),
        ).format(n=len(drop))
    )
    keep = [i for i, name in enumerate(header) if name not in drop]
    header = [header[i] for i in keep]
    tags = [tags[i] for i in keep] if tags is not None else None
    return frame[header], header, tags


def reject_nul(
    frame: pd.DataFrame,
    starts: np.ndarray,
    rejected: list[RejectedLine],
    delimiter: str,
    problems: list[Problem],
) -> tuple[pd.DataFrame, np.ndarray, list[RejectedLine]]:
    """Records holding NUL characters (the file has some) are set aside: NUL means a
    corrupt or binary file."""
    if frame.empty:
        problems.append(_nul_problem(0))
        return frame, starts, rejected
    has_nul = np.zeros(len(frame), dtype=bool)
    for name in frame.columns:
        has_nul |= frame[name].str.contains("\x00", regex=False).to_numpy(dtype=bool)
    rejected = list(rejected)
    for j in np.flatnonzero(has_nul):
        fields = tuple(frame.iloc[j].astype(str))
        raw = delimiter.join(fields)
        line = int(starts[j])
        problem = NUL_BYTE.problem(line=line, value=clip(raw.replace("\x00", "\\0")))
        rejected.append(RejectedLine(line, fields, raw, problem))
    problems.append(_nul_problem(int(has_nul.sum())))
    keep = ~has_nul
    frame = frame[keep].reset_index(drop=True)
    return frame, starts[keep], sorted(rejected, key=lambda r: r.line)


def _nul_problem(records: int) -> Problem:
    return NUL_BYTES.problem(records=records)
