"""Many public exports of the same data, combined by an attacker (issue 12, point 1 and 2).

Exports through the CLI (``crisismap summarize --public``) and the library
(``report.view_figures(public=True)``), on UCDP GED Ukraine (world:UKR, admin-1) and on
generated incidents over CAF COD-AB (admin-1 and admin-2), combined in every way of
issue 12: cumulative and overlapping date windows, month / quarter / year (and week),
admin-1 against admin-2, one category against all, different k. The attacker
(tests/helpers/release_attack.py) reads only the published figures; for every small true
cell (1..k−1) of any export it looks for the value by differencing and by integer
programs. Prints: small cells tried, pinned uniquely (must be 0), best guess exactly
right against the same guess rule at chance (at most 5 points above), exports refused.

The masked points: report bundles with ``--mask displace:5000`` from one workspace and
from fresh workspaces, averaged per record: the median error must not fall below one
export's, and counting points must not give back a suppressed cell.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from crisismap import pipeline, report
from crisismap.boundaries import load_boundaries
from crisismap.cli import main
from crisismap.schema import Period, View
from tests.adversarial import figures
from tests.helpers.release_attack import Export, Model, Release, attack, truth_of
from tests.helpers.releases import CAF, CATEGORIES, generated_incidents, make_exports

SUITE = "release attacks"
UCDP = "incidents/ucdp_ged_ukr/ucdp_ged_ukr_2014_2021_hxl.csv"
CHANCE_MARGIN = 0.05
TARGETS = 150  # small cells tried per data set (times CRISISMAP_RELIABILITY_SCALE)

pytestmark = pytest.mark.slow


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def month_starts(first: str, last: str) -> list[dt.date]:
    return [p.start_time.date() for p in pd.period_range(first, last, freq="M")]


def month_end(start: dt.date, later: int = 0) -> dt.date:
    """The last day of the month ``later`` months after ``start``'s."""
    return (pd.Period(start, freq="M") + later).end_time.date()


# ----------------------------------------------------------------------------- UCDP


def ucdp_exports() -> list[Export]:
    """What an NGO publishing UCDP Ukraine figures every month would put out."""
    last = day("2021-12-31")
    out = []
    for start in month_starts("2019-01", "2021-12"):
        out.append(Export(1, Period.YEAR, start=start, end=last))  # "from <month> on"
        out.append(Export(1, Period.YEAR, start=day("2014-01-01"), end=month_end(start)))
    window = {"start": day("2019-01-01"), "end": last}
    out += [
        Export(1, Period.MONTH, **window),
        Export(1, Period.QUARTER, **window),
        Export(1, Period.MONTH, **window, k=3),
        Export(1, Period.QUARTER, **window, k=10),
        Export(1, Period.MONTH, **window, categories=("state-based conflict",)),
    ]
    for start in month_starts("2019-01", "2021-10"):  # rolling three months
        out.append(Export(1, Period.MONTH, start=start, end=month_end(start, 2)))
    return out


UCDP_CLI = [
    Export(1, Period.YEAR, start=day("2020-01-01"), end=day("2021-12-31"), via="cli"),
    Export(1, Period.YEAR, start=day("2020-02-01"), end=day("2021-12-31"), via="cli"),
    Export(1, Period.QUARTER, start=day("2019-01-01"), end=day("2021-12-31"), via="cli"),
    Export(
        1,
        Period.MONTH,
        start=day("2019-01-01"),
        end=day("2021-12-31"),
        by_category=False,
        via="cli",
    ),
]


@pytest.fixture(scope="module")
def ucdp(shared_data, tmp_path_factory):
    path = shared_data / UCDP
    analysis = pipeline.analyse(path.read_bytes(), load_boundaries("world:UKR"), filename=path.name)
    release = Release()
    make_exports(
        release,
        [*ucdp_exports(), *UCDP_CLI],
        analysis=analysis,
        input_path=path,
        boundaries="world:UKR",
        workdir=tmp_path_factory.mktemp("ucdp"),
        cli_args=["--preset", "ucdp"],
    )
    model = Model(release, truth_of(analysis.records, analysis.joined, 1))
    return release, model, attack(model, limit=figures.scaled(TARGETS))


# ----------------------------------------------------------------------------- generated


def generated_exports() -> list[Export]:
    """CAF admin-1 and admin-2, month/quarter/year/week, windows, categories, k."""
    first, last = day("2024-01-01"), day("2024-12-31")
    out = []
    for level in (1, 2):
        for period in (Period.MONTH, Period.QUARTER, Period.YEAR):
            out.append(Export(level, period))
            out.append(Export(level, period, k=3))
        for category in CATEGORIES:
            out.append(Export(level, Period.MONTH, categories=(category,)))
            out.append(Export(level, Period.QUARTER, categories=(category,), k=3))
    out.append(Export(1, Period.ISO_WEEK, start=first, end=last))
    for start in month_starts("2024-02", "2024-12"):
        out.append(Export(1, Period.YEAR, start=start, end=last))
        out.append(Export(2, Period.YEAR, start=first, end=month_end(start)))
    for start in month_starts("2024-01", "2024-10")[::3]:
        out.append(Export(2, Period.MONTH, start=start, end=month_end(start, 2)))
    return out


GENERATED_CLI = [
    Export(1, Period.MONTH, by_category=False, via="cli"),
    Export(2, Period.QUARTER, via="cli"),
    Export(1, Period.YEAR, start=day("2024-03-01"), end=day("2024-12-31"), via="cli", k=3),
    Export(1, Period.YEAR, start=day("2024-04-01"), end=day("2024-12-31"), via="cli", k=3),
]


@pytest.fixture(scope="module")
def generated_input(shared_data, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("generated") / "caf_generated.csv"
    path.write_bytes(generated_incidents(shared_data))
    return path


@pytest.fixture(scope="module")
def generated(shared_data, generated_input, tmp_path_factory):
    boundaries = str(shared_data / CAF)
    analysis = pipeline.analyse(
        generated_input.read_bytes(), load_boundaries(boundaries), filename="caf_generated.csv"
    )
    release = Release()
    make_exports(
        release,
        [*generated_exports(), *GENERATED_CLI],
        analysis=analysis,
        input_path=generated_input,
        boundaries=boundaries,
        workdir=tmp_path_factory.mktemp("generated-out"),
    )
    model = Model(release, truth_of(analysis.records, analysis.joined, 2))
    return release, model, attack(model, limit=figures.scaled(TARGETS))


# ----------------------------------------------------------------------------- tests


def _report(name: str, release: Release, outcome) -> None:
    figures.put(
        SUITE, f"{name}: exports made / refused", f"{len(release.exports)} / {len(release.refused)}"
    )
    for row, value in outcome.rows().items():
        figures.put(SUITE, f"{name}: {row}", value)
    if release.refused:
        export, why = release.refused[0]
        figures.put(SUITE, f"{name}: first refusal", f"{export.label()}: {why[:160]}")
    for n, example in enumerate(outcome.examples[:3]):
        figures.put(SUITE, f"{name}: pinned example {n + 1}", example)


@pytest.mark.parametrize("scenario", ["ucdp", "generated"])
def test_the_attack_model_reproduces_every_published_figure(scenario, request):
    """The harness's own check: each published figure is the sum the model says it is."""
    release, model, outcome = request.getfixturevalue(scenario)
    _report(scenario, release, outcome)
    assert release.exports, "no export was made at all"
    model.check()
    assert outcome.tried > 0, "no small cell in any export: the data are not testing anything"


@pytest.mark.parametrize("scenario", ["ucdp", "generated"])
def test_no_small_cell_is_pinned_by_combining_exports(scenario, request):
    release, model, outcome = request.getfixturevalue(scenario)
    assert outcome.pinned == 0, (
        f"{outcome.pinned} of {outcome.tried} small cells pinned across "
        f"{len(release.exports)} public exports, e.g. {outcome.examples[:3]}"
    )


@pytest.mark.parametrize("scenario", ["ucdp", "generated"])
def test_the_best_guess_is_no_better_than_chance(scenario, request):
    _, _, outcome = request.getfixturevalue(scenario)
    assert outcome.guess_rate <= outcome.chance_rate + CHANCE_MARGIN, outcome.rows()


# ----------------------------------------------------------------------------- masked points

GEOD = Geod(ellps="WGS84")
MASKED_EXPORTS = 4


@contextlib.contextmanager
def data_dir(path: Path):
    """Run the CLI against the workspace in ``path`` (its secret keys the masking)."""
    before = os.environ.get("CRISISMAP_DATA_DIR")
    os.environ["CRISISMAP_DATA_DIR"] = str(path)
    try:
        yield
    finally:
        if before is None:
            del os.environ["CRISISMAP_DATA_DIR"]
        else:
            os.environ["CRISISMAP_DATA_DIR"] = before


def masked_bundle(input_path: Path, boundaries: str, out: Path) -> dict[str, pd.DataFrame] | str:
    """``crisismap report --mask displace:5000``: its tables, or the refusal's sentence."""
    argv = [
        "report", str(input_path), "--boundaries", boundaries, "--level", "1",
        "--period", "month", "--mask", "displace:5000", "--out", str(out),
    ]  # fmt: skip
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    if code != 0:
        return err.getvalue().strip().splitlines()[-1]
    with zipfile.ZipFile(out) as archive:
        names = [n for n in archive.namelist() if n.endswith(".csv")]
        return {n: pd.read_csv(archive.open(n), dtype=str, keep_default_na=False) for n in names}


@pytest.fixture(scope="module")
def masked(shared_data, generated_input, tmp_path_factory):
    """Bundles from one workspace, and from a fresh workspace each (a new secret each)."""
    root = tmp_path_factory.mktemp("masked")
    boundaries = str(shared_data / CAF)
    same, fresh = [], []
    with data_dir(root / "one-workspace"):
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            assert main(["workspace", "init"]) == 0  # the secret is made with the workspace
        for n in range(MASKED_EXPORTS):
            same.append(masked_bundle(generated_input, boundaries, root / f"same{n}.zip"))
    for n in range(MASKED_EXPORTS):
        with data_dir(root / f"fresh-workspace-{n}"):
            fresh.append(masked_bundle(generated_input, boundaries, root / f"fresh{n}.zip"))
    truth = pd.read_csv(generated_input, dtype={"id": str})
    analysis = pipeline.analyse(
        generated_input.read_bytes(), load_boundaries(boundaries), filename="caf_generated.csv"
    )
    cells = report.view_figures(analysis, View(1, Period.MONTH), public=False).cells
    internal = cells.set_index(["region_code", "period", "category"])["incidents"].to_dict()
    return same, fresh, truth, internal


def median_error_m(points: list[pd.DataFrame], truth: pd.DataFrame) -> float:
    """Median distance from the true location of the points averaged over exports (rows
    are the same records in the same order in every export of one view)."""
    lat = np.mean([p["lat"].astype(float).to_numpy() for p in points], axis=0)
    lon = np.mean([p["lon"].astype(float).to_numpy() for p in points], axis=0)
    assert len(lat) == len(truth), "the attacker matches rows by position: same view, same rows"
    _, _, dist = GEOD.inv(lon, lat, truth["longitude"].to_numpy(), truth["latitude"].to_numpy())
    return float(np.median(dist))


def _points(bundles) -> list[pd.DataFrame]:
    return [b["points.csv"] for b in bundles if isinstance(b, dict) and "points.csv" in b]


def test_averaging_masked_points_does_not_narrow_them(masked):
    """Exports of one workspace put every record at the same place (averaging gains
    nothing); a fresh workspace cannot make a new draw (its exports are refused)."""
    same, fresh, _, _ = masked
    made_same, made_fresh = _points(same), _points(fresh)
    refusals = [b for b in [*same, *fresh] if isinstance(b, str)]
    figures.put(
        SUITE,
        "masked points: bundles made (one workspace / fresh workspaces) / refused",
        f"{len(made_same)} / {len(made_fresh)} / {len(refusals)}",
    )
    if refusals:
        figures.put(SUITE, "masked points: first refusal", refusals[0][:160])
    assert len(made_same) == MASKED_EXPORTS, f"no masked bundle from one workspace: {refusals[:1]}"
    for other in made_same[1:]:  # the same points, so their average is the export itself
        pd.testing.assert_frame_equal(other, made_same[0])
    assert made_fresh == [], "a fresh workspace drew new displacements"


def test_counting_masked_points_gives_back_no_suppressed_cell(masked):
    """Count the points of each suppressed admin-1 × month × category cell of the same bundle."""
    same, _, _, internal = masked
    bundle = next(b for b in same if isinstance(b, dict))
    points, cells = bundle.get("points.csv"), bundle["cells.csv"]
    hidden = cells[cells["suppressed"].str.lower() == "true"]
    assert len(hidden), "the bundle suppresses nothing: the data test nothing"
    recovered = 0
    if points is not None and {"adm1_code", "category"} <= set(points):
        month = points["period"] if "period" in points else points["date"].str[:7]
        counted = points.groupby([points["adm1_code"], month, points["category"]]).size()
        for row in hidden.itertuples():
            key = (row.region_code, row.period, row.category)
            recovered += int(counted.get(key, 0)) == internal.get(key, -1)
    figures.put(
        SUITE, "masked points: suppressed cells counted back from points.csv",
        f"{recovered} of {len(hidden)}",
    )  # fmt: skip
    assert recovered == 0
