"""Masked points attacked: counted into suppressed cells, averaged over many exports, drawn
again from fresh data directories (issue 12, point 2), on UCDP GED Ukraine and world:UKR.

Prints: small cells tried and recovered by counting points (must be 0), the median
displacement of one export and of the average of many exports of one workspace (must not
fall), what eight independent secrets would have given, and how many fresh data
directories gave a new draw (must be 0).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from crisismap import pipeline, publish, report
from crisismap.boundaries import load_boundaries
from crisismap.cli import main
from crisismap.schema import Period, View
from crisismap.store import Workspace
from tests.adversarial import figures

SUITE = "masked points"
pytestmark = pytest.mark.slow  # real data, several protected views
K = 5
MASKING = publish.Masking(radius_m=5_000, min_radius_m=500)
UCDP = "incidents/ucdp_ged_ukr/ucdp_ged_ukr_2014_2021_hxl.csv"
# The releases an NGO makes over time: yearly and quarterly, cumulative and shifted windows.
VIEWS = [
    View.parse(level=1, period="year"),
    View.parse(level=1, period="quarter"),
    View.parse(level=1, period="year", start="2014-01-01"),  # a window that cuts a year is refused
    View.parse(level=1, period="year", start="2015-01-01"),
    View.parse(level=1, period="quarter", start="2016-01-01", end="2019-12-31"),
    View.parse(level=1, period="year", end="2018-12-31"),
    View.parse(level=1, period="month", start="2020-01-01"),
]


@pytest.fixture(scope="module")
def analysis(shared_data) -> pipeline.Analysis:
    data = (shared_data / UCDP).read_bytes()
    return pipeline.analyse(data, load_boundaries("world:UKR"), filename="ucdp.csv")


@pytest.fixture(scope="module")
def secret(tmp_path_factory) -> bytes:
    """The workspace's one secret, made with the workspace before any export."""
    return Workspace.open(tmp_path_factory.mktemp("workspace")).secret


@pytest.fixture(scope="module")
def releases(analysis, secret):
    out = []
    for view in VIEWS:
        protected = report.view_figures(analysis, view, k=K)
        points = report.view_points(
            analysis, view, masking=MASKING, secret=secret, figures=protected
        )
        out.append((view, protected, points))
    return out


def test_counting_points_recovers_no_suppressed_cell(analysis, releases):
    tried = recovered = mismatched = 0
    for view, protected, points in releases:
        truth = pipeline.summarize(analysis, view).set_index(["region_code", "period", "category"])
        counted = Counter()
        for row in points.itertuples(index=False):
            for label in str(row.category).split(";"):
                counted[(row.adm1_code, row.period, label.strip())] += 1
        for cell in protected.cells.itertuples(index=False):
            key = (cell.region_code, cell.period, cell.category)
            n = counted.get(key, 0)
            if cell.suppressed:
                true = int(truth.loc[key, "incidents"]) if key in truth.index else 0
                if 0 < true < K:
                    tried += 1
                    recovered += int(n == true)
            else:
                mismatched += int(n != int(cell.incidents))
    figures.put(SUITE, "public exports attacked (UCDP Ukraine, admin-1)", len(releases))
    figures.put(SUITE, "small cells tried by counting points", tried)
    figures.put(SUITE, "small cells recovered by counting points (must be 0)", recovered)
    figures.put(SUITE, "published cells whose point count differs (must be 0)", mismatched)
    assert tried >= 40
    assert recovered == 0 and mismatched == 0


def _error_m(points: pd.DataFrame, truth: dict) -> np.ndarray:
    """Distance from each point to its record's true place."""
    true = np.array(
        [truth[(lat, lon)] for lat, lon in zip(points["lat"], points["lon"], strict=True)]
    )
    return Geod(ellps="WGS84").inv(true[:, 1], true[:, 0], points["lon"], points["lat"])[2]


def test_averaging_exports_of_one_workspace_does_not_narrow_points(analysis, releases, secret):
    every = report.view_points(
        analysis, View(1, Period.YEAR), masking=MASKING, secret=secret, public=False
    )
    records = analysis.records.iloc[every.index]
    truth = {
        (lat, lon): (t_lat, t_lon)
        for lat, lon, t_lat, t_lon in zip(
            every["lat"], every["lon"], records["lat"], records["lon"], strict=True
        )
    }
    assert len(truth) == len(every)  # no two records share a displaced place
    single = np.median(_error_m(releases[0][2], truth))
    pooled = pd.concat([points for _, _, points in releases], ignore_index=True)
    # the attacker's best: average every appearance of the same point across exports
    averaged = pooled.groupby(["lat", "lon"], as_index=False).size()
    many = np.median(_error_m(averaged, truth))
    # the same records, one export against all of them pooled: no record moved nearer
    first = releases[0][2]
    same = np.median(
        _error_m(
            averaged[
                averaged.set_index(["lat", "lon"]).index.isin(first.set_index(["lat", "lon"]).index)
            ],
            truth,
        )
    )
    again = report.view_points(analysis, VIEWS[0], masking=MASKING, secret=secret)
    assert again.equals(releases[0][2])  # the same export twice: the same points
    # what independent secrets (one per fresh data directory) would have given
    draws = [
        report.view_points(
            analysis, VIEWS[0], masking=MASKING, secret=publish.new_secret(), public=False
        )
        for _ in range(8)
    ]
    mean_lat = np.mean([d["lat"].to_numpy() for d in draws], axis=0)
    mean_lon = np.mean([d["lon"].to_numpy() for d in draws], axis=0)
    base = analysis.records.iloc[draws[0].index]
    eight = np.median(Geod(ellps="WGS84").inv(base["lon"], base["lat"], mean_lon, mean_lat)[2])
    figures.put(SUITE, "median displacement, one export (m)", round(float(single)))
    figures.put(
        SUITE, f"median error after averaging {len(releases)} exports (m)", round(float(many))
    )
    figures.put(
        SUITE, "median error had 8 secrets been drawn (m, now refused)", round(float(eight))
    )
    assert same >= single - 1  # averaging gave the first export's records nothing
    assert eight < single * 0.6  # the attack the refusal below prevents is real


def test_fresh_data_directories_give_no_new_draw(tmp_path, monkeypatch, capsys, shared_data):
    source = shared_data / UCDP
    refused = drawn = 0
    for n in range(8):
        data_dir = tmp_path / f"fresh-{n}"
        monkeypatch.setenv("CRISISMAP_DATA_DIR", str(data_dir))
        out = tmp_path / f"r{n}.zip"
        argv = ["report", str(source), "--boundaries", "world:UKR", "--level", "1"]
        argv += ["--period", "year", "--mask", "displace:5000", "--out", str(out)]
        code = main(argv)
        err = capsys.readouterr().err
        refused += int(code == 2 and "crisismap workspace init" in err)
        drawn += int(out.exists())
        assert not Workspace.exists(data_dir)  # refused before creating anything
    figures.put(SUITE, "fresh data directories tried", 8)
    figures.put(SUITE, "fresh data directories that gave a new draw (must be 0)", drawn)
    assert refused == 8 and drawn == 0


def test_points_name_no_region_finer_than_the_view(releases):
    finer = sum(len(publish.finer_columns(list(p.columns), v.level)) for v, _, p in releases)
    figures.put(SUITE, "region columns finer than the view in public points (must be 0)", finer)
    assert finer == 0
    assert not any({"date", "date_end"} & set(p.columns) for _, _, p in releases)
