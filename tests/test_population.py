"""Population per region from boundary files (crisismap.boundaries.population), and the
rates per 100,000 people derived from it (crisismap.aggregate.rates)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box, mapping

from crisismap.boundaries import load_boundaries
from crisismap.boundaries.population import population_column, population_values
from crisismap.errors import BoundaryError


def _geojson(path, rows):
    features = [
        {"type": "Feature", "properties": props, "geometry": mapping(box(30 + i, 50, 31 + i, 51))}
        for i, props in enumerate(rows)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_population_column_detected_only_when_named_so_and_all_counts():
    frame = pd.DataFrame(
        {
            "ADM1_PCODE": ["A", "B"],
            "T_TL": [1000, 2500],
            "pop_note": ["x", "y"],  # says pop, is not one of the names
            "area_km2": [10.0, 20.0],  # numbers, not a population
        }
    )
    assert population_column(frame) == "T_TL"
    assert population_column(frame.drop(columns="T_TL")) is None
    negative = frame.assign(T_TL=[1000, -5])
    assert population_column(negative) is None
    text = frame.assign(T_TL=["1000", "unknown"])
    assert population_column(text) is None
    years = pd.DataFrame({"Pop": [1, 2], "POP2015": [3, 4], "POP2020": [5, 6]})
    assert population_column(years) == "POP2020"  # the latest year named
    assert population_column(years, "Pop") == "Pop"  # the user's choice wins
    with pytest.raises(BoundaryError, match="'people' is not in the boundaries"):
        population_column(years, "people")
    with pytest.raises(BoundaryError, match="not non-negative numbers"):
        population_column(frame, "ADM1_PCODE")


def test_blank_population_is_no_figure_not_zero():
    values = population_values(pd.Series(["1200", "", None, "0"]))
    assert values.iloc[0] == 1200 and values.iloc[3] == 0
    assert values.iloc[1:3].isna().all()


def test_loaded_levels_keep_population_and_its_source(tmp_path):
    path = _geojson(
        tmp_path / "ukr_adm1.geojson",
        [
            {"ADM1_PCODE": "UA01", "ADM1_EN": "Alpha", "ADM0_PCODE": "UA", "T_TL": 200000},
            {"ADM1_PCODE": "UA02", "ADM1_EN": "Beta", "ADM0_PCODE": "UA", "T_TL": None},
        ],
    )
    bs = load_boundaries(path)
    frame = bs.level(1)
    assert frame["population"].tolist()[0] == 200000
    assert np.isnan(frame["population"].tolist()[1])  # no figure, not 0
    assert frame["population_source"].tolist()[0] == "T_TL, ukr_adm1.geojson"
    assert pd.isna(frame["population_source"].tolist()[1])
    assert "populations from column T_TL" in "\n".join(bs.notes)


def test_a_file_column_called_population_that_is_not_counts_is_kept_aside(tmp_path):
    path = _geojson(
        tmp_path / "x_adm1.geojson",
        [{"ADM1_PCODE": "X1", "ADM1_EN": "One", "ADM0_PCODE": "UA", "population": "many"}],
    )
    frame = load_boundaries(path).level(1)
    assert "population" not in frame
    assert frame["source_population"].tolist() == ["many"]
    named = load_boundaries(
        _geojson(
            tmp_path / "y_adm1.geojson",
            [{"ADM1_PCODE": "Y1", "ADM1_EN": "One", "ADM0_PCODE": "UA", "people": 7}],
        ),
        population_field="people",
    )
    assert named.level(1)["population"].tolist() == [7.0]


# --------------------------------------------------------------------------- rates


def test_rates_per_100k_hide_what_is_unknown_or_hidden():
    from crisismap.aggregate import per_100k

    counts = pd.Series([5, 0, 3, None, "<5", 7], index=list("ABCDEF"), dtype=object)
    population = pd.Series([250_000, 10_000, np.nan, 50_000, 50_000, 0], index=list("ABCDEF"))
    rate = per_100k(counts, population)
    assert rate["A"] == 2.0  # 5 per 250,000 = 2 per 100,000
    assert rate["B"] == 0.0  # known population, no incidents: a true zero
    assert np.isnan(rate["C"])  # no population figure: not 0
    assert np.isnan(rate["D"]) and np.isnan(rate["E"])  # hidden count: hidden rate
    assert np.isnan(rate["F"])  # a population of 0 gives no rate


def _regions(rate=True):
    import geopandas as gpd
    from shapely.geometry import box as sbox

    frame = gpd.GeoDataFrame(
        {
            "code": ["A", "B", "C"],
            "name": ["A", "B", "C"],
            "incidents": [4, 0, 9],
            "victims": [0, 0, 0],
            "population": [200_000.0, 50_000.0, np.nan],
        },
        geometry=[sbox(0, 0, 1, 1), sbox(1, 0, 2, 1), sbox(2, 0, 3, 1)],
        crs="EPSG:4326",
    )
    if rate:
        from crisismap.aggregate import per_100k

        frame["rate"] = per_100k(frame["incidents"], frame["population"])
    return frame


def test_the_map_colours_by_rate_and_draws_no_population_apart_from_zero():
    from crisismap import layers

    none = pd.DataFrame(columns=["id", "lat", "lon", "date", "category", "victims"])
    html = (
        layers.build_map(
            _regions(), none, total_points=0, title="Incidents per 100,000 people", value="rate"
        )
        .get_root()
        .render()
    )
    assert "no population figure" in html  # the tooltip of C and the legend swatch
    assert layers.NO_POPULATION_COLOUR in html
    layer, classes = layers.choropleth_layer(_regions(), value="rate")
    shown = json.loads(json.loads(layer.shown.removeprefix("JSON.parse(").removesuffix(")")))
    assert shown["rate"] == ["2", "0", "no population figure"]
    assert [shown["palette"][f + 1] for f in shown["fill"]] == [
        classes.colours[0],
        layers.ZERO_COLOUR,  # zero incidents where the population is known
        layers.NO_POPULATION_COLOUR,  # unknown population: not zero
    ]
    with pytest.raises(ValueError, match="or rate, with populations"):
        layers.build_map(_regions(rate=False), none, total_points=0, value="rate")


# --------------------------------------------------------------------------- the page


def _analysis(populations: dict[str, float] | None):
    from crisismap import pipeline
    from tests.test_bundle import incidents_csv, squares

    boundaries = squares()
    if populations is not None:
        level1 = boundaries.levels[1]
        level1["population"] = level1["code"].map(populations).astype("float64")
        level1["population_source"] = pd.Series(
            "T_TL, squares_adm1.shp", index=level1.index, dtype="string"
        ).mask(level1["population"].isna())
    return pipeline.analyse(incidents_csv(), boundaries, filename="a.csv")


def test_the_rate_is_offered_only_where_the_level_has_populations():
    from crisismap import dashboard
    from crisismap.schema import View

    analysis = _analysis({"R1": 1_000_000, "R2": 200_000, "R3": 50_000})  # R4 unknown
    page = dashboard.build_view(analysis, View(1))
    assert list(page.colour_options()) == ["incidents", "victims", "rate"]
    assert page.map_title("rate") == (
        "Incidents per 100,000 people (population: T_TL, squares_adm1.shp)"
    )
    regions = page.regions.set_index("code")
    # R1: 21 incidents in Jan-Mar (7+6+8) per 1,000,000 people = 2.1 per 100,000
    assert regions.loc["R1", "rate"] == pytest.approx(regions.loc["R1", "incidents"] / 10)
    assert regions.loc["R1", "incidents"] == 21
    assert np.isnan(regions.loc["R4", "rate"])  # no population figure, not 0
    # admin-0 of the same set has no population: the option is not offered there
    assert "rate" not in dashboard.build_view(analysis, View(0)).colour_options()
    # nor anywhere in a set without populations
    plain = dashboard.build_view(_analysis(None), View(1))
    assert "rate" not in plain.colour_options() and "rate" not in plain.regions
