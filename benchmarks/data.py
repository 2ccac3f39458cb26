"""Benchmark inputs, generated with a fixed seed: polygon layers and incident CSVs.

Three polygon layers, one admin level each:

* ``caf3`` — the real OCHA COD-AB admin-3 of the Central African Republic (175 regions),
  read from ``../shared/data`` (never copied into the project);
* ``world1`` — the bundled Natural Earth admin-1 of every country (4,646 regions);
* ``synth2`` — a synthetic admin-2 layer of ~3,000 regions with jagged borders: a
  Voronoi tessellation whose shared edges are replaced by fractal (midpoint-displacement)
  lines, each computed once so that neighbours share every vertex.

Incidents are a well-formed UTF-8 CSV (ISO dates, decimal degrees with 4–5 decimals,
one category, a victim count, a free-text description often holding commas and quotes,
so roughly half the lines are quoted), with points clustered around "hotspots" inside
the layer and some background noise (a few points fall outside every polygon).
"""

from __future__ import annotations

import csv
import hashlib
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
SHARED_DATA = Path(os.environ.get("CRISISMAP_SHARED_DATA", ROOT.parent / "shared" / "data"))
SEED = 20_261_128
LAYERS = ("caf3", "world1", "synth2")
CATEGORIES = (
    "killing",
    "arbitrary detention",
    "torture",
    "sexual violence",
    "looting",
    "forced displacement",
    "attack on school",
    "attack on health care",
)
SOURCES = ("partner NGO", "media report", "witness statement", "UN report", "local monitor")
_WORDS = (
    "armed men entered the village",
    "residents fled toward the river",
    "the market was burned",
    "two houses were looted",
    "a checkpoint was set up at night",
    "witnesses described uniforms",
    "the clinic was closed",
    "students were sent home",
    "several people were taken",
    "a convoy was stopped",
)


@dataclass(frozen=True)
class Layer:
    """One admin level to join against: the frame and its level number."""

    key: str
    level: int
    frame: gpd.GeoDataFrame

    @property
    def vertices(self) -> int:
        return int(shapely.get_num_coordinates(self.frame.geometry.to_numpy()).sum())


# --- polygon layers ------------------------------------------------------------------------


def load_layer(key: str) -> Layer:
    """The polygon layer ``key`` (``caf3``, ``world1``, ``synth2``), built once and cached."""
    from crisismap.boundaries import load_boundaries

    if key == "caf3":
        folder = SHARED_DATA / "boundaries" / "caf_codab"
        if not folder.is_dir():
            raise SystemExit(f"COD-AB CAF not found at {folder}: set CRISISMAP_SHARED_DATA.")
        bset = load_boundaries(folder)
        return Layer(key, 3, _slim(bset.levels[3]))
    if key == "world1":
        return Layer(key, 1, _slim(load_boundaries("world").levels[1]))
    if key == "synth2":
        path = OUT / "synth2.parquet"
        if not path.is_file():
            OUT.mkdir(parents=True, exist_ok=True)
            synthetic_admin2().to_parquet(path)
        return Layer(key, 2, gpd.read_parquet(path))
    raise SystemExit(f"Unknown layer {key!r}: expected one of {', '.join(LAYERS)}.")


def _slim(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    columns = [c for c in ("code", "name", "parent_code", "country", "geometry") if c in frame]
    return frame[columns].reset_index(drop=True)


def synthetic_admin2(
    n_regions: int = 3_000,
    depth: int = 7,
    bbox: tuple[float, float, float, float] = (14.0, 2.0, 27.0, 11.0),
    seed: int = SEED,
) -> gpd.GeoDataFrame:
    """~``n_regions`` regions with fractal shared borders (2**depth segments per edge)."""
    rng = np.random.default_rng(seed)
    xmin, ymin, xmax, ymax = bbox
    # Denser cells around a few "towns", like real admin-2 layers.
    towns = rng.uniform((xmin, ymin), (xmax, ymax), size=(12, 2))
    dense = towns[rng.integers(0, len(towns), n_regions // 3)] + rng.normal(
        0, 0.6, (n_regions // 3, 2)
    )
    sparse = rng.uniform((xmin, ymin), (xmax, ymax), size=(n_regions - len(dense), 2))
    seeds = np.clip(
        np.vstack([dense, sparse]), (xmin + 1e-3, ymin + 1e-3), (xmax - 1e-3, ymax - 1e-3)
    )
    frame = shapely.box(*bbox)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=frame))
    cells = shapely.intersection(cells, frame)
    edges = shapely.get_parts(shapely.line_merge(shapely.union_all(shapely.boundary(cells))))
    frame_line = shapely.boundary(frame)
    jagged = []
    for i, edge in enumerate(edges):
        coords = shapely.get_coordinates(edge)
        on_frame = shapely.covered_by(edge, shapely.buffer(frame_line, 1e-9))
        jagged.append(coords if on_frame else _fractal(coords, depth, seed + i))
    noded = shapely.node(shapely.multilinestrings([shapely.linestrings(c) for c in jagged]))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    faces = faces[shapely.area(faces) > 0]
    centres = shapely.get_coordinates(shapely.point_on_surface(faces))
    order = np.lexsort((centres[:, 0], np.round(centres[:, 1], 6)))
    faces = faces[order]
    codes = [f"SY{i + 1:05d}" for i in range(len(faces))]
    return gpd.GeoDataFrame(
        {
            "code": codes,
            "name": [f"District {i + 1}" for i in range(len(faces))],
            "parent_code": pd.array([None] * len(faces), dtype="str"),
            "country": "SYN",
        },
        geometry=faces,
        crs="EPSG:4326",
    )


def _fractal(coords: np.ndarray, depth: int, seed: int) -> np.ndarray:
    """Midpoint displacement of each segment of a polyline (end points kept)."""
    rng = np.random.default_rng(seed)
    points = coords
    amplitude = 0.12
    for _ in range(depth):
        a, b = points[:-1], points[1:]
        mid = (a + b) / 2
        d = b - a
        normal = np.column_stack((-d[:, 1], d[:, 0]))
        mid = mid + normal * rng.normal(0, amplitude, (len(mid), 1))
        out = np.empty((len(points) + len(mid), 2))
        out[0::2] = points
        out[1::2] = mid
        points = out
        amplitude *= 0.7
    return points


# --- incidents ---------------------------------------------------------------------------


def incidents_path(layer: str, n: int, defects: float = 0.0, *, bbox: bool = False) -> Path:
    suffix = f"_d{defects:g}" if defects else ""
    return OUT / f"incidents_{layer}{'_bbox' if bbox else ''}_{n}{suffix}.csv"


def ensure_incidents(layer: Layer, n: int, defects: float = 0.0, *, bbox: bool = False) -> Path:
    """The CSV of ``n`` incidents over ``layer`` (written once, reused while it exists)."""
    path = incidents_path(layer.key, n, defects, bbox=bbox)
    if not path.is_file():
        OUT.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(incidents_csv(layer, n, defects=defects, bbox=bbox))
        tmp.replace(path)
    return path


def incidents_csv(
    layer: Layer, n: int, *, defects: float = 0.0, seed: int = SEED, bbox: bool = False
) -> bytes:
    """``n`` incidents as CSV bytes (``defects``: share of lines given a typical defect).

    ``bbox``: spread evenly over the layer's bounding box instead of around hotspots (over
    the Central African Republic about half of them fall outside the country).
    """
    rng = np.random.default_rng(seed + n + zlib.crc32(layer.key.encode()))  # 32-bit: exact
    lon, lat = _bbox_points(layer, n, rng) if bbox else _points(layer, n, rng)
    days = rng.integers(0, 7 * 365, n) + np.datetime64("2018-01-01", "D")
    victims = rng.geometric(0.25, n) - 1
    has_victims = rng.random(n) > 0.2
    desc = np.array(
        [f"{a}, {b}" for a in _WORDS for b in _WORDS]
        + [f'{a}; "{b}"' for a in _WORDS[:3] for b in _WORDS],
        dtype=object,
    )
    frame = pd.DataFrame(
        {
            "id": np.char.add("INC-", np.char.zfill(np.arange(1, n + 1).astype(str), 8)),
            "date": days.astype(str),
            "latitude": np.char.mod("%.4f", lat),
            "longitude": np.char.mod("%.5f", lon),
            "category": np.array(CATEGORIES, dtype=object)[rng.integers(0, 8, n)],
            "victims": np.where(has_victims, victims.astype(str), ""),
            "description": desc[rng.integers(0, len(desc), n)],
            "source": np.array(SOURCES, dtype=object)[rng.integers(0, len(SOURCES), n)],
        }
    )
    # Minimal quoting, as spreadsheets write it: only values holding a comma or a quote.
    data = frame.to_csv(index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n").encode()
    return _add_defects(data, defects, rng) if defects else data


def _points(layer: Layer, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Points clustered around hotspots inside the layer's regions, plus background."""
    geoms = layer.frame.geometry.to_numpy()
    anchors = shapely.get_coordinates(shapely.point_on_surface(geoms))
    weights = rng.pareto(1.2, len(anchors)) + 0.05
    hot = rng.choice(len(anchors), size=n, p=weights / weights.sum())
    spread = np.sqrt(shapely.area(geoms))[hot] * 0.4
    lon = anchors[hot, 0] + rng.normal(0, 1, n) * spread
    lat = anchors[hot, 1] + rng.normal(0, 1, n) * spread
    background = rng.random(n) < 0.03
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    lon[background] = rng.uniform(xmin, xmax, background.sum())
    lat[background] = rng.uniform(ymin, ymax, background.sum())
    lon = np.clip(lon, -179.99, 179.99)
    lat = np.clip(lat, -89.99, 89.99)
    zero = (np.round(lat, 4) == 0) & (np.round(lon, 5) == 0)
    lat[zero] = 0.5
    return lon, lat


def _bbox_points(layer: Layer, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Points spread evenly over the layer's bounding box."""
    xmin, ymin, xmax, ymax = shapely.total_bounds(layer.frame.geometry.to_numpy())
    return rng.uniform(xmin, xmax, n), rng.uniform(ymin, ymax, n)


def _add_defects(data: bytes, share: float, rng: np.random.Generator) -> bytes:
    """Give ``share`` of the data lines one of: stray quote, extra field, bad date, bad lat."""
    lines = data.split(b"\n")
    body = np.arange(1, len(lines) - 1)
    picked = rng.choice(body, size=int(len(body) * share), replace=False)
    for k, i in enumerate(sorted(picked)):
        line = lines[i]
        kind = k % 4
        if kind == 0:
            lines[i] = line.replace(b",", b',"', 1)  # stray quote after the id
        elif kind == 1:
            lines[i] = line + b",extra"
        elif kind == 2:
            lines[i] = line.replace(b",20", b",31/02/20", 1)
        else:
            parts = line.split(b",")
            parts[2] = b"north"
            lines[i] = b",".join(parts)
    return b"\n".join(lines)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def ensure_parquet(layer: Layer, rows: int, partition_rows: int) -> Path:
    """``rows`` validated incidents over ``layer`` as GeoParquet partitions (written once).

    Each partition is its own seeded CSV, read and validated by crisismap and written
    with :func:`crisismap.distributed.write_partitions`: what a large archive looks like
    after validation, ready for the distributed engine.
    """
    from crisismap import distributed
    from crisismap.records import presets
    from crisismap.records import read as ingest
    from crisismap.records import validation as validate

    folder = OUT / f"parquet_{layer.key}_{rows}_{partition_rows}"
    done = folder / "_COMPLETE"
    if done.is_file():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for k, start in enumerate(range(0, rows, partition_rows)):
        n = min(partition_rows, rows - start)
        raw = ingest.read_csv_bytes(incidents_csv(layer, n, seed=SEED + 7919 * (k + 1)))
        mapping = presets.detect_mapping(raw.header, raw.hxl_tags)
        records = validate.validate(raw, mapping).records
        distributed.write_partitions(records, folder, rows_per_partition=n, start_index=k)
    done.write_text(f"{rows} rows in partitions of {partition_rows}\n")
    return folder


# --- mostly empty fields (a Kobo-style export of a long form, most questions unanswered) ----------


def empty_fields_path(megabytes: int) -> Path:
    return OUT / f"empty_fields_{megabytes}mb.csv"


def ensure_empty_fields(megabytes: int) -> Path:
    """A CSV of about ``megabytes`` MB whose fields are mostly ``""`` (written once)."""
    path = empty_fields_path(megabytes)
    if not path.is_file():
        OUT.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(empty_fields_csv(megabytes * 1_000_000))
        tmp.replace(path)
    return path


def empty_fields_csv(size: int, columns: int = 100) -> bytes:
    """About ``size`` bytes: every field quoted, 6 filled and ``columns - 6`` empty per row."""
    header = ["id", "date", "latitude", "longitude", "category", "description"]
    blank = ',""' * (columns - len(header))
    header += [f"q{i}" for i in range(len(header), columns)]
    row = '"{0}","2024-01-{1:02d}","{2:.4f}","{3:.4f}","killing",""' + blank + "\n"
    lines = [",".join(header) + "\n"]
    total, i = len(lines[0]), 0
    while total < size:
        line = row.format(i, 1 + i % 28, 4 + (i % 97) / 100, 18 + (i % 89) / 100)
        lines.append(line)
        total += len(line)
        i += 1
    return "".join(lines).encode("ascii")
