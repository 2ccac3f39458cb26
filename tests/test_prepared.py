"""A view's figures are computed once per analysis for all its downloads, within a time limit.

``report.view_figures`` is wrapped (the real one still runs) to count how often the
protected figures are computed: four downloads of a view, on any number of reruns, is once.
"""

from __future__ import annotations

import threading
import time

import pytest

from crisismap import dashboard, pipeline, prepared, report
from crisismap.boundaries import load_boundaries
from crisismap.errors import InvalidValueError, TimeLimitError
from crisismap.schema import Period, View

# Twelve incidents in four Sudanese states over two months: small and large cells.
ROWS = [
    ("2024-01-05", 15.55, 32.53, "killing"),  # Khartoum
    ("2024-01-06", 15.56, 32.54, "killing"),
    ("2024-01-07", 15.57, 32.55, "killing"),
    ("2024-01-08", 15.58, 32.56, "looting"),
    ("2024-01-09", 15.59, 32.57, "killing"),
    ("2024-01-10", 15.60, 32.58, "killing"),
    ("2024-02-11", 13.63, 25.35, "looting"),  # North Darfur
    ("2024-02-12", 13.64, 25.36, "looting"),
    ("2024-02-13", 12.05, 24.88, "killing"),  # South Darfur
    ("2024-02-14", 19.61, 37.22, "killing"),  # Red Sea
    ("2024-02-15", 15.61, 32.59, "killing"),
    ("2024-02-16", 15.62, 32.60, "killing"),
]
CSV = (
    "id,date,lat,lon,category\n"
    + "".join(f"r{i},{d},{lat},{lon},{c}\n" for i, (d, lat, lon, c) in enumerate(ROWS))
).encode()


@pytest.fixture(scope="module")
def sudan():
    return load_boundaries("world:SDN")


@pytest.fixture
def analysis(sudan) -> pipeline.Analysis:
    """A fresh analysis per test: prepared figures live on it."""
    return pipeline.analyse(CSV, sudan, filename="twelve.csv")


@pytest.fixture
def calls(monkeypatch) -> list[tuple[View, bool, int]]:
    """Every call of report.view_figures (the real one runs)."""
    seen: list[tuple[View, bool, int]] = []
    real = report.view_figures

    def counted(analysis, view, *, public=True, k=5, **more):
        seen.append((view, public, k))
        return real(analysis, view, public=public, k=k, **more)

    monkeypatch.setattr(report, "view_figures", counted)
    return seen


def _download_all(analysis, page, **kind) -> dict[str, bytes]:
    return {item.label: item.make() for item in dashboard.exports(analysis, page, **kind)}


@pytest.mark.slow  # writes PDF briefs
def test_every_download_of_a_view_computes_its_figures_once(analysis, calls):
    page = dashboard.build_view(analysis, View(1, Period.MONTH))
    assert not dashboard.exports_ready(analysis, page)
    first = _download_all(analysis, page)
    again = _download_all(analysis, page)  # the next rerun's buttons
    dashboard.prepare_exports(analysis, page)  # the Prepare button on a prepared view
    assert set(first) == {
        "Summary (CSV)",
        "Summary (XLSX)",
        "Regions (GeoJSON)",
        "Map (PNG)",
        "Report bundle (ZIP)",
    }
    assert first["Map (PNG)"].startswith(b"\x89PNG")
    assert first == again
    assert calls == [(page.view, True, 5)]
    assert dashboard.exports_ready(analysis, page)
    # internal figures and another view are other figures; another k for the same data
    # is refused (releases with two k could be combined)
    with pytest.raises(InvalidValueError, match="already published with k=5"):
        _download_all(analysis, page, k=3)
    _download_all(analysis, page, public=False)
    other = dashboard.build_view(analysis, View(1, Period.QUARTER))
    _download_all(analysis, other)
    _download_all(analysis, page, public=False)
    assert calls == [
        (page.view, True, 5),
        (page.view, True, 3),
        (page.view, False, 5),
        (other.view, True, 5),
    ]


@pytest.mark.slow  # writes PDF briefs
def test_the_bundle_from_prepared_figures_is_the_bundle(analysis):
    view = View(1, Period.MONTH)
    page = dashboard.build_view(analysis, view)
    item = next(i for i in dashboard.exports(analysis, page) if i.label == "Report bundle (ZIP)")
    assert item.make() == report.build_bundle(analysis, page.view, title=page.title)


@pytest.mark.slow  # writes PDF briefs
def test_two_downloads_at_once_compute_once(analysis, calls):
    page = dashboard.build_view(analysis, View(1, Period.MONTH))
    items = dashboard.exports(analysis, page)
    threads = [threading.Thread(target=item.make) for item in items]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(calls) == 1


@pytest.mark.slow  # writes PDF briefs
def test_sessions_do_not_share_prepared_figures(sudan, calls):
    """Two users with the same file: each session computes its own (nothing process-wide)."""
    one, two = (pipeline.analyse(CSV, sudan, filename="twelve.csv") for _ in range(2))
    for analysis in (one, two):
        _download_all(analysis, dashboard.build_view(analysis, View(1)))
    assert len(calls) == 2
    assert prepared.cached_figures(one, View(1), public=True, k=5) is not None
    assert prepared.cached_figures(one, View(1), public=True, k=5) is not (
        prepared.cached_figures(two, View(1), public=True, k=5)
    )


def test_only_the_most_recent_views_are_kept(analysis, calls):
    views = [View(1, Period.MONTH, categories=[c]) for c in ("killing", "looting")]
    views += [View(1, p) for p in (Period.MONTH, Period.QUARTER, Period.YEAR)]
    assert len(views) == prepared.KEPT_VIEWS + 1
    for view in views:
        prepared.view_figures(analysis, view)
    assert prepared.cached_figures(analysis, views[0], public=True, k=5) is None
    assert all(prepared.cached_figures(analysis, v, public=True, k=5) for v in views[1:])
    prepared.view_figures(analysis, views[1])
    assert len(calls) == len(views)


def test_past_the_time_limit_one_sentence_says_what_to_do(analysis, monkeypatch):
    stopped = threading.Event()

    def endless(*_args, **_kwargs):
        try:
            while True:
                time.sleep(0.01)
        except BaseException:
            stopped.set()
            raise

    monkeypatch.setattr(report, "view_figures", endless)
    monkeypatch.setenv(prepared.TIME_LIMIT_ENV, "0.3")
    page = dashboard.build_view(analysis, View(1, Period.ISO_WEEK))
    with pytest.raises(TimeLimitError) as raised:
        dashboard.prepare_exports(analysis, page)
    assert str(raised.value) == (
        "Protecting the figures of this view (admin-1 regions by week) took longer than "
        "the time limit of 0.3 s and was stopped: choose a coarser period (month, quarter or "
        "year) or a coarser admin level, fewer categories or regions, or, for your team only, "
        "an internal export; $CRISISMAP_EXPORT_TIME_LIMIT sets the limit."
    )
    assert stopped.wait(5)  # the work itself stopped
    assert not dashboard.exports_ready(analysis, page)  # nothing kept from stopped work


def test_the_time_limit_setting(monkeypatch):
    monkeypatch.delenv(prepared.TIME_LIMIT_ENV, raising=False)
    assert prepared.export_time_limit() == 120
    monkeypatch.setenv(prepared.TIME_LIMIT_ENV, " 30 ")
    assert prepared.export_time_limit() == 30
    monkeypatch.setenv(prepared.TIME_LIMIT_ENV, "0")
    assert prepared.export_time_limit() is None  # no limit
    assert prepared.export_time_limit("45") == 45  # --time-limit wins
    monkeypatch.setenv(prepared.TIME_LIMIT_ENV, "two minutes")
    with pytest.raises(InvalidValueError, match=r"CRISISMAP_EXPORT_TIME_LIMIT must be a number"):
        prepared.export_time_limit()
    with pytest.raises(InvalidValueError, match=r"^The time limit must be .* got '-1'"):
        prepared.export_time_limit("-1")


def test_the_status_says_what_is_protected(analysis):
    page = dashboard.build_view(analysis, View(1, Period.MONTH))
    assert dashboard.protecting_sentence(page, k=5) == (
        "Protecting the figures of this view (admin-1 regions by month, 12 incidents): "
        "hiding every figure under 5 incidents, and the figures it could be worked out from."
    )
    assert dashboard.waiting_sentence(3.4, 120) == (
        "Working for 3 s (it stops at 120 s). Cancel stops it and keeps the page usable."
    )


def test_the_command_line_stops_at_its_time_limit_with_the_same_sentence(
    tmp_path, monkeypatch, capsys
):
    from crisismap.cli import main

    def endless(*_args, **_kwargs):
        while True:
            time.sleep(0.01)

    monkeypatch.setattr(report, "view_figures", endless)
    incidents = tmp_path / "twelve.csv"
    incidents.write_bytes(CSV)
    out = tmp_path / "summary.csv"
    common = ["--boundaries", "world:SDN", "--level", "1", "--period", "quarter"]
    code = main(
        ["summarize", str(incidents), *common, "--public", "--time-limit", "0.3"]
        + [
            "--out",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert (
        "crisismap: error: Protecting the figures of this view (admin-1 regions by quarter) "
        "took longer than the time limit of 0.3 s and was stopped: choose a coarser period"
    ) in err
    assert "--time-limit (or $CRISISMAP_EXPORT_TIME_LIMIT) sets the limit." in err
    code = main(["report", str(incidents), *common, "--time-limit", "-1", "--out", str(out)])
    assert code == 2
    assert "The time limit must be a number of seconds (0 for no limit), got -1.0" in (
        capsys.readouterr().err
    )
