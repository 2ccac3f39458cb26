"""Public exports made the ways a publisher makes them (the CLI and the library), and the
generated incidents of the release attacks (tests/adversarial/test_release_attacks.py).

A refused export is recorded, not raised: refusing a window or a k is a defence.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from crisismap import report
from crisismap.aggregate.periods import day_number
from crisismap.cli import main
from crisismap.errors import CrisismapError
from crisismap.schema import View
from tests.helpers.release_attack import Export, Release, figures_of_tables

CAF = "boundaries/caf_codab"
CATEGORIES = ("killing", "abduction", "looting")


def make_exports(
    release: Release,
    exports: Sequence[Export],
    *,
    analysis=None,
    input_path: Path | None = None,
    boundaries: str | None = None,
    workdir: Path | None = None,
    cli_args: Sequence[str] = (),
) -> None:
    """Make every export (library ones from ``analysis``, CLI ones from ``input_path``)."""
    for n, export in enumerate(exports):
        try:
            if export.via == "cli":
                out = workdir / f"x{n}.csv"
                tables = cli_tables(export, input_path, boundaries, out, cli_args)
                settings = _manifest_settings(out)
            else:
                tables, settings = library_tables(analysis, export)
        except Refused as exc:
            release.refused.append((export, str(exc)))
            continue
        if settings.get("zeros", "published") != "published":
            release.zeros_published = False
        # the k the export really applied (a dataset-wide k may replace the one asked for)
        tiles = settings.get("window_tiles")
        if tiles is not None:
            tiles = tuple((day_number(first), day_number(last)) for _, _, first, last in tiles)
        applied = replace(export, k=int(settings.get("k", export.k)), tiles=tiles)
        release.add(applied, figures_of_tables(tables))


def _manifest_settings(out: Path) -> dict:
    """The suppression settings the CLI wrote in the export's manifest (``{}``: none)."""
    manifest = out.with_name(f"{out.stem}.manifest.json")
    if not manifest.is_file():
        return {}
    doc = json.loads(manifest.read_text())
    publication = doc.get("parameters", {}).get("publication") or {}
    return publication.get("suppression") or {}


class Refused(Exception):
    """The export was refused with a sentence for the user."""


def library_tables(analysis, export: Export) -> tuple[dict[str, pd.DataFrame], dict]:
    view = View(
        export.level,
        export.period,
        start=export.start,
        end=export.end,
        categories=export.categories,
    )
    try:
        figures = report.view_figures(analysis, view, public=True, k=export.k)
    except (CrisismapError, ValueError) as exc:
        raise Refused(str(exc)) from exc
    tables = {
        "cells": figures.cells,
        "regions": figures.regions,
        "series": figures.series,
        "periods": figures.periods,
        "totals": figures.totals,
    }
    return tables, dict(figures.suppression or {})


def cli_tables(
    export: Export, input_path: Path, boundaries: str, out: Path, extra: Sequence[str]
) -> dict[str, pd.DataFrame]:
    """``crisismap summarize --public`` run in this process; its CSV's cells."""
    argv = [
        "summarize",
        str(input_path),
        "--boundaries",
        boundaries,
        "--level",
        str(export.level),
        "--period",
        export.period.value,
        "--public",
        "--k",
        str(export.k),
        "--out",
        str(out),
        *extra,
    ]
    if export.start is not None:
        argv += ["--start", export.start.isoformat()]
    if export.end is not None:
        argv += ["--end", export.end.isoformat()]
    for category in export.categories or ():
        argv += ["--category", category]
    if not export.by_category:
        argv.append("--no-categories")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    if code != 0:
        raise Refused(err.getvalue().strip().splitlines()[-1] if err.getvalue() else str(code))
    written = out if out.exists() else _sensitive_twin(out)
    cells = pd.read_csv(written, dtype=str, keep_default_na=False)
    assert "incidents" in cells, f"{written} has no incidents column: {list(cells)}"
    return {"cells": cells}


def _sensitive_twin(out: Path) -> Path:
    """Where the CLI wrote the file when it renamed it (never for --public, but say so)."""
    found = sorted(out.parent.glob(f"*{out.stem}*{out.suffix}"))
    assert found, f"the CLI reported success but wrote no {out}"
    return found[0]


# ----------------------------------------------------------------------------- data


def generated_incidents(
    shared_data: Path,
    *,
    prefectures: Sequence[str] = ("CF42", "CF62"),
    year: int = 2024,
    rate: float = 1.3,
    seed: int = 12,
) -> bytes:
    """Incidents in the sub-prefectures (COD-AB admin-2) of a few CAF prefectures: about
    ``rate`` per sub-prefecture × month × category, day dates, one category each, so many
    region-month cells hold 1 to 4 incidents."""
    rng = np.random.default_rng(seed)
    admin2 = gpd.read_parquet(shared_data / CAF / "caf_admin2.parquet")
    admin2 = admin2[admin2["adm1_pcode"].isin(prefectures)].sort_values("adm2_pcode")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "date", "latitude", "longitude", "category"])
    n = 0
    for geometry in admin2.geometry:
        inner = geometry.buffer(-0.02)  # away from borders: no point is snapped or doubted
        shapely.prepare(inner)
        for month in range(1, 13):
            days = pd.Period(f"{year}-{month:02d}").days_in_month
            for category in CATEGORIES:
                for _ in range(rng.poisson(rate)):
                    lon, lat = _point_in(inner, rng)
                    n += 1
                    day = rng.integers(1, days + 1)
                    writer.writerow(
                        [
                            f"g-{n:05d}",
                            f"{year}-{month:02d}-{day:02d}",
                            f"{lat:.5f}",
                            f"{lon:.5f}",
                            category,
                        ]
                    )
    return buffer.getvalue().encode()


def _point_in(polygon, rng: np.random.Generator) -> tuple[float, float]:
    x0, y0, x1, y1 = polygon.bounds
    while True:
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if shapely.contains_xy(polygon, x, y):
            return x, y
