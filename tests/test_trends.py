"""Trend tables: small counts do not alarm, real spikes do, hidden figures stay hidden."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crisismap import pipeline, trends
from crisismap.aggregate.trends import (
    FALLING,
    HIDDEN,
    RISING,
    SHORT,
    STEADY,
    TrendSettings,
    latest_complete_period,
)
from crisismap.aggregate.trends import trends as trend_table
from crisismap.cli import main
from crisismap.schema import View

WEEKS = pd.date_range("2024-01-01", periods=12, freq="W-MON")


def table(series: dict[str, list[float | None]]) -> pd.DataFrame:
    rows = []
    for code, counts in series.items():
        for start, count in zip(WEEKS, counts, strict=False):
            rows.append(
                {
                    "region_code": code,
                    "region_name": f"Region {code}",
                    "period": start.strftime("%G-W%V"),
                    "period_start": start,
                    "period_end": start + pd.Timedelta(days=6),
                    "incidents": count,
                }
            )
    frame = pd.DataFrame(rows)
    frame["incidents"] = pd.array(frame["incidents"], dtype="Int64")
    return frame


def status(frame: pd.DataFrame) -> dict[str, str]:
    return dict(zip(frame["region_code"], frame["status"], strict=True))


LAST = WEEKS[-1].strftime("%G-W%V")


def test_a_real_spike_rises_and_a_collapse_falls():
    frame = trend_table(
        table(
            {
                "spike": [1, 2, 1, 0, 2, 1, 1, 2, 1, 1, 2, 12],
                "collapse": [10, 12, 9, 11, 10, 13, 9, 10, 11, 12, 10, 1],
                "flat": [4, 5, 3, 4, 6, 4, 5, 3, 4, 5, 4, 5],
            }
        ),
        latest=LAST,
    )
    assert status(frame) == {"spike": RISING, "collapse": FALLING, "flat": STEADY}
    assert frame["region_code"].iloc[0] == "spike"  # rising first
    row = frame.set_index("region_code").loc["spike"]
    assert row["incidents"] == 12 and row["baseline_periods"] == 8
    baseline = [1, 2, 1, 0, 2, 1, 1, 2, 1, 1, 2, 12][-9:-1]  # the eight weeks before
    assert row["baseline_mean"] == pytest.approx(np.mean(baseline), abs=0.01)


def test_small_counts_do_not_alarm():
    """0 -> 2 is not a 200 % rise; 1 -> 0 is not a fall; 2 -> 4 is within chance."""
    frame = trend_table(
        table(
            {
                "zero_to_two": [0] * 11 + [2],
                "one_to_none": [1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 1, 0],
                "two_to_four": [2, 1, 3, 2, 2, 1, 2, 3, 2, 2, 1, 4],
            }
        ),
        latest=LAST,
    )
    assert set(frame["status"]) == {STEADY}


def test_a_region_that_always_swings_needs_a_bigger_swing():
    """Overdispersed baselines use a negative binomial: 9 after 0/7/0/7 is not an alarm,
    9 after a steady 2 a week is."""
    frame = trend_table(
        table(
            {
                "swinging": [0, 7, 0, 7, 0, 8, 0, 7, 0, 6, 0, 9],
                "steady": [2, 2, 3, 2, 2, 2, 3, 2, 2, 2, 2, 9],
            }
        ),
        latest=LAST,
    )
    assert status(frame) == {"swinging": STEADY, "steady": RISING}
    rows = frame.set_index("region_code")
    assert rows.loc["swinging", "usual_high"] > rows.loc["steady", "usual_high"]


def test_many_regions_do_not_raise_false_alarms_by_chance():
    """300 regions with steady Poisson counts: the table-wide adjustment keeps the alarms
    near none (unadjusted, about 5 % of them would fire)."""
    rng = np.random.default_rng(3)
    series = {f"R{i:03d}": rng.poisson(5, 12).tolist() for i in range(300)}
    frame = trend_table(table(series), latest=LAST)
    assert (frame["status"] != STEADY).sum() <= 3


def test_hidden_figures_and_short_history():
    frame = trend_table(
        table({"A": [1, 2, 1, 3, 2, None, 2, 3, 2, 1, 2, 2], "B": [5] * 12}), latest=LAST
    )
    row = frame.set_index("region_code").loc["A"]
    assert row["status"] == HIDDEN
    assert pd.isna(row["incidents"]) and pd.isna(row["baseline_mean"]) and pd.isna(row["p_rise"])
    second = WEEKS[1].strftime("%G-W%V")
    early = trend_table(table({"B": [5] * 12}), latest=second)
    assert early["status"].tolist() == [SHORT]  # one week of history is not a baseline
    assert early["baseline_periods"].tolist() == [1]


def test_baseline_length_is_the_users():
    frame = trend_table(
        table({"A": [9, 9, 9, 9, 9, 9, 9, 9, 1, 1, 1, 1]}),
        latest=LAST,
        settings=TrendSettings(baseline=3),
    )
    assert frame["baseline_periods"].tolist() == [3]
    assert frame["baseline_mean"].tolist() == [1.0]
    with pytest.raises(ValueError, match="baseline"):
        TrendSettings(baseline=1)


def test_the_latest_complete_period_skips_a_partly_covered_one():
    periods = table({"A": [1] * 12})[["period", "period_end"]].drop_duplicates()
    last_end = WEEKS[-1] + pd.Timedelta(days=6)
    assert latest_complete_period(periods, last_end) == LAST
    assert latest_complete_period(periods, last_end - pd.Timedelta(days=1)) == WEEKS[-2].strftime(
        "%G-W%V"
    )
    assert latest_complete_period(periods, WEEKS[0]) is None


# ----------------------------------------------------------------------------- end to end

DEMO = Path(__file__).resolve().parents[1] / "data" / "incidents" / "demo_sudan_synthetic.csv"


@pytest.fixture(scope="module")
def demo() -> pipeline.Analysis:
    from crisismap.boundaries import load_boundaries

    return pipeline.analyse(DEMO.read_bytes(), load_boundaries("world:SDN"), filename="d.csv")


def test_public_trends_read_only_published_figures(demo):
    view = View.parse(level=1, period="month")
    public = trends.view_trends(demo, view, public=True, k=5)
    internal = trends.view_trends(demo, view, public=False)
    assert public.latest == internal.latest
    pub = public.table.set_index("region_code")
    inner = internal.table.set_index("region_code")
    assert set(pub.index) == set(inner.index)
    shown = pub[pub["status"] != HIDDEN]
    assert len(shown) >= 3
    # a published count is exact: the internal per-category figures summed (public totals
    # count an incident in each of its categories)
    cells = pipeline.summarize(demo, view)
    latest = cells[cells["period"].astype(str) == public.latest]
    per_label = latest.groupby("region_code", observed=True)["incidents"].sum()
    assert (shown["incidents"] == per_label.loc[shown.index]).all()
    assert public.settings["counting"] != internal.settings["counting"]
    hidden = pub[pub["status"] == HIDDEN]
    small = inner[(inner["incidents"] > 0) & (inner["incidents"] < 5)]
    assert set(small.index) <= set(hidden.index)  # no small figure comes out
    assert hidden[["incidents", "baseline_mean", "change", "p_rise"]].isna().all().all()


def test_the_cli_writes_the_table_the_library_makes(tmp_path, demo, monkeypatch, capsys):
    monkeypatch.setenv("CRISISMAP_DATA_DIR", str(tmp_path / "data"))
    out = tmp_path / "trends.csv"
    code = main(
        ["trends", str(DEMO), "--boundaries", "world:SDN", "--level", "1", "--period", "month",
         "--out", str(out), "--internal"]
    )  # fmt: skip
    assert code == 0
    written = tmp_path / "SENSITIVE_trends.csv"
    assert written.is_file() and not out.exists()
    with written.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    expected = trends.view_trends(demo, View.parse(level=1, period="month"), public=False).table
    assert [r["region_code"] for r in rows] == expected["region_code"].tolist()
    assert [r["status"] for r in rows] == expected["status"].tolist()
    assert "region(s) rose above their usual level" in capsys.readouterr().err


def test_the_cli_refuses_a_period_not_in_the_view(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CRISISMAP_DATA_DIR", str(tmp_path / "data"))
    code = main(
        ["trends", str(DEMO), "--boundaries", "world:SDN", "--level", "1", "--period", "month",
         "--latest", "1999-01", "--out", str(tmp_path / "t.xlsx")]
    )  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "'1999-01' is not a month of this view" in err and "Traceback" not in err


def test_the_xlsx_says_how_it_was_made(tmp_path, demo):
    import openpyxl

    made = trends.view_trends(demo, View.parse(level=1, period="month"), public=True, k=5)
    book = openpyxl.load_workbook(io.BytesIO(trends.export(made, "xlsx")))
    about = " ".join(str(c.value) for c in book["About"]["A"])
    assert "Benjamini-Hochberg" in about and "PUBLIC" in about.upper()


def _spike_csv() -> bytes:
    """North-West: 6 a month, then 20; North-East and South-East: 8 a month; South-West:
    2 a month, then 9 (its past is hidden in public: under k = 5)."""
    plan = {
        (11.5, 30.5): [6] * 11 + [20],
        (11.5, 31.5): [8] * 12,
        (10.5, 30.5): [2] * 11 + [9],
        (10.5, 31.5): [8] * 12,
    }
    rows = ["id,date,latitude,longitude,category"]
    n = 0
    for (lat, lon), counts in plan.items():
        for month, count in enumerate(counts, start=1):
            for day in range(count):
                n += 1
                rows.append(f"e{n},2023-{month:02d}-{day + 1:02d},{lat},{lon},killing")
    return ("\n".join(rows) + "\n").encode()


def test_the_brief_names_the_regions_that_rose_and_a_public_one_only_published_ones():
    from crisismap import report
    from crisismap.report.pdf import change_sentence
    from tests.test_bundle import squares

    analysis = pipeline.analyse(_spike_csv(), squares(), filename="s.csv")
    view = View.parse(level=1, period="month")
    internal = change_sentence(report.view_figures(analysis, view, public=False))
    assert internal is not None and "Change in 2023-12" in internal
    assert "above the usual level: North-West, South-West;" in internal
    public = change_sentence(report.view_figures(analysis, view, public=True, k=5))
    assert public is not None and "above the usual level: North-West;" in public
    assert "South-West" not in public  # its monthly figures (2) are hidden


def test_regions_without_any_incident_in_the_compared_periods_are_left_out():
    frame = trend_table(
        table({"quiet": [0] * 12, "busy": [5] * 12, "new": [0] * 11 + [1]}), latest=LAST
    )
    assert frame["region_code"].tolist() == ["busy", "new"]  # busiest first


def test_distribution_functions_match_scipy_stats():
    """The comparison uses scipy.special (scipy.stats costs 0.6 s to import): same tails,
    quantiles and Benjamini–Hochberg adjustment as scipy.stats, over small and large
    counts, Poisson and overdispersed baselines."""
    from scipy import stats

    from crisismap.aggregate.trends import _bh, _exceedance

    rng = np.random.default_rng(7)
    observed = rng.integers(0, 60, 400).astype(float)
    mean = np.concatenate([rng.uniform(0.0, 30.0, 200), rng.uniform(0.05, 3.0, 200)])
    var = np.where(rng.random(400) < 0.5, mean, mean * rng.uniform(1.1, 6.0, 400))
    rise, fall, high = _exceedance(observed, mean, var)
    rate = np.maximum(mean, 0.1)
    over = var > rate * 1.0001
    with np.errstate(divide="ignore"):  # not used where var == rate
        size, prob = rate * rate / (var - rate), rate / var
    want_rise = np.where(
        over, stats.nbinom.sf(observed - 1, size, prob), stats.poisson.sf(observed - 1, rate)
    )
    want_fall = np.where(
        over, stats.nbinom.cdf(observed, size, prob), stats.poisson.cdf(observed, rate)
    )
    want_high = np.where(over, stats.nbinom.ppf(0.95, size, prob), stats.poisson.ppf(0.95, rate))
    np.testing.assert_allclose(rise, want_rise, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fall, want_fall, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(high, want_high)
    p = np.concatenate([rng.random(50), [0.0, 1.0, 0.01, 0.01]])
    np.testing.assert_allclose(_bh(p), stats.false_discovery_control(p, method="bh"))
