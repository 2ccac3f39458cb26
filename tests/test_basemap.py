"""The offline basemap's place selection (by view and zoom), its escaping and its files."""

from __future__ import annotations

import json
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from crisismap import basemap, layers, report
from crisismap.report import charts


def _places(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["name", "country", "lat", "lon", "population", "capital"])
    frame["min_zoom"] = basemap.min_zoom(frame["population"], frame["capital"])
    return frame


def test_larger_places_show_from_lower_zooms_and_capitals_at_country_zoom():
    people = [3_000_000, 1_000_000, 999_999, 250_000, 120_000, 60_000, 30_000, 15_500]
    assert basemap.min_zoom(people, [False] * 8).tolist() == [3, 4, 5, 5, 6, 7, 8, 9]
    assert basemap.min_zoom([20_000, 20_000], [True, False]).tolist() == [3, 9]


def test_places_are_chosen_in_the_padded_view_largest_first_and_capped():
    places = _places(
        [
            ("Small", "AAA", 1.0, 1.0, 20_000, False),
            ("Big", "AAA", 2.0, 2.0, 2_500_000, False),
            ("Capital", "AAA", 1.5, 1.5, 40_000, True),
            ("Just across", "BBB", 4.9, 2.0, 500_000, False),  # within the 25 % pad
            ("Far away", "CCC", 40.0, 40.0, 9_000_000, True),
        ]
    )
    chosen = basemap.select_places(places, (0, 0, 4, 4))
    assert chosen["name"].tolist() == ["Big", "Just across", "Capital", "Small"]
    assert basemap.select_places(places, (0, 0, 4, 4), pad=0)["name"].tolist() == [
        "Big",
        "Capital",
        "Small",
    ]
    assert basemap.select_places(places, (0, 0, 4, 4), limit=2)["name"].tolist() == [
        "Big",
        "Just across",
    ]
    at_five = basemap.select_places(places, (0, 0, 4, 4), max_zoom=5)
    assert at_five["name"].tolist() == ["Big", "Just across", "Capital"]


def test_the_bundled_places_read_as_text_and_rank_khartoum_at_country_zoom():
    places = basemap.load_places()
    assert len(places) > 30_000
    assert places["name"].map(lambda n: isinstance(n, str) and n != "").all()
    assert places["population"].is_monotonic_decreasing
    khartoum = places[places["name"] == "Khartoum"].iloc[0]
    assert (khartoum["country"], bool(khartoum["capital"]), khartoum["min_zoom"]) == (
        "SDN",
        True,
        3,
    )
    assert places.loc[places["name"] == "Windhoek", "country"].tolist() == ["NAM"]  # not NaN
    sudan = basemap.select_places(places, (21.8, 8.7, 38.6, 22.2), max_zoom=5)
    assert {"Khartoum", "Omdurman", "Port Sudan", "Nyala"} <= set(sudan["name"])


def test_place_names_reach_the_page_escaped():
    hostile = '<img src=x onerror="alert(1)">{{ 7*7 }}'
    rows = layers.place_rows(_places([(hostile, "AAA", 1.0, 1.0, 2_000_000, True)]))
    assert rows == [
        [
            1.0,
            1.0,
            "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&#123;&#123; 7*7 &#125;&#125;",
            3,
            1,
        ]
    ]


def test_a_hostile_place_name_stays_text_in_the_rendered_map(monkeypatch):
    hostile = '</script><img src=x onerror="alert(1)">{{ 7*7 }}'
    places = _places([(hostile, "AAA", 15.0, 32.0, 2_000_000, True)])
    monkeypatch.setattr(basemap, "load_places", lambda: places)
    html = _map(offline_basemap=True).get_root().render()
    assert "<img src=x" not in html and "</script><img" not in html and "{{ 7*7" not in html
    data = json.loads(_payload(html))
    assert data["rows"][0][2].startswith("&lt;/script&gt;&lt;img")
    assert data["rows"][0][2].endswith("&#123;&#123; 7*7 &#125;&#125;")


def _map(**options):
    regions = gpd.GeoDataFrame(
        {"code": ["A"], "name": ["A"], "incidents": [3], "victims": [1]},
        geometry=[box(30, 14, 34, 17)],  # around Khartoum
        crs="EPSG:4326",
    )
    points = pd.DataFrame(
        columns=["id", "lat", "lon", "date", "category", "victims", "description"]
    )
    return layers.build_map(regions, points, total_points=0, **options)


def _payload(html: str) -> str:
    """The basemap layer's data: the JSON text in its script string literal."""
    start = html.index("places = JSON.parse(") + len("places = JSON.parse(")
    literal = html[start : html.index(");", start)]
    return json.loads(literal)


def test_the_basemap_is_on_by_default_and_left_out_on_request():
    with_basemap = _map().get_root().render()
    assert basemap.PHYSICAL_URL in with_basemap and "GeoNames" in with_basemap
    data = json.loads(_payload(with_basemap))
    assert data["physical"] == basemap.PHYSICAL_URL
    assert data["attribution"] == "Natural Earth · places © GeoNames (CC BY 4.0)"
    without = _map(offline_basemap=False).get_root().render()
    assert basemap.PHYSICAL_URL not in without and "crisismap-place" not in without
    under_tiles = json.loads(_payload(_map(basemap="OpenStreetMap").get_root().render()))
    assert under_tiles["physical"] is None and under_tiles["rows"]  # names only over tiles


def test_the_physical_layers_are_read_for_a_view():
    frame = basemap.physical_in((21.8, 8.7, 38.6, 22.2))
    assert set(frame["kind"]) == {"land", "lakes", "rivers", "countries"}
    assert frame.crs.to_epsg() == 4326
    assert len(basemap.physical_in((-30.0, -50.0, -29.0, -49.0))) == 0  # open sea


@pytest.mark.parametrize("path", ["static/basemap/physical.topo.json"])
def test_the_served_topology_has_the_layers_the_browser_draws(path):
    topo = json.loads((basemap.DATA_DIR.parents[1] / path).read_text())
    assert set(topo["objects"]) == {"land", "lakes", "rivers", "countries"}
    assert all("properties" not in g for o in topo["objects"].values() for g in o["geometries"])


# --------------------------------------------------------------------------- the PDF map


def test_the_pdf_map_names_the_largest_places_in_view_apart_from_each_other():
    extent = np.array([21.8, 8.7, 38.6, 22.2])  # Sudan
    chosen = charts.map_places(extent)
    names = chosen["name"].tolist()
    assert names[0] == "Khartoum" and "Port Sudan" in names and len(names) == 10
    assert "Omdurman" not in names  # across the Nile from Khartoum: too close to read
    spacing = 0.06 * 16.8
    lon, lat = chosen["lon"].to_numpy(), chosen["lat"].to_numpy()
    for i in range(len(chosen)):
        for j in range(i):
            assert abs(lon[i] - lon[j]) > spacing or abs(lat[i] - lat[j]) > spacing
    assert chosen["population"].is_monotonic_decreasing


def test_pdf_place_labels_are_matplotlib_escaped(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    places = _places(
        [
            ("$\\alpha$ town", "AAA", 1.0, 1.0, 2_000_000, True),
            ("_hidden", "AAA", 3.0, 3.5, 500_000, False),  # east: its label reads westwards
        ]
    )
    monkeypatch.setattr(basemap, "load_places", lambda: places)
    fig, ax = plt.subplots()
    charts._label_places(ax, np.array([0.0, 0.0, 4.0, 4.0]))
    texts = [(t.get_text(), t.get_ha()) for t in ax.texts]
    plt.close(fig)
    assert texts == [(" \\$\\alpha\\$ town", "left"), (" _hidden ", "right")]


def test_the_brief_credits_natural_earth_and_geonames():
    analysis = SimpleNamespace(
        boundaries=SimpleNamespace(name="own", source="own file", version="1", date="2024"),
        report=SimpleNamespace(preset=None),
    )
    lines = report.attributions(analysis)
    assert basemap.CREDIT in lines
    assert "GeoNames" in basemap.CREDIT and "CC BY 4.0" in basemap.CREDIT


def test_a_link_keeps_the_basemap_hidden_and_says_nothing_when_it_is_shown():
    from crisismap import dashboard
    from crisismap.schema import Period, View

    assert "places" not in dashboard.view_query(View(1, Period.MONTH))
    assert dashboard.view_query(View(1, Period.MONTH), places=False)["places"] == "off"
    assert "places" in dashboard.QUERY_KEYS
