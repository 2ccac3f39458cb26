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
