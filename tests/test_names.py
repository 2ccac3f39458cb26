"""Stated admin names/codes vs joined regions: spelling variants, codes, real UCDP data."""

from __future__ import annotations

import gzip
import shutil

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from crisismap import join
from crisismap.join import names


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Donetsk oblast", "donetsk"),
        ("Donets'k", "donetsk"),
        ("Kiev Special Republican city", "kiev city"),  # a city stays a city
        ("Autonomous Republic of Crimea", "crimea"),
        ("Al-Hasakah", "hasakah"),
        ("  Ivano-Frankivs’k  ", "ivano frankivsk"),
        ("Zaporiz'ka oblast'", "zaporizka"),
        ("Sévaré", "sevare"),
        ("City", "city"),  # only admin words: kept, never empty
        ("", ""),
        (None, ""),
    ],
)
def test_normalise_name(raw, expected):
    assert names.normalise_name(raw) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Donetsk oblast", "Donets'k"),
        ("Kiev Special Republican city", "Kiev City"),
        ("Luhansk oblast", "Luhans'k"),
        ("Kyiv", "Kiev"),
        ("Odesa", "Odessa"),
        ("Zaporizhzhia oblast", "Zaporizhzhya"),
        ("Crimea", "Crimea"),
        ("Autonomous Republic of Crimea", "Crimea"),
        ("Idleb", "Idlib"),
        ("Al Hasakeh", "Hasaka"),
        ("Al Hasakeh", "Al-Hasakah"),
        ("Ad Dali", "al dhale'e"),
        ("Dnipropetrovsk oblast", "Dnipropetrovs'k"),
        ("Khmelnytskyi", "Khmel'nyts'kyy"),
        ("Vinnytsia", "Vinnytsya"),
        ("Deir ez-Zor", "Dayr Az Zawr"),
        ("Kropyvnytskyi", "Kirovohrad"),  # renamed: alias table
    ],
)
def test_names_match_spelling_variants(a, b):
    assert names.names_match(a, b)
    assert names.names_match(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Donetsk oblast", "Luhans'k"),
        ("Kherson", "Khmel'nyts'kyy"),
        ("Kharkiv", "Kherson"),
        ("Chernihiv", "Chernivtsi"),
        ("Kiev", "Kharkiv"),
        ("Idlib", "Aleppo"),
        ("Hama", "Homs"),
        ("Lahij", "Al Dhale'e"),
        ("Sana'a", "Sa'dah"),
        ("Marib", "Mahrah"),
        ("Aden", "Abyan"),
        ("", "Aden"),
    ],
)
def test_names_match_keeps_different_places_apart(a, b):
    assert not names.names_match(a, b)


def two_regions() -> dict[int, gpd.GeoDataFrame]:
    frame = gpd.GeoDataFrame(
        {"code": ["UA14", "UA09"], "name": ["Donets'k", "Luhans'k"], "parent_code": "UA"},
        geometry=[shapely.box(37, 47, 39, 49), shapely.box(39, 47, 41, 49)],
        crs=4326,
    )
    return {1: frame}


def test_compare_stated_names_and_codes():
    records = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d", "e", "f", "g"],
            "line": [2, 3, 4, 5, 6, 7, 8],
            "lat": [48.0] * 6 + [10.0],
            "lon": [38.0, 38.0, 40.0, 38.0, 38.0, 38.0, 38.0],
            "max_level": pd.array([pd.NA, pd.NA, pd.NA, 0, pd.NA, pd.NA, pd.NA], dtype="Int64"),
            "stated_adm1_name": [
                "Donetsk oblast",
                "Luhansk oblast",
                "Luhansk",
                "Luhansk",
                None,
                "Donetsk",
                "Donetsk",
            ],
            "stated_adm1_code": [None, None, None, None, "ua14", "UA014", None],
        }
    )
    joined = join.join_points(records, two_regions())
    summary, disagreements = names.compare_stated(records, joined, two_regions())
    assert summary.to_dict("records") == [
        {
            "level": 1,
            "stated": 7,
            "compared": 5,  # d is imprecise at level 1, g is outside
            "agree": 3,  # a by name, c by name, e by code (case-insensitive)
            "disagree": 2,  # b: point in Donetsk; f: code padding differs (UA014 vs UA14)
            "agreement_rate": 0.6,
            "outside": 1,
            "imprecise": 1,
        }
    ]
    assert disagreements[
        ["id", "line", "level", "stated", "joined_code", "match"]
    ].values.tolist() == [
        ["b", 3, 1, "Luhansk oblast", "UA14", "inside"],
        ["f", 7, 1, "UA014", "UA14", "inside"],
    ]
    assert disagreements[["lat", "lon"]].values.tolist() == [[48.0, 38.0], [48.0, 38.0]]


def test_disagreement_pairs_group_what_each_source_says():
    records = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "line": [2, 3, 4, 5],
            "lat": [48.0] * 4,
            "lon": [38.0] * 4,
            "stated_adm1_name": ["Luhansk oblast", "Luhansk", "<b>Nowhere</b>", "Luhansk"],
        }
    )
    joined = join.join_points(records, two_regions())
    _, disagreements = names.compare_stated(records, joined, two_regions())
    pairs = join.disagreement_pairs(disagreements)
    assert pairs.values.tolist() == [
        [1, "Luhansk", "Luhans'k (UA09)", "Donets'k (UA14)", 2],
        [1, "<b>Nowhere</b>", "", "Donets'k (UA14)", 1],
        [1, "Luhansk oblast", "Luhans'k (UA09)", "Donets'k (UA14)", 1],
    ]
    empty = join.disagreement_pairs(disagreements.iloc[:0])
    assert list(empty.columns) == list(pairs.columns) and empty.empty


def test_compare_stated_without_stated_columns_is_empty():
    records = pd.DataFrame({"id": ["a"], "line": [2], "lat": [48.0], "lon": [38.0]})
    joined = join.join_points(records, two_regions())
    summary, disagreements = names.compare_stated(records, joined, two_regions())
    assert summary.empty and disagreements.empty
    assert "agreement_rate" in summary.columns and "joined_name" in disagreements.columns


# --- real data: UCDP GED Ukraine vs Natural Earth admin-1 ------------------------------------


@pytest.fixture(scope="module")
def ukraine_admin1(shared_data, tmp_path_factory):
    source = (
        shared_data
        / "boundaries"
        / "world_ne_admin1"
        / "ne_10m_admin_1_states_provinces.topo.json.gz"
    )
    target = tmp_path_factory.mktemp("ne") / "ne_admin1.topo.json"
    with gzip.open(source, "rb") as src, open(target, "wb") as dst:
        shutil.copyfileobj(src, dst)
    world = gpd.read_file(target)
    ukraine = world[world["adm0_a3"] == "UKR"].reset_index(drop=True)
    frame = gpd.GeoDataFrame(
        {"code": ukraine["iso_3166_2"], "name": ukraine["name"], "parent_code": "UKR"},
        geometry=shapely.make_valid(ukraine.geometry.values),
        crs=4326,
    )
    return {1: frame}


def ucdp_records(shared_data) -> pd.DataFrame:
    path = shared_data / "incidents" / "ucdp_ged_ukr" / "ucdp_ged_ukr_2014_2021_hxl.csv"
    raw = pd.read_csv(path, dtype=str, skiprows=[1], keep_default_na=False, na_values=[""])
    precision = raw["where_prec"].astype(int)
    # UCDP where_prec: 1-2 exact/near, 3 district, 4 province, 5-6 region/country, 7 at sea.
    max_level = np.select([precision == 3, precision == 4, precision <= 6], [2, 1, 0], -1)
    return pd.DataFrame(
        {
            "id": raw["id"],
            "line": np.arange(len(raw)) + 3,
            "lat": raw["latitude"].astype(float),
            "lon": raw["longitude"].astype(float),
            "max_level": pd.array(np.where(precision <= 2, pd.NA, max_level), dtype="Int64"),
            "stated_adm1_name": raw["adm_1"],
        }
    )


@pytest.mark.slow
def test_ucdp_ukraine_states_agree_with_natural_earth(shared_data, ukraine_admin1):
    records = ucdp_records(shared_data)
    joined = join.join_points(records, ukraine_admin1)
    summary, disagreements = names.compare_stated(records, joined, ukraine_admin1)
    row = summary.iloc[0]
    assert row["stated"] == 2761
    assert row["agreement_rate"] >= 0.99
    # What is left are points a few km across the Donetsk/Luhansk line from the stated oblast.
    assert len(disagreements) <= 10
    assert set(disagreements["stated"]) <= {"Donetsk oblast", "Luhansk oblast"}
    assert set(disagreements["joined_code"]) <= {"UA-14", "UA-09"}
