"""Records of several datasets as one frame, each record id counted once.

A record found in an earlier dataset is dropped from later ones; when its content
differs it is listed as a conflict with the fields that differ, so nothing is dropped
silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Combined", "combine_records"]

# Columns that say where a record sits in its file, not what it says: they may differ
# between two copies of the same record.
_NOT_CONTENT = frozenset({"line", "warnings", "file", "dataset", "dataset_name"})


@dataclass
class Combined:
    """Records of several datasets with each id once, and what was dropped and why.

    ``records`` carries a ``dataset`` column (the id of the dataset each row came
    from). ``conflicts`` has one row per dropped copy whose content differs from the
    kept one (same id, different content); identical copies are only counted.
    """

    records: pd.DataFrame
    conflicts: pd.DataFrame
    summary: dict[str, int]


def combine_records(parts: Sequence[tuple[str, pd.DataFrame]]) -> Combined:
    """One frame of validated records from several datasets, each record id once.

    ``parts`` is ``[(dataset id, records), ...]`` in priority order. A record id found
    in an earlier dataset is dropped from later ones: when the content (every column
    but ``line``, ``warnings`` and ``file``) is the same it is a plain duplicate and only
    counted; when it differs it is a *conflict*, listed with the fields that differ so
    that nothing is dropped silently. Repeated ids inside one dataset are left alone
    (validation already flags them).
    """
    kept_frames: list[pd.DataFrame] = []
    conflicts: list[dict[str, Any]] = []
    seen: dict[str, tuple[str, dict[str, Any]]] = {}
    duplicates = 0
    total = 0
    for dataset_id, records in parts:
        total += len(records)
        ids = records["id"].astype("str").to_numpy(dtype=object)
        keep = np.ones(len(records), dtype=bool)
        content_cols = [c for c in records.columns if c not in _NOT_CONTENT]
        own: dict[str, tuple[str, dict[str, Any]]] = {}
        for j, record_id in enumerate(ids):
            if record_id in seen:
                keep[j] = False
                kept_in, kept_content = seen[record_id]
                content = _content(records, j, content_cols)
                differing = _differing(kept_content, content)
                if differing:
                    conflicts.append(
                        {
                            "id": record_id,
                            "dataset": dataset_id,
                            "kept_dataset": kept_in,
                            "line": _line(records, j),
                            "fields": ", ".join(differing),
                            "values": "; ".join(
                                f"{f}: {_show(content.get(f))} (kept: {_show(kept_content.get(f))})"
                                for f in differing
                            ),
                        }
                    )
                else:
                    duplicates += 1
            elif record_id not in own:
                own[record_id] = (dataset_id, _content(records, j, content_cols))
        seen.update(own)
        kept_frames.append(records.loc[keep].assign(dataset=dataset_id))
    columns = ["id", "dataset", "kept_dataset", "line", "fields", "values"]
    records_out = (
        pd.concat(kept_frames, ignore_index=True) if kept_frames else pd.DataFrame(columns=["id"])
    )
    return Combined(
        records=records_out,
        conflicts=pd.DataFrame(conflicts, columns=columns),
        summary={
            "records_in": total,
            "records_out": len(records_out),
            "identical_duplicates": duplicates,
            "conflicts": len(conflicts),
        },
    )


def _content(records: pd.DataFrame, j: int, columns: list[str]) -> dict[str, Any]:
    row = records.iloc[j]
    return {c: _norm(row[c]) for c in columns}


def _norm(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _differing(kept: Mapping[str, Any], other: Mapping[str, Any]) -> list[str]:
    names = list(kept) + [k for k in other if k not in kept]
    return [k for k in names if k != "id" and kept.get(k) != other.get(k)]


def _line(records: pd.DataFrame, j: int) -> int | None:
    if "line" not in records:
        return None
    value = records["line"].iloc[j]
    return None if pd.isna(value) else int(value)


def _show(value: Any) -> str:
    text = "empty" if value is None else repr(str(value))
    return text if len(text) <= 80 else text[:79] + "…"
