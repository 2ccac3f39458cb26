"""Name agreement: countries through pycountry, cities kept apart from their regions,
aliases as data with their source, disagreements that show both sides."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from crisismap import join
from crisismap.join import names


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("United States", "United States of America"),
        ("Tanzania", "Tanzania, United Republic of"),
        ("Tanzania", "United Republic of Tanzania"),
        ("eSwatini", "Eswatini"),
        ("Swaziland", "eSwatini"),
        ("North Macedonia", "Macedonia"),
        ("Democratic Republic of Congo", "Democratic Republic of the Congo"),
        ("Ivory Coast", "Côte d'Ivoire"),
        ("Turkey", "Türkiye"),
        ("Russia", "Russian Federation"),
        ("Iran", "Iran, Islamic Republic of"),
        ("TZ", "Tanzania"),
        ("USA", "United States"),
        ("Suqutra", "Socotra"),
        ("Erbil", "Arbil"),
        ("Kyiv", "Kiev"),
        ("Kyiv City", "Kiev City"),
    ],
)
def test_names_that_agree(a, b):
    assert names.names_match(a, b)
    assert names.names_match(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Kyiv", "Kiev City"),  # the oblast is not the city
        ("Kyiv Oblast", "Kyiv City"),
        ("Ivano-Frankivsk", "Ivano-Frankivsk City"),  # fuzzily close, still not the city
        ("Niger", "Nigeria"),
        ("Guinea", "Guinea-Bissau"),
        ("Republic of Congo", "Democratic Republic of Congo"),
        ("Sudan", "South Sudan"),
        ("Dominica", "Dominican Republic"),
    ],
)
def test_names_that_do_not(a, b):
    assert not names.names_match(a, b)
    assert not names.names_match(b, a)


def test_country_codes_through_pycountry():
    assert names.country_code("Tanzania") == "TZA"
    assert names.country_code("TZ") == "TZA"
    assert names.country_code("tz") is None  # a lower-case word is not read as a code
    assert names.country_code("Donetsk") is None


def test_aliases_are_data_with_a_source():
    table = names.aliases()
    assert list(table.columns) == ["alias", "name", "source"]
    assert table["source"].str.len().min() > 10
    assert not table["alias"].duplicated().any()
    row = table[table["alias"] == "Suqutra"].iloc[0]
    assert row["name"] == "Socotra"


def kyiv_regions() -> dict[int, gpd.GeoDataFrame]:
    frame = gpd.GeoDataFrame(
        {
            "code": ["UA32", "UA80"],
            "name": ["Kiev", "Kiev City"],
            "parent_code": "UKR",
            "country": "UKR",
        },
        geometry=[shapely.box(29, 50, 32, 51.5), shapely.box(30.3, 50.3, 30.7, 50.6)],
        crs=4326,
    )
    # the oblast's polygon with the city cut out, as real boundaries have it
    frame.loc[0, "geometry"] = frame.geometry[0].difference(frame.geometry[1])
    return {1: frame}


def test_disagreements_show_both_names_and_both_regions():
    records = pd.DataFrame(
        {
            "id": ["irpin", "centre"],
            "line": [2, 3],
            "lat": [50.52, 50.45],
            "lon": [30.25, 30.52],
            "max_level": pd.array([pd.NA, pd.NA], dtype="Int64"),
            # the file says Kyiv City for a point in Irpin (the oblast), and for the centre
            "stated_adm1_name": ["Kyiv City", "Kyiv City"],
        }
    )
    regions = kyiv_regions()
    joined = join.join_points(records, regions)
    summary, disagreements = names.compare_stated(records, joined, regions)
    assert summary[["compared", "agree", "disagree"]].to_dict("records") == [
        {"compared": 2, "agree": 1, "disagree": 1}
    ]
    row = disagreements.iloc[0]
    assert (row["id"], row["stated"]) == ("irpin", "Kyiv City")
    assert (row["stated_region_code"], row["stated_region_name"]) == ("UA80", "Kiev City")
    assert (row["joined_code"], row["joined_name"]) == ("UA32", "Kiev")


@pytest.mark.slow
def test_country_name_variants_agree_on_the_world_boundaries():
    from crisismap.boundaries import load_boundaries

    world = load_boundaries("world")
    points = {
        "United States": (39.0, -98.0),
        "Tanzania": (-6.0, 35.0),
        "eSwatini": (-26.5, 31.5),
        "North Macedonia": (41.6, 21.7),
        "Macedonia": (41.6, 21.7),
        "Democratic Republic of Congo": (-2.0, 23.0),
        "Ivory Coast": (7.5, -5.5),
        "Russia": (60.0, 60.0),
        "Turkey": (39.0, 35.0),
    }
    records = pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(len(points))],
            "line": range(2, len(points) + 2),
            "lat": [lat for lat, _ in points.values()],
            "lon": [lon for _, lon in points.values()],
            "max_level": pd.array([pd.NA] * len(points), dtype="Int64"),
            "stated_adm0_name": list(points),
        }
    )
    joined = join.join_points(records, world.levels)
    summary, disagreements = names.compare_stated(records, joined, world.levels)
    level0 = summary[summary["level"] == 0].iloc[0]
    assert (level0["compared"], level0["agree"]) == (len(points), len(points))
    assert disagreements.empty
