"""The measured pipelines: the pyarrow floor, the reference, and crisismap's own steps.

Each returns its result plus the seconds spent in each stage, so one run gives every
figure the harness prints. Nothing here prints or writes files.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.csv as pacsv

NO_SIZE_LIMIT = 1 << 40  # the harness reads files above the upload cap on purpose


@dataclass
class Timed:
    """A result and the seconds of each stage, in order."""

    result: Any = None
    stages: dict[str, float] = field(default_factory=dict)

    def run(self, stage: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        value = func(*args, **kwargs)
        self.stages[stage] = self.stages.get(stage, 0.0) + time.perf_counter() - start
        return value

    @property
    def total(self) -> float:
        return sum(self.stages.values())


def floor(path: Path) -> Timed:
    """pyarrow reading the CSV with its defaults (type inference, all cores)."""
    timed = Timed()
    timed.result = timed.run("read", pacsv.read_csv, path)
    return timed


def reference(path: Path, polygons: gpd.GeoDataFrame) -> Timed:
    """pandas ``read_csv`` + ``geopandas.sjoin(predicate="intersects")`` + ``groupby``.

    ``polygons`` is copied so that its spatial index is built in every run, as in a
    fresh process (crisismap's index cache is cleared the same way).
    """
    timed = Timed()
    frame = timed.run("read", pd.read_csv, path)
    joined = timed.run("join", _reference_join, frame, polygons.copy())
    timed.result = timed.run("aggregate", _reference_groupby, joined), joined
    return timed


def _reference_join(frame: pd.DataFrame, polygons: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    points = gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy(frame["longitude"], frame["latitude"]), crs=4326
    )
    return gpd.sjoin(points, polygons[["code", "geometry"]], how="left", predicate="intersects")


def _reference_groupby(joined: gpd.GeoDataFrame) -> pd.Series:
    month = pd.to_datetime(joined["date"]).dt.to_period("M")
    return joined.groupby([joined["code"], month, joined["category"]]).size()


def crisismap(path: Path, level: int, polygons: gpd.GeoDataFrame, *, cold: bool = True) -> Timed:
    """crisismap's steps: read, validate, join, aggregate by region x month x category."""
    from crisismap import aggregate, join
    from crisismap.records import presets
    from crisismap.records import read as ingest
    from crisismap.records import validation as validate
    from crisismap.schema import Period, View

    if cold:
        join.clear_index_cache()
    timed = Timed()
    raw = timed.run("read", ingest.read_csv_file, path, max_bytes=NO_SIZE_LIMIT)
    result = timed.run("validate", _validate, raw, presets, validate)
    levels = {level: polygons}
    joined = timed.run("join", join.join_points, result.records, levels)
    summary = timed.run(
        "aggregate",
        aggregate.summarize,
        result.records,
        joined,
        levels,
        View(level, Period.MONTH),
    )
    timed.result = (result, joined, summary)
    return timed


def _validate(raw: Any, presets: Any, validate: Any) -> Any:
    mapping = presets.detect_mapping(raw.header, raw.hxl_tags)
    return validate.validate(raw, mapping)


# --- agreement --------------------------------------------------------------------------


@dataclass
class Agreement:
    """crisismap's region per record against the reference's sjoin matches."""

    inside_same: int = 0
    outside_same: int = 0
    border: int = 0  # on two or more polygons: the reference lists each, crisismap picks one
    border_choice_ok: int = 0  # crisismap's pick is one of the reference's matches
    mismatches: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.mismatches == 0 and self.border_choice_ok == self.border


def agreement(
    records: pd.DataFrame, joined: pd.DataFrame, level: int, ref: pd.DataFrame
) -> Agreement:
    """Compare record by record (records aligned on the reference's row by file line)."""
    row = records["line"].to_numpy() - 2  # header on line 1, one record per line
    code = _text(joined[f"adm{level}_code"])  # "" where crisismap gives no region
    match = joined[f"adm{level}_match"].astype(str).to_numpy()
    ref_code = pd.Series(_text(ref["code"]), index=ref.index)
    hits = (ref_code != "").groupby(level=0).sum()
    n_hits = hits.reindex(row, fill_value=0).to_numpy()
    first = ref_code.groupby(level=0).max().reindex(row, fill_value="").to_numpy()
    out = Agreement()
    one = n_hits == 1
    same = one & (code == first) & (match == "inside")
    out.inside_same = int(same.sum())
    none = n_hits == 0
    outside = none & (match == "outside") & (code == "")
    out.outside_same = int(outside.sum())
    many = n_hits >= 2
    out.border = int(many.sum())
    if out.border:
        choices = ref_code[ref_code != ""].groupby(level=0).agg(set)
        picked = [
            c in choices.get(r, set()) and m == "border"
            for c, r, m in zip(code[many], row[many], match[many], strict=True)
        ]
        out.border_choice_ok = int(np.sum(picked))
    bad = (one & ~same) | (none & ~outside)
    out.mismatches = int(bad.sum())
    for k in np.flatnonzero(bad)[:5]:
        out.examples.append(
            f"line {row[k] + 2}: crisismap {code[k]} ({match[k]}), reference {first[k]}"
        )
    return out


def _text(values: pd.Series) -> np.ndarray:
    """Codes as plain str, "" for none (NaN, None and pd.NA alike)."""
    return values.astype(object).where(values.notna(), "").astype(str).to_numpy(dtype=object)
