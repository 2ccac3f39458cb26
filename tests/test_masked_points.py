"""Public masked points say no more than the published tables (issue 12, point 2).

A hand-built analysis with a suppressed cell and multi-label records: counting the public
points per (region, period, category) must give every published figure exactly and 0 in
every suppressed cell, and no point may carry a region finer than the view's level.
"""

from __future__ import annotations

import csv
import io
from collections import Counter

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from crisismap import pipeline, publish, report
from crisismap.boundaries import BoundarySet
from crisismap.schema import Period, View
from tests.test_bundle import pdf_text  # noqa: F401 (the fixture)

SECRET = b"workspace secret used only in tests"
MASKING = publish.Masking(radius_m=5_000, min_radius_m=500)
MONTHLY = View(1, Period.MONTH)
K = 5


def two_level_squares() -> BoundarySet:
    """AAA; admin-1 N (top row) and S; admin-2 NW, NE, SW, SE (1° squares)."""
    boxes2 = {"NW": (30, 11), "NE": (31, 11), "SW": (30, 10), "SE": (31, 10)}
    level2 = gpd.GeoDataFrame(
        {"code": list(boxes2), "name": [f"District {c}" for c in boxes2], "country": "AAA"},
        geometry=[shapely.box(x, y, x + 1, y + 1) for x, y in boxes2.values()],
        crs=4326,
    )
    level2["parent_code"] = [c[0] for c in boxes2]
    level1 = gpd.GeoDataFrame(
        {"code": ["N", "S"], "name": ["North", "South"], "parent_code": "AAA", "country": "AAA"},
        geometry=[shapely.box(30, 11, 32, 12), shapely.box(30, 10, 32, 11)],
        crs=4326,
    )
    level0 = gpd.GeoDataFrame(
        {"code": ["AAA"], "name": ["Alphaland"], "parent_code": [None], "country": ["AAA"]},
        geometry=[shapely.box(30, 10, 32, 12)],
        crs=4326,
    )
    return BoundarySet(
        name="two-level squares",
        source="hand-made (tests)",
        version="1",
        levels={0: level0, 1: level1, 2: level2},
        sha256="1" * 64,
    )


# (admin-1 row y, month, category value, how many); x alternates between the two districts
PLAN = [
    (11, 1, "killing", 5),
    (11, 1, "killing; detention", 1),
    (11, 1, "detention", 5),
    (10, 1, "killing", 6),
    (10, 1, "killing; detention", 1),  # detention in S, January: 1 -> suppressed
    (10, 2, "killing", 2),  # suppressed: these records can never be points
    (10, 2, "detention", 5),
    (11, 2, "killing", 5),
    (11, 2, "killing; detention", 1),
    (11, 2, "detention", 5),
    (11, 3, "killing; detention", 5),
    (10, 3, "killing", 5),
]


def plan_csv(with_ids: bool = True) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*(["id"] if with_ids else []), "date", "latitude", "longitude", "category"])
    n = 0
    for y, month, category, count in PLAN:
        for i in range(count):
            n += 1
            x = 30.3 + (i % 2) + 0.04 * i
            row = [f"2024-{month:02d}-{i + 3:02d}", f"{y + 0.3 + 0.03 * i:.4f}", f"{x:.4f}"]
            writer.writerow([*([f"case-{n:03d}"] if with_ids else []), *row, category])
    return buffer.getvalue().encode()


@pytest.fixture(scope="module")
def analysis() -> pipeline.Analysis:
    return pipeline.analyse(
        plan_csv(), two_level_squares(), filename="plan.csv", category_separator=";"
    )


@pytest.fixture(scope="module")
def published(analysis):
    figures = report.view_figures(analysis, MONTHLY, public=True, k=K)
    points = report.view_points(analysis, MONTHLY, masking=MASKING, secret=SECRET, figures=figures)
    return figures, points


def point_counts(points: pd.DataFrame) -> Counter:
    """Points per (region, period, category label): what a reader counts in points.csv."""
    counted: Counter = Counter()
    for row in points.itertuples(index=False):
        for label in str(row.category).split(";"):
            counted[(row.adm1_code, row.period, label.strip())] += 1
    return counted


def test_points_counted_per_cell_give_exactly_the_published_figures(published):
    figures, points = published
    cells = figures.cells
    hidden = cells[cells["suppressed"]]
    assert {("S", "2024-01", "detention"), ("S", "2024-02", "killing")} <= set(
        zip(hidden["region_code"], hidden["period"], hidden["category"], strict=True)
    )
    counted = point_counts(points)
    for cell in cells.itertuples(index=False):
        key = (cell.region_code, cell.period, cell.category)
        expected = 0 if cell.suppressed else int(cell.incidents)
        assert counted.pop(key, 0) == expected, key
    assert not counted  # no point outside the table's cells


def test_a_multi_label_record_shows_only_its_published_labels(analysis, published):
    figures, points = published
    cells = figures.cells.set_index(["region_code", "period", "category"])
    records = pd.concat([analysis.records, analysis.joined], axis=1)
    multi = records[records["category"].astype(str).str.contains(";")]
    assert len(multi) >= 3  # the plan holds killing-and-detention records
    seen = {"both": 0, "one": 0}
    for row in multi.itertuples(index=False):
        period = str(row.date)[:7]
        labels = [x.strip() for x in str(row.category).split(";")]
        published_labels = [
            x for x in labels if not bool(cells.loc[(row.adm1_code, period, x), "suppressed"])
        ]
        key = "both" if len(published_labels) == 2 else "one" if published_labels else None
        if key:
            seen[key] += 1
    # every point's labels are published cells of its region and period
    for row in points.itertuples(index=False):
        for label in str(row.category).split(";"):
            assert not bool(cells.loc[(row.adm1_code, row.period, label.strip()), "suppressed"])
    assert sum(seen.values()) > 0


def test_records_whose_every_cell_is_suppressed_are_left_out_and_counted(analysis, published):
    figures, points = published
    pairs_hidden = figures.cells.loc[figures.cells["suppressed"], "incidents"]
    assert points.attrs["left_out"] >= 2  # the two February killings in S at least
    assert len(points) + points.attrs["left_out"] == len(analysis.records)
    assert pairs_hidden.isna().all()  # the tables hide them too


def test_public_points_carry_no_region_finer_than_the_view(analysis, published):
    _, points = published
    assert set(points.columns) == {
        "period",
        "category",
        "lat",
        "lon",
        "victims",
        "adm0_code",
        "adm0_name",
        "adm1_code",
        "adm1_name",
    }
    district = View(2, Period.MONTH)
    finer = report.view_points(analysis, district, masking=MASKING, secret=SECRET)
    assert {"adm2_code", "adm2_name", "adm1_code"} <= set(finer.columns)
    inside = report.view_points(analysis, MONTHLY, masking=MASKING, secret=SECRET, public=False)
    assert "adm2_code" in inside  # internal points keep everything


def test_public_points_carry_the_period_not_the_date(published):
    figures, points = published
    assert not {"date", "date_end", "date_precision"} & set(points.columns)
    cells = figures.cells
    shown = set(cells.loc[~cells["suppressed"] & (cells["incidents"] > 0), "period"])
    assert set(points["period"]) == shown and shown


def test_a_category_filter_keeps_only_the_counted_labels(analysis):
    view = View(1, Period.MONTH, categories=("detention",))
    figures = report.view_figures(analysis, view, public=True, k=K)
    points = report.view_points(analysis, view, masking=MASKING, secret=SECRET, figures=figures)
    assert set(points["category"]) == {"detention"}
    counted = point_counts(points)
    for cell in figures.cells.itertuples(index=False):
        expected = 0 if cell.suppressed else int(cell.incidents)
        assert counted.get((cell.region_code, cell.period, cell.category), 0) == expected


def test_published_pairs_need_a_present_unsuppressed_cell():
    cells = pd.DataFrame(
        {
            "region_code": ["A", "A", "B"],
            "period": ["2024-01", "2024-01", "2024-01"],
            "category": ["x", "y", "x"],
            "incidents": pd.array([6, None, 7], dtype="Int64"),
            "suppressed": [False, True, False],
        }
    )
    pairs = pd.DataFrame(
        {
            "row": [0, 0, 1, 2, 3],
            "region_code": ["A", "A", "A", "B", "C"],
            "period": ["2024-01"] * 5,
            "category": ["x", "y", "y", "x", "x"],
        }
    )
    assert publish.published_pairs(pairs, cells).tolist() == [True, False, False, True, False]


def test_finer_columns_are_those_below_the_level():
    columns = ["lat", "adm0_code", "adm1_name", "adm2_code", "adm2_match", "adm3_name", "admx"]
    assert publish.finer_columns(columns, 1) == ["adm2_code", "adm2_match", "adm3_name"]
    assert publish.finer_columns(columns, 3) == []


def test_the_secret_fingerprint_names_the_secret_without_giving_it():
    print_ = publish.secret_fingerprint(SECRET)
    assert len(print_) == 16 and int(print_, 16) >= 0
    assert print_ == publish.secret_fingerprint(SECRET)
    assert print_ != publish.secret_fingerprint(SECRET + b"!")
    assert print_ not in SECRET.hex()


# ----------------------------------------------------------------------------- the bundle


def bundle(analysis, **options) -> dict[str, bytes]:
    import zipfile

    data = report.build_bundle(analysis, MONTHLY, k=K, masking=MASKING, secret=SECRET, **options)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


@pytest.mark.slow
def test_the_bundle_counts_left_out_points_and_names_the_secret(analysis, pdf_text):  # noqa: F811
    import json

    files = bundle(analysis)
    points = pd.read_csv(io.BytesIO(files["points.csv"]), dtype=str, keep_default_na=False)
    manifest = json.loads(files["manifest.json"])["parameters"]["publication"]
    said = manifest["points"]
    assert said["points"] == len(points)
    assert said["points"] + said["left_out"] == len(analysis.records)
    assert said["secret_fingerprint"] == publish.secret_fingerprint(SECRET)
    assert said["generated_ids"] == 0
    readme = files["README.txt"].decode()
    assert f"{said['left_out']:,} records of this view are not in points.csv" in readme
    assert publish.secret_fingerprint(SECRET) in readme
    text = " ".join(pdf_text(files["brief.pdf"]).split())
    assert f"{said['left_out']:,} records of this view are not in points.csv" in text
    assert "one row per incident shows counts" not in readme


@pytest.mark.slow
def test_points_keyed_on_generated_ids_carry_a_warning(pdf_text):  # noqa: F811
    import json

    analysis = pipeline.analyse(
        plan_csv(with_ids=False), two_level_squares(), filename="p.csv", category_separator=";"
    )
    files = bundle(analysis)
    said = json.loads(files["manifest.json"])["parameters"]["publication"]["points"]
    assert said["generated_ids"] == said["points"] > 0
    assert "moves to a new place" in files["README.txt"].decode()
    assert "--id-column" in " ".join(pdf_text(files["brief.pdf"]).split())
