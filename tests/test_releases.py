"""Public releases read one grid: consistent across views, windows of whole periods, one k.

The attacks of issue 12 on the real UCDP GED Ukraine file (world:UKR, admin-1): a window
that cuts a period is refused (it is what differencing needs); month, quarter and year
views publish the same region totals; a quarter figure and its months never disagree;
a second k for the same data is refused through the ledger, on the command line too.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from crisismap import cli, pipeline, releases, report
from crisismap.boundaries import load_boundaries
from crisismap.errors import InvalidValueError
from crisismap.schema import IMPRECISE_PERIOD, View

UCDP = "incidents/ucdp_ged_ukr/ucdp_ged_ukr_2014_2021_hxl.csv"


@pytest.fixture(scope="module")
def ukraine(shared_data: Path) -> pipeline.Analysis:
    path = shared_data / UCDP
    return pipeline.analyse(path.read_bytes(), load_boundaries("world:UKR"), filename=path.name)


def _cells(figures: report.Figures) -> pd.DataFrame:
    return figures.cells.set_index(["region_code", "period", "category"])


@pytest.mark.parametrize(
    ("period", "start", "end", "wanted"),
    [
        ("year", "2019-02-01", None, "first day of a year"),
        ("month", None, "2019-03-30", "last day of a month"),
        ("quarter", "2019-02-01", "2019-06-30", "first day of a quarter"),
    ],
)
def test_a_public_window_that_cuts_a_period_is_refused(period, start, end, wanted):
    view = View.parse(level=1, period=period, start=start, end=end)
    with pytest.raises(InvalidValueError, match=wanted) as caught:
        releases.check_public_view(view)
    assert "--internal" in str(caught.value)


@pytest.mark.parametrize("period", ["day", "acled-week"])
def test_days_and_acled_weeks_are_not_public_periods(period):
    with pytest.raises(InvalidValueError, match="ISO weeks, months, quarters or years"):
        releases.check_public_view(View.parse(level=1, period=period))


@pytest.mark.slow
def test_views_of_one_dataset_agree_wherever_they_meet(ukraine):
    k = 5
    figures = {
        p: report.view_figures(ukraine, View.parse(level=1, period=p), public=True, k=k)
        for p in ("month", "quarter", "year", "week")
    }
    regions = [
        f.regions.set_index("region_code")[["incidents", "suppressed"]] for f in figures.values()
    ]
    for other in regions[1:]:
        pd.testing.assert_frame_equal(regions[0], other)
    months, quarters = _cells(figures["month"]), _cells(figures["quarter"])
    real = months.reset_index()
    real = real[real["period"].str.match(r"^\d{4}-\d{2}$")]
    real["quarter"] = pd.PeriodIndex(real["period"], freq="M").asfreq("Q").astype(str)
    real["quarter"] = real["quarter"].str.replace("Q", "-Q")
    checked = 0
    for (code, quarter, category), group in real.groupby(["region_code", "quarter", "category"]):
        if (code, quarter, category) not in quarters.index:
            continue
        q = quarters.loc[(code, quarter, category)]
        # records dated within the quarter but not to one month count in the quarter only
        vague_key = (code, IMPRECISE_PERIOD, category)
        vague = months.loc[vague_key] if vague_key in months.index else None
        no_vague = vague is None or (not vague["suppressed"] and int(vague["incidents"]) == 0)
        if no_vague and not group["suppressed"].any() and not q["suppressed"]:
            assert int(q["incidents"]) == int(group["incidents"].sum())
            checked += 1
        # a published quarter minus its published months never isolates one hidden month
        if not q["suppressed"] and int(group["suppressed"].sum()) == 1 and no_vague:
            pytest.fail(f"{code} {quarter} {category}: one hidden month under a published quarter")
    assert checked > 20
    # every small figure is hidden, in every view
    for f in figures.values():
        cells = f.cells
        assert not ((cells["incidents"] > 0) & (cells["incidents"] < k)).fillna(False).any()


@pytest.mark.slow
def test_window_totals_are_sums_of_whole_years(ukraine):
    whole = report.view_figures(ukraine, View.parse(level=1, period="year"), public=True, k=5)
    window = report.view_figures(
        ukraine,
        View.parse(level=1, period="month", start="2015-01-01", end="2016-12-31"),
        public=True,
        k=5,
    )
    cells = whole.cells[whole.cells["period"].isin(["2015", "2016"])]
    compared = 0
    for code, row in window.regions.set_index("region_code").iterrows():
        parts = cells[cells["region_code"] == code]
        if row["suppressed"] or parts["suppressed"].any():
            continue
        assert int(row["incidents"]) == int(parts["incidents"].sum()), code
        compared += 1
    assert compared > 5


def test_a_second_k_for_the_same_data_is_refused(tmp_path, monkeypatch, shared_data):
    monkeypatch.setenv("CRISISMAP_DATA_DIR", str(tmp_path / "data"))
    path = shared_data / UCDP
    common = [str(path), "--boundaries", "world:UKR", "--level", "1", "--period", "year"]
    assert cli.main(["summarize", *common, "--out", str(tmp_path / "a.csv")]) == 0
    ledger = list((tmp_path / "data").rglob("releases/*.json"))
    assert len(ledger) == 1
    assert cli.main(["summarize", *common, "--k", "3", "--out", str(tmp_path / "b.csv")]) == 2
    assert not (tmp_path / "b.csv").exists()
    # the same k again is fine, and so is an internal export
    assert cli.main(["summarize", *common, "--out", str(tmp_path / "c.csv")]) == 0
    assert (
        cli.main(["summarize", *common, "--internal", "--k", "3", "--out", str(tmp_path / "d.csv")])
        == 0
    )
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "c.csv").read_bytes()


def test_the_ledger_keeps_apart_two_readings_of_one_file(tmp_path, shared_data):
    """The same file read with other options is other data: its grid is not restored
    from the first one's ledger state (that would publish its small figures)."""
    path = shared_data / UCDP
    boundaries = load_boundaries("world:UKR")
    plain = pipeline.analyse(path.read_bytes(), boundaries, filename=path.name)
    snapped = pipeline.analyse(
        path.read_bytes(), boundaries, filename=path.name, snap_distance_m=50_000
    )
    ledger = releases.Ledger(tmp_path / "releases")
    view = View.parse(level=1, period="quarter")
    report.view_figures(plain, view, public=True, k=5, ledger=ledger)
    cells = report.view_figures(snapped, view, public=True, k=5, ledger=ledger).cells
    shown = cells.loc[~cells["suppressed"], "incidents"].astype(int)
    assert not ((shown > 0) & (shown < 5)).any()
    assert len(list((tmp_path / "releases").glob("*.json"))) == 2
