"""Spatial join: tiny hand-checkable squares, then real COD-AB CAF boundaries vs geopandas."""

from __future__ import annotations

from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from crisismap import join
from crisismap.errors import BoundaryError
from crisismap.join import grid as join_grid
from crisismap.join import index as join_index


def frame(rows: list[tuple], crs: int | None = 4326) -> gpd.GeoDataFrame:
    """(code, name, parent_code, geometry) rows as a boundary level."""
    codes, names, parents, geoms = zip(*rows, strict=True)
    data = {"code": codes, "name": names, "parent_code": parents, "country": "XXX"}
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=crs)


def squares() -> dict[int, gpd.GeoDataFrame]:
    """Admin-1 A | B side by side; admin-2 splits A into A1 | A2."""
    box = shapely.box
    return {
        1: frame([("A", "Alpha", "X", box(0, 0, 2, 2)), ("B", "Beta", "X", box(2, 0, 4, 2))]),
        2: frame(
            [
                ("A1", "A one", "A", box(0, 0, 1, 2)),
                ("A2", "A two", "A", box(1, 0, 2, 2)),
                ("B1", "B one", "B", box(2, 0, 4, 2)),
            ]
        ),
    }


def points(xy: list[tuple[float, float]], max_level: list | None = None, index=None):
    lon, lat = zip(*xy, strict=True) if xy else ((), ())
    data = {"lat": np.array(lat, float), "lon": np.array(lon, float)}
    if max_level is not None:
        data["max_level"] = pd.array(max_level, dtype="Int64")
    return pd.DataFrame(data, index=index)


def flat(joined: pd.DataFrame, level: int) -> list[list]:
    """[code, match] per record, None for NA."""
    codes = joined[f"adm{level}_code"].astype(object).where(joined[f"adm{level}_code"].notna())
    codes = [None if pd.isna(c) else c for c in codes]
    return [[c, str(m)] for c, m in zip(codes, joined[f"adm{level}_match"], strict=True)]


def test_inside_border_outside_on_squares():
    recs = points([(0.5, 0.5), (1.5, 1.0), (2.0, 1.0), (1.0, 1.0), (2.0, 2.0), (5.0, 5.0)])
    joined = join.join_points(recs, squares())
    assert list(joined.columns) == [
        "adm1_code",
        "adm1_name",
        "adm1_match",
        "adm2_code",
        "adm2_name",
        "adm2_match",
    ]
    assert flat(joined, 1) == [
        ["A", "inside"],
        ["A", "inside"],
        ["A", "border"],  # A|B border: A sorts first
        ["A", "inside"],
        ["A", "border"],  # shared corner on the outer edge
        [None, "outside"],
    ]
    assert flat(joined, 2) == [
        ["A1", "inside"],
        ["A2", "inside"],
        ["A2", "border"],  # A2|B1: the child of A (chosen above) wins
        ["A1", "border"],  # A1|A2: code order
        ["A2", "border"],
        [None, "outside"],
    ]
    assert joined["adm1_name"].tolist()[:2] == ["Alpha", "Alpha"]
    assert joined["adm2_name"].isna().tolist() == [False] * 5 + [True]


def test_border_tie_prefers_the_child_of_the_region_chosen_above():
    box = shapely.box
    levels = {
        1: frame([("Z", "Zed", None, box(0, 0, 1, 1)), ("B", "Bee", None, box(1, 0, 2, 1))]),
        2: frame([("A9", "a9", "Z", box(0, 0, 1, 1)), ("C1", "c1", "B", box(1, 0, 2, 1))]),
    }
    joined = join.join_points(points([(1.0, 0.5)]), levels)
    # B sorts before Z; at level 2 A9 would sort first, but C1 is B's child.
    assert flat(joined, 1) == [["B", "border"]]
    assert flat(joined, 2) == [["C1", "border"]]


def test_max_level_makes_finer_levels_imprecise():
    recs = points(
        [(0.5, 0.5), (0.5, 0.5), (0.5, 0.5), (0.5, 0.5), (np.nan, 0.5), (5.0, 5.0)],
        max_level=[pd.NA, 2, 1, -1, pd.NA, 1],
    )
    joined = join.join_points(recs, squares())
    assert flat(joined, 1) == [
        ["A", "inside"],
        ["A", "inside"],
        ["A", "inside"],
        [None, "imprecise"],
        [None, "imprecise"],  # no coordinates
        [None, "outside"],
    ]
    assert flat(joined, 2) == [
        ["A1", "inside"],
        ["A1", "inside"],
        [None, "imprecise"],  # a province centroid is not put in a district
        [None, "imprecise"],
        [None, "imprecise"],
        [None, "imprecise"],
    ]


def test_snap_distance_is_in_metres_not_degrees():
    # 0.0009 degrees east of B's edge: ~100 m at latitude 1, ~50 m at latitude 60.
    box = shapely.box
    levels = {
        1: frame([("N", "north", None, box(0, 59, 4, 61)), ("S", "south", None, box(0, 0, 4, 2))])
    }
    recs = points([(4.0009, 1.0), (4.0009, 60.0), (9.0, 9.0)])
    assert flat(join.join_points(recs, levels), 1) == [[None, "outside"]] * 3
    assert flat(join.join_points(recs, levels, snap_distance_m=60), 1) == [
        [None, "outside"],
        ["N", "snapped"],
        [None, "outside"],
    ]
    assert flat(join.join_points(recs, levels, snap_distance_m=110), 1) == [
        ["S", "snapped"],
        ["N", "snapped"],
        [None, "outside"],
    ]


def test_snap_picks_the_nearest_region():
    box = shapely.box
    levels = {1: frame([("A", "a", None, box(0, 0, 1, 1)), ("B", "b", None, box(1.002, 0, 2, 1))])}
    recs = points([(1.0005, 0.5), (1.0016, 0.5)])  # between the two, nearer A then nearer B
    joined = join.join_points(recs, levels, snap_distance_m=500)
    assert flat(joined, 1) == [["A", "snapped"], ["B", "snapped"]]


def test_result_is_aligned_to_the_records_index_and_accepts_a_boundary_set():
    recs = points([(0.5, 0.5), (3.0, 1.0)], index=[10, 20])
    joined = join.join_points(recs, SimpleNamespace(levels=squares()))
    assert joined.index.tolist() == [10, 20]
    assert joined["adm1_code"].tolist() == ["A", "B"]


def test_no_records_gives_empty_columns():
    joined = join.join_points(points([]), squares())
    assert len(joined) == 0
    assert "adm2_match" in joined.columns


def test_refuses_projected_boundaries_and_missing_columns():
    levels = squares()
    with pytest.raises(BoundaryError, match="EPSG:4326"):
        join.join_points(points([(0.5, 0.5)]), {1: levels[1].set_crs(3857, allow_override=True)})
    with pytest.raises(BoundaryError, match="code"):
        join.join_points(points([(0.5, 0.5)]), {1: levels[1].drop(columns="code")})
    with pytest.raises(BoundaryError):
        join.join_points(points([(0.5, 0.5)]), {})


def test_find_swapped_flags_points_that_land_inside_once_swapped():
    box = shapely.box
    levels = {0: frame([("UA", "Ukraine", None, box(30, 48, 32, 50))])}
    recs = pd.DataFrame(
        {
            "lat": [31.0, 49.0, 10.0, 120.0, np.nan, 31.0],
            "lon": [49.0, 31.0, 10.0, 31.0, 31.0, 49.0],
            "max_level": pd.array([pd.NA, pd.NA, pd.NA, pd.NA, pd.NA, -1], dtype="Int64"),
        }
    )
    # The last one says it is at sea (no admin level): outside is expected, not a swap.
    assert join.find_swapped(recs, levels).tolist() == [True, False, False, False, False, False]


# --- equivalence with geopandas on layouts with holes, shared edges and corners ----------


def patchwork() -> gpd.GeoDataFrame:
    """A square with a hole filled by another polygon, a triangle and a multipolygon."""
    outer = shapely.box(0, 0, 4, 4).difference(shapely.box(1, 1, 2, 2))
    tri = shapely.Polygon([(4, 0), (6, 0), (4, 4)])
    multi = shapely.MultiPolygon([shapely.box(6, 0, 7, 1), shapely.box(4.5, 3.5, 5, 4)])
    rows = [
        ("R", "ring", None, outer),
        ("H", "hole", None, shapely.box(1, 1, 2, 2)),
        ("T", "tri", None, tri),
        ("M", "multi", None, multi),
    ]
    return frame(rows)


def sjoin_expectation(recs: pd.DataFrame, level: gpd.GeoDataFrame) -> list[list]:
    """What the join must say, derived from geopandas.sjoin(predicate="intersects")."""
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(recs["lon"], recs["lat"]), crs=4326)
    hits = gpd.sjoin(pts, level[["code", "geometry"]], predicate="intersects")
    expected = []
    for i in range(len(recs)):
        codes = sorted(hits.loc[hits.index == i, "code"])
        status = {0: "outside", 1: "inside"}.get(len(codes), "border")
        expected.append([codes[0] if codes else None, status])
    return expected


coordinate = st.one_of(
    st.integers(-4, 28).map(lambda i: i / 4),  # many points exactly on edges and corners
    st.floats(-1, 7, allow_nan=False),
)


@pytest.mark.parametrize("grid", [None, {}, {"GRID_MAX_CELLS": 16, "SUBDIVIDE_MIN_PAIRS": 1}])
@settings(max_examples=25, deadline=None)
@given(xy=st.lists(st.tuples(coordinate, coordinate), min_size=1, max_size=60))
def test_matches_geopandas_sjoin(grid, xy):
    """Exact tests only, the grid, and a coarse grid subdivided wherever a point falls."""
    level = patchwork()
    join.clear_index_cache()
    settings_ = {"GRID_MIN_POINTS": 10**12} if grid is None else {"GRID_MIN_POINTS": 0, **grid}
    with pytest.MonkeyPatch.context() as mp:
        for name, value in settings_.items():
            mp.setattr(join_grid, name, value)
        joined = join.join_points(points(xy), {1: level})
    assert flat(joined, 1) == sjoin_expectation(points(xy), level)


# --- real boundaries ----------------------------------------------------------------------


def caf_levels(shared_data, numbers=(0, 1, 2, 3)) -> dict[int, gpd.GeoDataFrame]:
    """COD-AB CAF levels renamed to the boundary contract (code, name, parent_code)."""
    levels = {}
    for n in numbers:
        raw = gpd.read_parquet(shared_data / "boundaries" / "caf_codab" / f"caf_admin{n}.parquet")
        renamed = pd.DataFrame(
            {
                "code": raw[f"adm{n}_pcode"],
                "name": raw[f"adm{n}_name"],
                "parent_code": raw[f"adm{n - 1}_pcode"] if n else None,
                "country": "CAF",
            }
        )
        levels[n] = gpd.GeoDataFrame(renamed, geometry=raw.geometry.values, crs=4326)
    return levels


@pytest.mark.slow
def test_caf_grid_and_direct_paths_agree_with_sjoin(shared_data, monkeypatch):
    levels = caf_levels(shared_data)
    rng = np.random.default_rng(7)
    xmin, ymin, xmax, ymax = levels[0].total_bounds
    random_xy = np.column_stack([rng.uniform(xmin, xmax, 4000), rng.uniform(ymin, ymax, 4000)])
    # Polygon vertices of admin 3 lie on shared borders: the hard cases.
    vertices = shapely.get_coordinates(levels[3].geometry.values)
    on_borders = vertices[rng.choice(len(vertices), 1000, replace=False)]
    xy = np.vstack([random_xy, on_borders])
    recs = points([tuple(p) for p in xy])

    monkeypatch.setattr(join_grid, "GRID_MIN_POINTS", 10**12)
    join_index._cache.clear()
    direct = join.join_points(recs, levels)
    monkeypatch.setattr(join_grid, "GRID_MIN_POINTS", 0)
    join_index._cache.clear()
    gridded = join.join_points(recs, levels)
    pd.testing.assert_frame_equal(direct, gridded)
    # A coarse grid subdivided wherever a point falls near a boundary: blocks in blocks.
    monkeypatch.setattr(join_grid, "GRID_MAX_CELLS", 4096)
    monkeypatch.setattr(join_grid, "SUBDIVIDE_MIN_PAIRS", 1)
    join.clear_index_cache()
    pd.testing.assert_frame_equal(direct, join.join_points(recs, levels))

    for n in (1, 3):  # the parent rule only reorders ties, so compare unambiguous points
        expected = sjoin_expectation(recs, levels[n])
        got = flat(direct, n)
        single = [e[1] != "border" for e in expected]
        assert [g for g, s in zip(got, single, strict=True) if s] == [
            e for e, s in zip(expected, single, strict=True) if s
        ]
        borders = [g for g, e in zip(got, expected, strict=True) if e[1] == "border"]
        assert borders and all(g[1] == "border" for g in borders)
    # Levels stay nested at borders: the admin-3 region's parent is the admin-2 region.
    parent = dict(zip(levels[3]["code"], levels[3]["parent_code"], strict=True))
    both = direct["adm3_code"].notna() & direct["adm2_code"].notna()
    nested = direct.loc[both, "adm3_code"].astype(str).map(parent) == direct.loc[
        both, "adm2_code"
    ].astype(str)
    assert nested.mean() > 0.999


def test_missing_or_empty_geometries_and_empty_levels_match_nothing(monkeypatch):
    box = shapely.box
    level = frame(
        [
            ("A", "a", None, box(0, 0, 1, 1)),
            ("B", "b", None, None),
            ("C", "c", None, shapely.Polygon()),
        ]
    )
    recs = points([(0.5, 0.5), (5.0, 5.0)])
    for grid_min in (10**12, 0):
        monkeypatch.setattr(join_grid, "GRID_MIN_POINTS", grid_min)
        join_index._cache.clear()
        assert flat(join.join_points(recs, {1: level}), 1) == [["A", "inside"], [None, "outside"]]
        empty = join.join_points(recs, {1: level.iloc[:0]}, snap_distance_m=10)
        assert flat(empty, 1) == [[None, "outside"], [None, "outside"]]


def test_the_pipelines_sea_check_flags_what_find_swapped_flags():
    """The check on records that state nothing tests only swapped points inside the
    countries' box (cheap however many points lie outside): the same flags as testing
    every outside point in full."""
    from crisismap.problems import Report

    box = shapely.box
    levels = {
        0: frame(
            [
                ("UA", "Ukraine", None, box(30, 48, 32, 50)),
                ("MD", "Moldova", None, box(27, 46, 29, 48)),
            ]
        )
    }
    rng = np.random.default_rng(7)
    n = 4_000
    recs = pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "line": np.arange(2, n + 2),
            "lat": rng.uniform(-10, 60, n).round(3),
            "lon": rng.uniform(-10, 60, n).round(3),
            "warnings": np.zeros(n, dtype=np.int64),
            "max_level": pd.array([pd.NA] * (n - 50) + [-1] * 50, dtype="Int64"),
        }
    )
    inside = np.column_stack([rng.uniform(27, 32, 200), rng.uniform(46, 50, 200)]).round(3)
    recs.loc[:199, ["lat", "lon"]] = inside  # written lon/lat: some land in a country swapped
    joined = join.join_points(recs, levels)
    report = Report()
    flagged_records, _ = join.check_swapped(recs, joined, levels, report, main_share=0.0)
    flagged = flagged_records["warnings"].to_numpy() > 0
    expected = join.find_swapped(recs, levels).to_numpy()
    assert expected.sum() > 10  # the case is exercised
    assert (flagged == expected).all()
