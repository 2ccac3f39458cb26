"""Public exports: small-cell suppression attacked, masking attacked, allow-lists enforced.

The attacker here sees only what a reader sees (the published cells and totals) and knows
the rules: totals add up, counts are never negative, a suppressed count is at least 1.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod

from crisismap import pipeline, publish
from crisismap.boundaries import load_boundaries
from crisismap.schema import Period, View
from tests.helpers.attacker import DIMS, Attacker

GEOD = Geod(ellps="WGS84")


def grid(counts: dict[tuple[str, str, str], int], victims: dict | None = None) -> pd.DataFrame:
    """A zero-filled region × period × category table from the non-zero cells."""
    regions = sorted({k[0] for k in counts})
    periods = sorted({k[1] for k in counts})
    cats = sorted({k[2] for k in counts})
    rows = []
    for key in itertools.product(regions, periods, cats):
        n = counts.get(key, 0)
        rows.append([*key, n, float((victims or {}).get(key, n))])
    return pd.DataFrame(rows, columns=[*DIMS, "incidents", "victims"])


def table2d(rows: dict[str, list[int]]) -> pd.DataFrame:
    """Region × period with one category, e.g. ``{"A": [2, 10], "B": [7, 8]}``."""
    counts = {
        (region, f"p{j + 1}", "c"): n for region, ns in rows.items() for j, n in enumerate(ns)
    }
    return grid(counts)


def suppressed_keys(protected: publish.Protected) -> set[tuple[str, ...]]:
    cells = protected.cells
    return {tuple(r) for r in cells.loc[cells["suppressed"], DIMS[:2]].itertuples(index=False)}


def assert_unrecoverable(protected: publish.Protected) -> None:
    attacker = Attacker(protected)
    assert attacker.by_subtraction() == {}
    assert attacker.by_linear_algebra() == set()
    assert attacker.by_intervals(lower=1.0) == {}
    victims = Attacker(protected, "victims")
    assert victims.by_subtraction() == {} or all(v == 0 for v in victims.by_subtraction().values())
    assert all(v == 0 for v in victims.by_intervals(lower=0.0).values())


# ----------------------------------------------------------------------------- suppression


def test_small_cell_gets_the_cheapest_complements_and_totals_stay():
    cells = table2d({"A": [2, 10], "B": [7, 8], "C": [9, 20]})
    protected = publish.suppress(cells, k=5)
    assert suppressed_keys(protected) == {("A", "p1"), ("A", "p2"), ("B", "p1"), ("B", "p2")}
    for frame in protected.margins.values():
        assert not frame["suppressed"].any()
    assert protected.margin("region_code")["incidents"].tolist() == [12, 15, 29]
    assert protected.margin()["incidents"].tolist() == [56]
    assert protected.settings["primary"] == 1 and protected.settings["complementary"] == 3
    assert_unrecoverable(protected)


def test_suppressed_cells_are_blank_with_their_victims():
    cells = grid(
        {("A", "p1", "c"): 2, ("A", "p2", "c"): 10, ("B", "p1", "c"): 7, ("B", "p2", "c"): 8},
        victims={("A", "p1", "c"): 30, ("A", "p2", "c"): 1},
    )
    out = publish.suppress(cells, k=5).cells
    hidden = out[out["suppressed"]]
    assert hidden["incidents"].isna().all() and hidden["victims"].isna().all()
    shown = out[~out["suppressed"]]
    assert shown["incidents"].notna().all() and shown["victims"].notna().all()


def test_a_row_of_ones_is_not_protected_by_a_loop_alone():
    """x + y = 2 with x, y >= 1 gives x = y = 1: the attacker knows it, so must we."""
    cells = table2d({"A": [1, 1, 30], "B": [1, 1, 40], "C": [12, 15, 50]})
    naive = publish.suppress(cells, k=1)  # suppress nothing ...
    naive.cells.loc[naive.cells["incidents"] == 1, "suppressed"] = True  # ... then just the 1s
    naive.cells.loc[naive.cells["suppressed"], ["incidents", "victims"]] = None
    attacker = Attacker(naive)
    assert attacker.by_linear_algebra() == set()  # a loop: no linear combination pins them
    assert len(attacker.by_intervals(lower=1.0)) == 4  # but each is 1, by the bounds

    protected = publish.suppress(cells, k=5)
    assert {("A", "p1"), ("A", "p2"), ("B", "p1"), ("B", "p2")} < suppressed_keys(protected)
    assert_unrecoverable(protected)


def test_a_category_with_one_incident_hides_a_second_category_total():
    counts = {("A", "p1", "x"): 30, ("A", "p2", "x"): 20, ("B", "p1", "x"): 25}
    counts |= {("B", "p2", "x"): 40, ("B", "p1", "y"): 1}
    protected = publish.suppress(grid(counts), k=5)
    totals = protected.margin("category").set_index("category")["suppressed"]
    assert totals.to_dict() == {"x": True, "y": True}
    assert protected.margin()["incidents"].tolist() == [116]
    assert_unrecoverable(protected)


def test_zeros_are_published_and_large_tables_untouched():
    cells = table2d({"A": [0, 10], "B": [7, 0], "C": [9, 20]})
    protected = publish.suppress(cells, k=5)
    assert not protected.cells["suppressed"].any()
    assert protected.cells["incidents"].tolist() == [0, 10, 7, 0, 9, 20]


def test_k_of_one_suppresses_nothing_and_says_so():
    cells = table2d({"A": [1, 10], "B": [7, 2]})
    protected = publish.suppress(cells, k=1)
    assert not protected.cells["suppressed"].any()
    assert protected.settings == {"method": "none", "k": 1}


def test_bad_tables_are_refused_with_a_sentence():
    cells = table2d({"A": [1, 10]})
    with pytest.raises(ValueError, match="duplicate rows"):
        publish.suppress(pd.concat([cells, cells]), k=5)
    with pytest.raises(ValueError, match="lacks column"):
        publish.suppress(cells.drop(columns="victims"), k=5)
    with pytest.raises(ValueError, match="non-negative whole numbers"):
        publish.suppress(cells.assign(incidents=[-1, 3]), k=5)


def test_same_table_same_pattern():
    cells = table2d({"A": [1, 3, 10, 6], "B": [7, 2, 8, 9], "C": [9, 20, 1, 5], "D": [6, 6, 6, 6]})
    first = publish.suppress(cells, k=5)
    again = publish.suppress(cells.copy(), k=5)
    assert first.cells.equals(again.cells)
    assert first.settings == again.settings
    assert_unrecoverable(first)


SMALL_COUNTS = st.sampled_from([0, 0, 0, 0, 1, 1, 1, 2, 3, 4, 5, 6, 7, 9, 12, 20, 40])


@st.composite
def tables(draw):
    n_r = draw(st.integers(2, 5))
    n_p = draw(st.integers(1, 4))
    n_c = draw(st.integers(1, 3))
    counts, victims = {}, {}
    for key in itertools.product(
        [f"R{i}" for i in range(n_r)], [f"P{i}" for i in range(n_p)], [f"C{i}" for i in range(n_c)]
    ):
        counts[key] = draw(SMALL_COUNTS)
        victims[key] = counts[key] * draw(st.sampled_from([0, 0, 1, 2, 5]))
    return grid(counts, victims), draw(st.sampled_from([3, 5]))


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_no_suppressed_figure_can_be_recovered(table):
    cells, k = table
    protected = publish.suppress(cells, k=k)
    every = [protected.cells, *protected.margins.values()]
    for frame in every:  # primary rule: nothing published in (0, k)
        shown = frame.loc[~frame["suppressed"], "incidents"].astype(int)
        assert not ((shown > 0) & (shown < k)).any()
    assert_unrecoverable(protected)


@pytest.mark.slow
def test_real_ucdp_ukraine_monthly_table_resists_the_attacks(shared_data):
    path = shared_data / "incidents" / "ucdp_ged_ukr" / "ucdp_ged_ukr_2014_2021_hxl.csv"
    analysis = pipeline.analyse(path.read_bytes(), load_boundaries("world:UKR"))
    cells = pipeline.summarize(analysis, View(1, Period.QUARTER))
    protected = publish.suppress(cells, k=5)
    assert protected.settings["primary"] > 10
    # the one non-state conflict incident of the file cannot be read from any total
    categories = protected.margin("category").set_index("category")
    assert categories.loc["non-state conflict", "suppressed"]
    attacker = Attacker(protected)
    assert attacker.by_subtraction() == {}
    assert attacker.by_linear_algebra() == set()
    assert attacker.by_intervals(lower=1.0) == {}


# ----------------------------------------------------------------------------- masking

SECRET = b"workspace-secret-for-tests-only!"


def points(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "id": [f"rec-{i}" for i in range(n)],
            "lat": 48.0 + rng.random(n),
            "lon": 31.0 + rng.random(n),
            "description": ["Witness Jane Doe saw ..."] * n,
        }
    )


def distances(a: pd.DataFrame, b: pd.DataFrame) -> np.ndarray:
    return GEOD.inv(
        a["lon"].to_numpy(), a["lat"].to_numpy(), b["lon"].to_numpy(), b["lat"].to_numpy()
    )[2]


def test_rounding_states_its_precision():
    masking = publish.Masking(method="round", decimals=2)
    out = publish.mask_points(pd.DataFrame({"lat": [48.123456], "lon": [31.987654]}), masking)
    assert out[["lat", "lon"]].values.tolist() == [[48.12, 31.99]]
    assert masking.settings()["approx_precision_m"] == 1113


def test_displacement_stays_in_its_ring_and_spreads_bearings():
    truth = points()
    masking = publish.Masking(radius_m=5_000, min_radius_m=500, keep_in_region=False)
    out = publish.mask_points(truth, masking, secret=SECRET)
    moved = distances(truth, out)
    assert moved.min() >= 500 - 1 and moved.max() <= 5_000 + 1
    bearings = GEOD.inv(truth["lon"], truth["lat"], out["lon"], out["lat"])[0]
    assert len(np.unique(np.floor((np.asarray(bearings) + 180) / 90))) == 4  # every quadrant


def test_averaging_many_exports_does_not_reveal_the_true_point():
    truth = points(50)
    masking = publish.Masking(radius_m=2_000, min_radius_m=200, keep_in_region=False)
    exports = [publish.mask_points(truth, masking, secret=SECRET) for _ in range(25)]
    average = pd.concat(exports).groupby(level=0)[["lat", "lon"]].mean()
    single = distances(truth, exports[0])
    averaged = distances(truth, average)
    np.testing.assert_allclose(averaged, single, rtol=1e-6)
    assert averaged.min() >= 200 - 1

    other = publish.mask_points(truth, masking, secret=b"another workspace secret")
    assert (distances(exports[0], other) > 1).all()  # the key, not the id alone, decides


def test_displacement_needs_the_workspace_secret():
    with pytest.raises(ValueError, match="workspace secret"):
        publish.mask_points(points(3), publish.Masking(), secret=None)


def test_per_record_radius_column():
    truth = points(100).assign(radius=[2_000.0, 10_000.0] * 50)
    masking = publish.Masking(
        radius_m=5_000, min_radius_m=0, radius_column="radius", keep_in_region=False
    )
    moved = distances(truth, publish.mask_points(truth, masking, secret=SECRET))
    assert moved[0::2].max() <= 2_000 + 1 and moved[1::2].max() > 2_000
    assert masking.settings()["radius_column"] == "radius"


def test_displaced_points_stay_in_their_region():
    square = shapely.box(31.0, 48.0, 31.05, 48.05)  # ~3.7 x 5.6 km
    regions = pd.DataFrame({"code": ["R1"], "geometry": [square]})
    truth = pd.DataFrame(
        {"id": [f"r{i}" for i in range(40)], "lat": [48.025] * 40, "lon": [31.025] * 40}
    ).assign(adm1_code="R1")
    masking = publish.Masking(radius_m=5_000, min_radius_m=100)
    out = publish.mask_points(
        truth, masking, secret=SECRET, regions=regions, region_column="adm1_code"
    )
    assert shapely.contains_xy(square, out["lon"], out["lat"]).all()
    assert (distances(truth, out) >= 100 - 1).all()


def test_bad_masking_settings_are_refused():
    with pytest.raises(ValueError, match="round or displace"):
        publish.Masking(method="blur")
    with pytest.raises(ValueError, match="min_radius_m < radius_m"):
        publish.Masking(radius_m=100, min_radius_m=500)


# ----------------------------------------------------------------------------- columns


def test_allow_list_drops_everything_else():
    frame = points(2).assign(source="Reuters", victims=[1, 2], notes="call +380...")
    out = publish.allow_columns(frame, publish.PUBLIC_POINT_COLUMNS)
    assert out.columns.tolist() == ["lat", "lon", "victims"]


@pytest.mark.parametrize("column", ["description", "source", "id", "line", "Notes"])
def test_allow_list_cannot_open_free_text_or_identifiers(column):
    with pytest.raises(ValueError, match="never be in a public export"):
        publish.allow_columns(points(2), ["lat", column])


def test_internal_exports_are_labelled_sensitive():
    assert publish.export_filename("summary.csv", public=False) == "SENSITIVE_summary.csv"
    assert publish.export_filename("summary.csv", public=True) == "summary.csv"
    label = publish.sensitivity_label(False)
    assert label["sensitivity"] == "sensitive" and "Do not publish" in label["notice"]
    settings = publish.public_settings(public=True, k=7, masking=publish.Masking())
    assert settings["sensitivity"] == "public" and "below 7" in settings["notice"]
    assert settings["masking"]["method"] == "displace"


def test_package_has_no_step_imports():
    """Every module of the package imports from crisismap only its own siblings
    (imports inside functions included): the publish step works on frames alone."""
    folder = Path(publish.__file__).parent
    modules = sorted(folder.glob("*.py"))
    assert len(modules) >= 5
    for module in modules:
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.level == 0 else ["relative"]
            else:
                continue
            for name in names:
                outside = (
                    name.split(".")[0] == "crisismap"
                    and not name.startswith("crisismap.publish.")
                    and name != "crisismap.i18n"  # the user's language: a leaf, for messages
                )
                assert not outside and name != "relative", f"{module.name} imports {name}"
