"""The map's browser payload: classes, TopoJSON regions, compact escaped points, offline.

Speed is not asserted here (``benchmarks/`` measures it); these tests check that the
light payload shows exactly what the figures say, and stays escaped.
"""

from __future__ import annotations

import json
import re
import warnings

import geopandas as gpd
import mapclassify
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

from crisismap import display, layers
from crisismap.display import classify, topology
from crisismap.layers import build_map, js_data, point_rows


def _decode(topo: dict) -> list:
    """TopoJSON back to shapely polygons (what topojson-client does in the browser)."""
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs = [np.cumsum(np.array(a, dtype=float), axis=0) * (sx, sy) + (tx, ty) for a in topo["arcs"]]

    def ring(refs: list[int]) -> list:
        points: list = []
        for ref in refs:
            arc = arcs[ref] if ref >= 0 else arcs[~ref][::-1]
            points.extend(arc[1:] if points else arc)
        return points

    out = []
    for geom in topo["objects"]["regions"]["geometries"]:
        if geom["type"] is None:
            out.append(None)
            continue
        polygons = [geom["arcs"]] if geom["type"] == "Polygon" else geom["arcs"]
        parts = [Polygon(ring(p[0]), [ring(h) for h in p[1:]]) for p in polygons]
        out.append(parts[0] if geom["type"] == "Polygon" else MultiPolygon(parts))
    return out


def _segments(points: np.ndarray) -> list[tuple]:
    """Each segment of a line as a pair of points, in a direction-free order."""
    return [tuple(sorted((tuple(a), tuple(b)))) for a, b in zip(points, points[1:], strict=False)]


# --------------------------------------------------------------------------- topology


def test_shared_borders_are_stored_once_and_regions_decode_exactly():
    outer = Polygon(box(0, 0, 2, 2).exterior.coords, [box(0.5, 0.5, 1.5, 1.5).exterior.coords])
    enclave = box(0.5, 0.5, 1.5, 1.5)
    right = box(2, 0, 4, 2)  # shares the edge x = 2 with outer
    islands = MultiPolygon([box(10, 10, 11, 11), box(12, 10, 13, 11)])
    speck = box(20, 20, 20.1, 20.1)  # smaller than the grid: nothing left to draw
    geoms = [outer, enclave, right, islands, speck]
    topo = topology(geoms, quantum=0.5)
    kinds = [g["type"] for g in topo["objects"]["regions"]["geometries"]]
    assert kinds == ["Polygon", "Polygon", "Polygon", "MultiPolygon", None]
    # the x = 2 edge, the rest of outer, the rest of right, the enclave loop, two islands
    assert len(topo["arcs"]) == 6
    a, b, c = (g["arcs"] for g in topo["objects"]["regions"]["geometries"][:3])
    assert a[1][0] in (b[0][0], ~b[0][0])  # outer's hole is the enclave's own ring
    arcs_of = [{r if r >= 0 else ~r for r in refs[0]} for refs in (a, c)]
    assert len(arcs_of[0] & arcs_of[1]) == 1  # the x = 2 edge, once for both
    decoded = _decode(topo)
    for original, back in zip(geoms[:4], decoded[:4], strict=True):
        assert back.equals(original)
    assert decoded[4] is None


def test_a_real_coverage_decodes_to_the_same_regions_with_every_border_once():
    from benchmarks import data

    frame = data.synthetic_admin2(n_regions=40, depth=3)
    geoms = shapely.set_precision(frame.geometry.to_numpy(), display.QUANTUM)
    topo = topology(geoms)
    decoded = _decode(topo)
    assert len(decoded) == len(geoms)
    for original, back in zip(geoms, decoded, strict=True):
        assert shapely.hausdorff_distance(original, back) < 1e-9
        assert abs(original.area - back.area) < 1e-9
    # every segment of every region's boundary is in exactly one arc
    arc_segments: list[tuple] = []
    for arc in topo["arcs"]:
        arc_segments += _segments(np.cumsum(np.array(arc), axis=0))
    assert len(arc_segments) == len(set(arc_segments))
    origin = np.array(topo["transform"]["translate"]) / display.QUANTUM
    ring_segments: set[tuple] = set()
    for ring in shapely.get_rings(geoms):
        grid = np.rint(shapely.get_coordinates(ring) / display.QUANTUM - origin).astype(int)
        ring_segments |= set(_segments(grid))
    assert set(arc_segments) == ring_segments
    # interior borders are shared: far fewer arc points than ring points
    ring_points = int(shapely.get_num_coordinates(geoms).sum())
    assert sum(len(a) for a in topo["arcs"]) < 0.7 * ring_points


def test_topology_is_cached_on_geometry_and_holds_no_names():
    geoms = np.array([box(0, 0, 1, 1), box(1, 0, 2, 1)])
    regions = gpd.GeoDataFrame(
        {"code": ["A", "B"], "name": ["secret-name-1", "x"], "incidents": [1, 0], "victims": 0},
        geometry=geoms,
        crs="EPSG:4326",
    )
    no_points = pd.DataFrame(columns=["id", "lat", "lon", "date", "category", "victims"])
    build_map(regions, no_points, total_points=0).get_root().render()
    literal = layers._topology_literal(geoms)
    assert literal in layers._topologies.values()
    renamed = regions.assign(name=["secret-name-2", "y"])
    html = build_map(renamed, no_points, total_points=0).get_root().render()
    assert layers._topology_literal(geoms) is literal
    assert "secret-name-2" in html and "secret-name-1" not in html
    assert not any("secret-name" in text for text in layers._topologies.values())


# --------------------------------------------------------------------------- classes


@pytest.mark.parametrize(
    "values",
    [
        np.random.default_rng(1).zipf(1.6, 400).astype(float),  # skewed counts, many ties
        np.random.default_rng(2).lognormal(3, 1.2, 300).round(),
        np.random.default_rng(3).uniform(0, 1000, 250),
        [0, 0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, np.nan, -4],
    ],
)
def test_natural_breaks_are_those_of_mapclassify(values):
    values = np.asarray(values, dtype=float)
    positive = values[np.isfinite(values) & (values > 0)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = tuple(float(b) for b in mapclassify.FisherJenks(positive, k=5).bins)
    classes = classify(values)
    assert classes.method == "natural breaks (Fisher-Jenks)"
    assert classes.bounds == expected
    palette = [display.ZERO_COLOUR, *classes.colours]
    assert [palette[i + 1] for i in classes.index(values)] == [classes.colour(v) for v in values]


def test_few_distinct_values_get_a_class_each_and_zero_stays_grey():
    classes = classify([0, 3, 3, 7, np.nan])
    assert (classes.bounds, classes.method) == ((3.0, 7.0), "unique values")
    assert classes.index([0, 3, 5, 7, 9, np.nan]).tolist() == [-1, 0, 1, 1, 1, -1]
    assert classify([0, 0]).method == "none" and classify([0]).index([0]).tolist() == [-1]


# --------------------------------------------------------------------------- data in the page


def _parse(literal: str):
    assert literal.startswith("JSON.parse(") and literal.endswith(")")
    return json.loads(json.loads(literal[len("JSON.parse(") : -1]))


def test_js_data_round_trips_and_can_neither_end_a_script_nor_open_a_template():
    value = {
        "rows": [["</script><script>x()</script>", "{{ 7*7 }}", "{% raw %}", "a'b\"c&d"]],
        "n": [1, 2.5, None],
        "odd": "line\u2028separator \\ backslash",
    }
    literal = js_data(value)
    assert _parse(literal) == value
    inner = literal[len("JSON.parse(") : -1]
    assert not set("<>&'{}\u2028") & set(inner)


def test_point_rows_are_compact_escaped_and_descriptions_fit_a_budget():
    points = pd.DataFrame(
        {
            "id": ["r1", "<b>r2</b>", None],
            "lat": [15.123456, 15.2, 15.3],
            "lon": [32.5, 32.654321, 32.7],
            "date": ["2024-03-05", "2024-03-06", "2024-03-07"],
            "category": ["killing", "<img src=x onerror=alert(1)>", "killing"],
            "victims": [2.0, np.nan, 1.5],
            "description": ["short {{ 7*7 }}", "x" * 1000, None],
        }
    )
    data = point_rows(points)
    assert data["categories"] == ["killing", "&lt;img src=x onerror=alert(1)&gt;"]
    first, second, third = data["rows"]
    escaped = "short &#123;&#123; 7*7 &#125;&#125;"
    assert first == [15.12346, 32.5, "2024-03-05", 0, 2, escaped, "r1"]
    assert second[3:5] == [1, None] and second[6] == "&lt;b&gt;r2&lt;/b&gt;"
    assert len(second[5]) == layers.DESCRIPTION_LIMIT and second[5].endswith("…")
    assert third[4:] == [1.5, "", ""]
    many = pd.concat([points.iloc[[1]]] * 3_000, ignore_index=True)
    cut = point_rows(many)["rows"]
    assert sum(len(r[5]) for r in cut) <= layers.DESCRIPTION_BUDGET
    assert len(cut[0][5]) == layers.DESCRIPTION_BUDGET // 3_000


def test_map_page_is_offline_light_and_escaped():
    geoms = [box(x, y, x + 1, y + 1) for x in range(30) for y in range(20)]
    regions = gpd.GeoDataFrame(
        {
            "code": [f"R{i}" for i in range(len(geoms))],
            "name": ["{{ 1234567 * 3 }}", "<svg onload=alert(1)>"] + ["plain"] * (len(geoms) - 2),
            "incidents": np.arange(len(geoms)) % 17,
            "victims": 1.0,
        },
        geometry=geoms,
        crs="EPSG:4326",
    )
    rng = np.random.default_rng(0)
    points = pd.DataFrame(
        {
            "id": [f"id{i}" for i in range(3_000)],
            "lat": rng.uniform(0, 20, 3_000),
            "lon": rng.uniform(0, 30, 3_000),
            "date": "2024-01-01",
            "category": "killing",
            "victims": 1.0,
            "description": "</script><script>window.__xss=1</script>" * 20,
        }
    )
    html = build_map(regions, points, total_points=1_000_000).get_root().render()
    assert "cdn." not in html and "unpkg" not in html and "tile.openstreetmap" not in html
    assert "topojson-client@3.1.0/dist/topojson-client.min.js" in html
    assert "3703701" not in html  # a template expression in a name was not run
    assert "<svg onload" not in html and "<script>window.__xss" not in html
    assert "3,000 of 1,000,000 incidents shown" in html
    assert len(html.encode()) < 1_500_000
    # the data travels once: one topology, the view (region figures, one set of point rows
    # that the heatmap reuses, the legend) and the basemap's places
    assert len(re.findall(r"JSON\.parse\(", html)) == 5
    # points one by one from a town's zoom: clustering every zoom level cost chromium most
    # of a period step's points
    assert "markerClusterGroup({disableClusteringAtZoom: 12})" in html
    assert html.count("id2999") == 1


def test_simplified_display_geometry_is_kept_on_disk_and_a_damaged_entry_is_recomputed(
    tmp_path, monkeypatch
):
    """A new process (an empty memory cache) reads the simplification back from disk; a
    damaged file is simplified again, never trusted."""
    rng = np.random.default_rng(5)
    # wiggly squares: enough vertices to be simplified
    shapes = []
    for i in range(4):
        angles = np.linspace(0, 2 * np.pi, 30_000, endpoint=False)
        radius = 1 + 0.01 * rng.standard_normal(len(angles))
        ring = np.column_stack([i * 3 + radius * np.cos(angles), radius * np.sin(angles)])
        shapes.append(Polygon(ring))
    frame = gpd.GeoDataFrame({"code": list("ABCD")}, geometry=shapes, crs=4326)
    display.use_disk_cache(tmp_path)
    try:
        first = display.simplify_for_display(frame)
        (entry,) = tmp_path.glob("*.parquet")
        display._display_cache.clear()  # as a new process
        simplify = display._simplified

        def refuse(*args):
            raise AssertionError("simplified again although the disk holds it")

        monkeypatch.setattr(display, "_simplified", refuse)
        again = display.simplify_for_display(frame)
        monkeypatch.setattr(display, "_simplified", simplify)
        assert shapely.equals_exact(first.geometry.to_numpy(), again.geometry.to_numpy(), 0).all()
        assert int(shapely.get_num_coordinates(again.geometry.to_numpy()).sum()) < 60_000
        display._display_cache.clear()
        entry.write_bytes(b"not parquet")
        repaired = display.simplify_for_display(frame)
        assert shapely.equals_exact(
            first.geometry.to_numpy(), repaired.geometry.to_numpy(), 0
        ).all()
        assert entry.read_bytes() != b"not parquet"  # rewritten
    finally:
        display.use_disk_cache(None)
        display._display_cache.clear()


def test_the_first_view_fits_the_regions_and_the_legend_folds_away():
    """Points crowded in one corner (a capital) must not crop the country; the legend
    folds away where it covers regions."""
    regions = gpd.GeoDataFrame(
        {"code": ["W", "E"], "name": ["West", "East"], "incidents": [0, 9], "victims": 0},
        geometry=[box(22, 44, 30, 52), box(30, 44, 40, 52)],
        crs="EPSG:4326",
    )
    points = pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(9)],
            "lat": np.linspace(50.4, 50.5, 9),
            "lon": np.linspace(30.4, 30.6, 9),
            "date": "2024-01-01",
            "category": "killing",
            "victims": 1,
            "description": "",
        }
    )
    assert layers._view_bounds(regions, points).tolist() == [22.0, 44.0, 40.0, 52.0]
    html = build_map(regions, points, total_points=9).get_root().render()
    assert '<details open class="crisismap-legend"' in html
    assert '"paddingBottomRight": [10, 10]' in html


def test_regions_can_be_coloured_by_victims():
    from crisismap.schema import victims_measure

    regions = gpd.GeoDataFrame(
        {"code": ["A", "B"], "name": ["A", "B"], "incidents": [1, 9], "victims": [90, 2]},
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)],
        crs="EPSG:4326",
    )
    none = pd.DataFrame(columns=["id", "lat", "lon", "date", "category", "victims"])
    fatal = victims_measure("fatalities", "acled")
    by_incidents = build_map(regions, none, total_points=0, victims=fatal)
    by_victims = build_map(regions, none, total_points=0, victims=fatal, value="victims")
    html = by_victims.get_root().render()
    assert "Fatalities per region" in html
    assert html != by_incidents.get_root().render()
    with pytest.raises(ValueError, match="incidents or victims"):
        build_map(regions, none, total_points=0, value="description")


def test_rising_and_falling_regions_are_outlined_without_a_second_copy_of_the_shapes():
    regions = gpd.GeoDataFrame(
        {
            "code": ["A", "B", "C"],
            "name": ["A", "B", "C"],
            "incidents": [1, 9, 3],
            "victims": 0,
            "trend": ["rising", "falling", "no clear change"],
        },
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)],
        crs="EPSG:4326",
    )
    none = pd.DataFrame(columns=["id", "lat", "lon", "date", "category", "victims"])
    html = build_map(regions, none, total_points=0).get_root().render()
    plain = build_map(regions.drop(columns="trend"), none, total_points=0).get_root().render()
    assert "#b2182b" in html and "#2166ac" in html
    assert "#b2182b" not in plain
    assert html.count(layers._topology_literal(regions.geometry.to_numpy())) == 1


def _period(incidents: list[int], points: int) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    regions = gpd.GeoDataFrame(
        {"code": ["A", "B", "C"], "name": ["Aa", "Bb", "Cc"], "incidents": incidents},
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)],
        crs="EPSG:4326",
    ).assign(victims=0)
    dots = pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(points)],
            "lat": 0.5,
            "lon": np.linspace(0.1, 2.9, points),
            "date": "2024-01-01",
            "category": "killing",
            "victims": 1,
            "description": "",
        }
    )
    return regions, dots


def _streamlit_key(live: layers.LiveMap) -> str:
    """The component key streamlit-folium gives this map: one key, one iframe kept (it
    renders the map: once per map, as st_folium does)."""
    from streamlit_folium import _get_map_string, generate_js_hash

    live.base.render()
    return generate_js_hash(_get_map_string(live.base), "map", False)


def test_two_periods_share_the_base_and_only_the_view_carries_their_figures():
    """A period step keeps streamlit-folium's key (the map drawn stays) and sends a view
    with the period's figures; other shapes make a new base."""
    january, february = _period([3, 0, 12], 15), _period([1, 7, 0], 8)
    one = layers.build_live_map(*january, total_points=15, always_points=True)
    two = layers.build_live_map(*february, total_points=8, always_points=True)
    key = _streamlit_key(one)
    assert _streamlit_key(two) == key
    views = [live.view._template.module.script(live.view) for live in (one, two)]
    assert '\\"incidents\\":[3,0,12]' in views[0] and '\\"incidents\\":[1,7,0]' in views[1]
    assert "15 of 15 incidents shown" in views[0] and "8 of 8 incidents shown" in views[1]
    assert "p14" in views[0] and "p14" not in views[1]
    regions, dots = january
    other = layers.build_live_map(regions.iloc[:2], dots, total_points=15, always_points=True)
    assert _streamlit_key(other) != key
    # a period without points keeps the same base when the app asks for the points layers
    empty = layers.build_live_map(regions, dots.iloc[:0], total_points=0, always_points=True)
    assert _streamlit_key(empty) == key
