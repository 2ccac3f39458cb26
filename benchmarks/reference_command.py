"""The reference command: what an analyst writes without crisismap, run as a fresh process.

``python benchmarks/reference_command.py INCIDENTS.csv POLYGONS.parquet CODE_FIELD OUT.csv``:
pandas ``read_csv``, ``geopandas.sjoin(predicate="intersects")`` against one admin layer,
incidents per region and month with ``groupby``, written with ``to_csv``. It reads the
one layer file it needs (no detection, no repairs, no validation of the records).
"""

from __future__ import annotations

import sys

import geopandas as gpd
import pandas as pd


def main(incidents: str, polygons: str, code_field: str, out: str) -> None:
    frame = pd.read_csv(incidents)
    regions = gpd.read_parquet(polygons, columns=[code_field, "geometry"])
    points = gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy(frame["longitude"], frame["latitude"]), crs=4326
    )
    joined = gpd.sjoin(points, regions.to_crs(4326), how="inner", predicate="intersects")
    month = pd.to_datetime(joined["date"]).dt.to_period("M").astype(str)
    counts = joined.groupby([joined[code_field], month]).size().rename("incidents")
    counts.rename_axis(["region_code", "period"]).reset_index().to_csv(out, index=False)


if __name__ == "__main__":
    main(*sys.argv[1:5])
