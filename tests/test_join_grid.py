"""The grid index (root grid, subdivided blocks) against the exact STRtree path.

Every test joins the same points twice, once with exact tests only and once through the
grid, forced small so that boundaries cross many cells and blocks nest, and asserts the
two answers are identical: region, tie-broken border choice and match status.
"""

from __future__ import annotations

import threading

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from crisismap import join
from crisismap.join import grid as join_grid
from crisismap.join import index as join_index


def level(geoms: list, codes: list[str] | None = None) -> gpd.GeoDataFrame:
    codes = codes or [f"R{i:02d}" for i in range(len(geoms))]
    data = {"code": codes, "name": codes, "parent_code": None}
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=4326)


def records(xy: np.ndarray) -> pd.DataFrame:
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    return pd.DataFrame({"lat": xy[:, 1], "lon": xy[:, 0]})


def joined(recs: pd.DataFrame, levels: dict, monkeypatch, *, grid: bool, **settings_):
    monkeypatch.setattr(join_grid, "GRID_MIN_POINTS", 0 if grid else 10**12)
    for name, value in settings_.items():
        monkeypatch.setattr(join_grid, name, value)
    join.clear_index_cache()
    return join.join_points(recs, levels)


def assert_grid_is_exact(recs, levels, monkeypatch, **grid_settings):
    """The grid's answer equals the exact one, for every record and level."""
    grid_settings = {"GRID_MAX_CELLS": 64, "SUBDIVIDE_MIN_PAIRS": 1, **grid_settings}
    exact = joined(recs, levels, monkeypatch, grid=False)
    gridded = joined(recs, levels, monkeypatch, grid=True, **grid_settings)
    pd.testing.assert_frame_equal(exact, gridded)
    return gridded


# --- layouts ------------------------------------------------------------------------------


def jagged_pair(seed: int = 1) -> list:
    """A square cut in two by a random-walk border: both sides share every vertex."""
    rng = np.random.default_rng(seed)
    xs = np.linspace(0, 4, 41)
    ys = 2 + np.cumsum(rng.normal(0, 0.15, len(xs)))
    ys[0] = ys[-1] = 2
    cut = list(zip(xs, ys, strict=True))
    south = shapely.Polygon([(0, -1), (4, -1), *cut[::-1]])
    north = shapely.Polygon([*cut, (4, 5), (0, 5)])
    return [south, north]


def patchwork() -> list:
    """A holed square with its hole filled, a triangle, a multipolygon, slivers."""
    outer = shapely.box(0, 0, 4, 4).difference(shapely.box(1, 1, 2, 2))
    return [
        outer,
        shapely.box(1, 1, 2, 2),
        shapely.Polygon([(4, 0), (6, 0), (4, 4)]),
        shapely.MultiPolygon([shapely.box(6, 0, 7, 1), shapely.box(4.5, 3.5, 5, 4)]),
        shapely.box(0, 4, 7, 4.001),  # thinner than any cell
    ]


def faulty() -> list:
    """Overlaps, a duplicate, a bow-tie, a multipolygon whose parts overlap, empties."""
    return [
        shapely.box(0, 0, 3, 3),
        shapely.box(2, 2, 5, 5),  # overlaps the first
        shapely.box(2, 2, 5, 5),  # duplicate
        shapely.Polygon([(5, 0), (7, 2), (7, 0), (5, 2)]),  # bow-tie
        shapely.MultiPolygon([shapely.box(0, 5, 2, 7), shapely.box(1, 6, 3, 8)]),
        shapely.Polygon(),
        None,
        shapely.box(3.5, 0.5, 4.5, 1.5),
    ]


def voronoi_layer(seed: int, n: int = 30, wobble: float = 0.0) -> list:
    """Voronoi cells of random seeds; ``wobble`` moves every vertex by a function of its
    own coordinates, so shared borders stay shared (and may cross themselves)."""
    rng = np.random.default_rng(seed)
    sites = shapely.multipoints(rng.uniform(0, 10, (n, 2)))
    cells = shapely.get_parts(shapely.voronoi_polygons(sites, extend_to=shapely.box(0, 0, 10, 10)))
    cells = shapely.intersection(cells, shapely.box(0, 0, 10, 10))

    def move(xy: np.ndarray) -> np.ndarray:
        return xy + wobble * np.sin(xy[:, ::-1] * 7.3 + xy * 3.1)

    return list(shapely.transform(cells, move) if wobble else cells)


def hard_points(geoms: list, rng: np.random.Generator, n_random: int = 400) -> np.ndarray:
    """Vertices, edge midpoints, random points and points clustered on vertices."""
    coords = shapely.get_coordinates([g for g in geoms if g is not None])
    mids = (coords[:-1] + coords[1:]) / 2
    xmin, ymin = coords.min(axis=0) - 1
    xmax, ymax = coords.max(axis=0) + 1
    random = rng.uniform((xmin, ymin), (xmax, ymax), (n_random, 2))
    hubs = coords[rng.choice(len(coords), 5)]
    crowd = np.repeat(hubs, 60, axis=0) + rng.normal(0, 1e-4, (300, 2))
    crowd[::7] = np.repeat(hubs, 60, axis=0)[::7]  # some exactly on the vertex
    pick = rng.choice(len(coords), min(len(coords), 300), replace=False)
    return np.vstack([coords[pick], mids[pick[pick < len(mids)]], random, crowd])


# --- tests --------------------------------------------------------------------------------


@pytest.mark.parametrize("max_cells", [16, 64, 4096])
def test_jagged_shared_border(max_cells, monkeypatch):
    geoms = jagged_pair()
    recs = records(hard_points(geoms, np.random.default_rng(2)))
    out = assert_grid_is_exact(recs, {1: level(geoms)}, monkeypatch, GRID_MAX_CELLS=max_cells)
    assert (out["adm1_match"] == "border").sum() > 50  # the border was really tested
    assert set(out["adm1_match"]) == {"inside", "border", "outside"}


def test_holes_multipolygons_and_slivers(monkeypatch):
    geoms = patchwork()
    recs = records(hard_points(geoms, np.random.default_rng(3)))
    assert_grid_is_exact(recs, {1: level(geoms)}, monkeypatch)


def test_overlapping_faulty_and_empty_geometries(monkeypatch):
    geoms = faulty()
    recs = records(hard_points(geoms, np.random.default_rng(4)))
    out = assert_grid_is_exact(recs, {1: level(geoms)}, monkeypatch)
    assert (out["adm1_match"] == "border").sum() > 40  # overlaps count as borders


def test_two_levels_keep_the_parent_rule(monkeypatch):
    coarse = jagged_pair(5)
    fine = [p for c in coarse for p in shapely.get_parts(shapely.intersection(c, voronoi_layer(6)))]
    fine = [p for p in fine if p.geom_type == "Polygon" and p.area > 0]
    parents = ["R00" if p.representative_point().within(coarse[0]) else "R01" for p in fine]
    levels = {1: level(coarse), 2: level(fine)}
    levels[2]["parent_code"] = parents
    recs = records(hard_points(coarse + fine, np.random.default_rng(7)))
    assert_grid_is_exact(recs, levels, monkeypatch)


def test_points_on_root_and_block_cell_edges(monkeypatch):
    """Points exactly on the lines between cells and sub-cells at every depth."""
    geoms = voronoi_layer(8)
    lev = {1: level(geoms)}
    rng = np.random.default_rng(9)
    warm = records(np.repeat(rng.uniform(0, 10, (40, 2)), 50, axis=0))
    joined(warm, lev, monkeypatch, grid=True, GRID_MAX_CELLS=64, SUBDIVIDE_MIN_PAIRS=1)
    grid = join_index._cache[next(iter(join_index._cache))].grid
    assert grid is not None and len(grid.blocks)
    xs = np.concatenate([grid.x0 + np.arange(grid.nx + 1) * grid.size, grid.b_x0])
    ys = np.concatenate([grid.y0 + np.arange(grid.ny + 1) * grid.size, grid.b_y0])
    xs = np.concatenate([xs, (grid.b_x0[:, None] + np.arange(17) * grid.b_size[:, None]).ravel()])
    ys = np.concatenate([ys, (grid.b_y0[:, None] + np.arange(17) * grid.b_size[:, None]).ravel()])
    xy = np.column_stack([rng.choice(xs, 3000), rng.choice(ys, 3000)])
    recs = records(np.vstack([xy, warm[["lon", "lat"]].to_numpy()]))
    assert_grid_is_exact(recs, lev, monkeypatch)


def test_crowded_points_nest_blocks_to_the_deepest_level(monkeypatch):
    geoms = jagged_pair(10)
    vertex = shapely.get_coordinates(geoms[0])[17]
    rng = np.random.default_rng(11)
    crowd = vertex + rng.normal(0, 1e-3, (5000, 2))
    crowd[:500] = vertex  # many points exactly on a vertex
    recs = records(crowd)
    assert_grid_is_exact(recs, {1: level(geoms)}, monkeypatch, SUBDIVIDE_MIN_PAIRS=32)
    grid = join_index._cache[next(iter(join_index._cache))].grid
    assert grid.b_depth.max() == join_grid._MAX_DEPTH


def test_points_far_outside_and_non_finite(monkeypatch):
    geoms = jagged_pair(12)
    xy = [(-1e6, 2), (2, 1e9), (1e300, -1e300), (np.inf, 2), (2, -np.inf), (np.nan, 2), (2, 2.5)]
    out = assert_grid_is_exact(records(np.array(xy)), {1: level(geoms)}, monkeypatch)
    assert list(out["adm1_match"])[:6] == ["outside"] * 5 + ["imprecise"]


def test_blocks_are_kept_and_reused_by_later_calls(monkeypatch):
    geoms = voronoi_layer(13, wobble=0.05)
    lev = {1: level(geoms)}
    rng = np.random.default_rng(14)
    monkeypatch.setattr(join_grid, "GRID_MIN_POINTS", 0)
    monkeypatch.setattr(join_grid, "GRID_MAX_CELLS", 256)
    monkeypatch.setattr(join_grid, "SUBDIVIDE_MIN_PAIRS", 1)
    join.clear_index_cache()
    first = records(hard_points(geoms, rng))
    join.join_points(first, lev)
    grid = join_index._cache[next(iter(join_index._cache))].grid
    blocks = len(grid.blocks)
    again = join.join_points(first, lev)
    assert len(grid.blocks) == blocks  # nothing new to subdivide
    second = records(rng.uniform(0, 10, (3000, 2)))
    gridded = join.join_points(second, lev)
    assert len(grid.blocks) > blocks
    monkeypatch.setattr(join_grid, "GRID_MIN_POINTS", 10**12)
    join.clear_index_cache()
    pd.testing.assert_frame_equal(join.join_points(first, lev), again)
    pd.testing.assert_frame_equal(join.join_points(second, lev), gridded)


def test_non_polygon_geometries_fall_back_to_exact_tests(monkeypatch):
    geoms = [*jagged_pair(15), shapely.LineString([(0, 0), (4, 4)])]
    recs = records(hard_points(geoms[:2], np.random.default_rng(16)) + [0, 0])
    assert_grid_is_exact(recs, {1: level(geoms)}, monkeypatch)
    assert join_index._cache[next(iter(join_index._cache))].grid is None


def test_find_swapped_through_the_grid(monkeypatch):
    geoms = voronoi_layer(17)
    rng = np.random.default_rng(18)
    xy = rng.uniform(-2, 12, (2000, 2))
    recs = pd.DataFrame({"lat": xy[:, 0], "lon": xy[:, 1]})  # swapped on purpose
    monkeypatch.setattr(join_grid, "GRID_MIN_POINTS", 10**12)
    join.clear_index_cache()
    exact = join.find_swapped(recs, {0: level(geoms)})
    monkeypatch.setattr(join_grid, "GRID_MIN_POINTS", 0)
    monkeypatch.setattr(join_grid, "GRID_MAX_CELLS", 64)
    monkeypatch.setattr(join_grid, "SUBDIVIDE_MIN_PAIRS", 1)
    join.clear_index_cache()
    join.join_points(records(xy), {0: level(geoms)})  # builds the grid
    pd.testing.assert_series_equal(join.find_swapped(recs, {0: level(geoms)}), exact)


def test_threads_share_one_index(monkeypatch):
    geoms = voronoi_layer(19, n=60, wobble=0.03)
    lev = {1: level(geoms)}
    rng = np.random.default_rng(20)
    batches = [records(hard_points(geoms, rng)) for _ in range(4)]
    expected = [joined(b, lev, monkeypatch, grid=False) for b in batches]
    monkeypatch.setattr(join_grid, "GRID_MIN_POINTS", 0)
    monkeypatch.setattr(join_grid, "GRID_MAX_CELLS", 128)
    monkeypatch.setattr(join_grid, "SUBDIVIDE_MIN_PAIRS", 1)
    join.clear_index_cache()
    got: dict[int, pd.DataFrame] = {}

    def run(k: int) -> None:
        got[k] = join.join_points(batches[k], lev)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(4):
        pd.testing.assert_frame_equal(got[k], expected[k])


def test_content_key_tells_ring_structure_apart():
    """Same coordinates, different rings: a square with a hole vs two polygons."""
    outer = [(0, 0), (4, 0), (4, 4), (0, 4), (0, 0)]
    inner = [(1, 1), (2, 1), (2, 2), (1, 2), (1, 1)]
    holed = np.array([shapely.Polygon(outer, [inner])], dtype=object)
    split = np.array([shapely.MultiPolygon([shapely.Polygon(outer), shapely.Polygon(inner)])])
    assert shapely.get_coordinates(holed).tolist() == shapely.get_coordinates(split).tolist()
    assert join_index._content_key(holed, holed)[0] != join_index._content_key(split, split)[0]


@pytest.mark.slow
@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    wobble=st.sampled_from([0.0, 0.02, 0.3]),
    max_cells=st.sampled_from([4, 32, 512]),
    sub=st.sampled_from([2, 4, 16]),
)
def test_random_layers_match_exact_tests(seed, wobble, max_cells, sub):
    geoms = voronoi_layer(seed, n=12, wobble=wobble)
    recs = records(hard_points(geoms, np.random.default_rng(seed), n_random=200))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(join_grid, "_SUB", sub)
        assert_grid_is_exact(recs, {1: level(geoms)}, mp, GRID_MAX_CELLS=max_cells)
