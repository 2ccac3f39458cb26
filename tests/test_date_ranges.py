"""Records dated over several days: never spread (default), or counted on their start or
end date as the user chooses; the choice is other data for the public grid's ledger."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from crisismap import pipeline, releases, report
from crisismap.boundaries import load_boundaries
from crisismap.cli import main
from crisismap.errors import InvalidValueError
from crisismap.records import RangeCounts, pin_date_ranges, range_counts
from crisismap.schema import IMPRECISE_PERIOD, DateRange, View

UCDP = "incidents/ucdp_ged_ukr/ucdp_ged_ukr_2014_2021_hxl.csv"

# Kyiv: one day; a range over a month's end; a partial date (precision month)
_ROWS = [
    {"id": "one-day", "date_start": "2024-01-10", "date_end": "", "victims": 1},
    {"id": "range", "date_start": "2024-01-30", "date_end": "2024-02-02", "victims": 2},
    {"id": "partial", "date_start": "2024-03", "date_end": "", "victims": 4},
]


def _analyse(choice: str) -> pipeline.Analysis:
    frame = pd.DataFrame(_ROWS).assign(lat=50.45, lon=30.52)
    data = frame.to_csv(index=False).encode()
    return pipeline.analyse(data, load_boundaries("world:UKR"), date_range=choice)


def _victims_by_period(analysis: pipeline.Analysis, period: str) -> dict[str, int]:
    summary = pipeline.summarize(analysis, View.parse(level=1, period=period))
    summary = summary[summary["incidents"] > 0]
    return summary.groupby("period")["victims"].sum().astype(int).to_dict()


@pytest.mark.parametrize(
    ("choice", "months"),
    [
        ("never", {"2024-01": 1, IMPRECISE_PERIOD: 2, "2024-03": 4}),
        ("start", {"2024-01": 3, "2024-03": 4}),
        ("end", {"2024-01": 1, "2024-02": 2, "2024-03": 4}),
    ],
)
def test_a_range_counts_where_the_choice_says(choice, months):
    assert _victims_by_period(_analyse(choice), "month") == months


def test_a_partial_date_is_never_pinned_to_a_day():
    """'2024-03' says how little is known, not how long the event lasted."""
    weeks = _victims_by_period(_analyse("start"), "week")
    assert weeks[IMPRECISE_PERIOD] == 4


def test_the_choice_is_in_the_parameters_and_the_note():
    analysis = _analyse("end")
    assert analysis.parameters["date_range"] == "end"
    assert "1 record (2 victims) has dates spanning several days: each is counted on its end" in (
        " ".join(analysis.report.notes)
    )


def test_pinning_keeps_records_without_a_range_as_they_are():
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime(["2024-01-01", "2024-01-05"]),
            "date_end": pd.to_datetime(["2024-01-01", "2024-01-09"]),
            "date_precision": ["day", "day"],
            "victims": [3.0, float("nan")],
        }
    )
    assert range_counts(frame) == RangeCounts(records=1, victims=0)
    start = pin_date_ranges(frame, "start")
    assert list(start["date_end"].dt.day) == [1, 5]
    end = pin_date_ranges(frame, DateRange.END)
    assert list(end["date"].dt.day) == [1, 9]
    assert pin_date_ranges(frame, "never") is frame
    with pytest.raises(InvalidValueError, match="never, start, end"):
        pin_date_ranges(frame, "middle")


@pytest.fixture(scope="module")
def ucdp(shared_data):
    path = shared_data / UCDP
    world = load_boundaries("world:UKR")
    return {
        choice: pipeline.analyse(path.read_bytes(), world, filename=path.name, date_range=choice)
        for choice in ("never", "start", "end")
    }


def test_ucdp_ukraine_ranges_move_out_of_not_attributable(ucdp):
    counts = range_counts(ucdp["never"].records)
    assert (counts.records, counts.victims) == (666, 3487)
    view = View.parse(level=1, period="month")
    by_choice = {c: pipeline.summarize(a, view) for c, a in ucdp.items()}
    vague = {c: s[s["period"] == IMPRECISE_PERIOD] for c, s in by_choice.items()}
    # 18 % of the deaths are dated over ranges no single month holds
    assert (int(vague["never"]["incidents"].sum()), int(vague["never"]["victims"].sum())) == (
        87,
        1428,
    )
    assert int(by_choice["never"]["victims"].sum()) == 7882
    for choice in ("start", "end"):
        assert vague[choice]["incidents"].sum() == 0
        assert int(by_choice[choice]["victims"].sum()) == 7882


def test_each_choice_is_its_own_grid_in_the_ledger(ucdp, tmp_path):
    """The choice changes the data: the public grid (the ledger's key) differs, so one
    choice's hidden set is never restored into another's."""
    view = View.parse(level=1, period="quarter")
    digests = {c: releases.grid_of(a, view, 5).digest() for c, a in ucdp.items()}
    assert len(set(digests.values())) == 3
    ledger = releases.Ledger(tmp_path / "releases")
    for analysis in ucdp.values():
        cells = report.view_figures(analysis, view, public=True, k=5, ledger=ledger).cells
        shown = cells.loc[~cells["suppressed"], "incidents"].astype(int)
        assert not ((shown > 0) & (shown < 5)).any()
    assert len(list((tmp_path / "releases").glob("*.json"))) == 3


def test_cli_date_range_goes_to_the_manifest(shared_data, tmp_path, capsys):
    code = main(
        [
            "summarize",
            str(shared_data / UCDP),
            "--boundaries",
            "world:UKR",
            "--level",
            "1",
            "--date-range",
            "start",
            "--internal",
            "--out",
            str(tmp_path / "s.csv"),
        ]
    )
    assert code == 0, capsys.readouterr().err
    manifest = json.loads((tmp_path / "SENSITIVE_s.manifest.json").read_text())
    assert manifest["parameters"]["date_range"] == "start"
    summary = pd.read_csv(tmp_path / "SENSITIVE_s.csv", dtype=str, keep_default_na=False)
    assert IMPRECISE_PERIOD not in set(summary["period"])


@pytest.mark.slow
def test_the_report_bundle_states_the_choice(shared_data, tmp_path, capsys):
    import io
    import shutil
    import subprocess
    import zipfile

    out = tmp_path / "report.zip"
    argv = ["report", str(shared_data / UCDP), "--boundaries", "world:UKR", "--level", "1"]
    code = main([*argv, "--period", "year", "--date-range", "end", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    with zipfile.ZipFile(io.BytesIO(out.read_bytes())) as bundle:
        manifest = json.loads(bundle.read("manifest.json"))
        brief = bundle.read("brief.pdf")
    assert manifest["parameters"]["date_range"] == "end"
    assert manifest["boundaries"]["date"].startswith("2013-06-02")
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=brief, capture_output=True, check=True
        ).stdout.decode()
        assert "counted on their end date" in " ".join(text.split())
