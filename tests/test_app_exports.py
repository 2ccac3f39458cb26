"""The app's exports, through Streamlit's AppTest: prepared once, a status while it works,
one sentence when it takes too long.

``report.view_figures`` is wrapped (the real one runs) to count how often the protected
figures are computed. AppTest runs the script in this process, so the wrapper sees the app.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from crisismap import escape, prepared, report

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PREPARE = "Prepare the downloads of this view"
DOWNLOADS = ["Summary (CSV)", "Summary (XLSX)", "Regions (GeoJSON)", "Report bundle (ZIP)"]
pytestmark = pytest.mark.slow  # every test runs the whole app script (~3 s each)


@pytest.fixture
def calls(monkeypatch) -> list[bool]:
    """One entry per call of report.view_figures (the real one runs)."""
    seen: list[bool] = []
    real = report.view_figures

    def counted(*args, **kwargs):
        seen.append(kwargs.get("public", True))
        return real(*args, **kwargs)

    monkeypatch.setattr(report, "view_figures", counted)
    return seen


@pytest.fixture
def app(tmp_path, monkeypatch) -> AppTest:
    monkeypatch.setenv("CRISISMAP_DATA_DIR", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def downloads(at: AppTest) -> list[str]:
    return [d.proto.label for d in at.get("download_button") if d.proto.label in DOWNLOADS]


def test_prepared_once_then_every_rerun_offers_the_downloads(app, calls):
    assert downloads(app) == [] and calls == []  # nothing is computed before it is asked for
    button(app, PREPARE).click().run()
    assert not app.exception, app.exception
    [status] = app.status
    assert status.label == "The downloads are ready." and status.state == "complete"
    assert downloads(app) == DOWNLOADS
    assert PREPARE not in [b.label for b in app.button]
    button(app, "▶").click().run()  # another period on the map: the same view
    app.run()
    assert downloads(app) == DOWNLOADS and not app.status
    assert calls == [True]
    next(t for t in app.toggle if t.label.startswith("Public export")).set_value(False).run()
    assert downloads(app) == []  # internal figures are other figures: prepared on request
    button(app, PREPARE).click().run()
    assert calls == [True, False]


def test_a_view_that_takes_too_long_gets_one_sentence(app, monkeypatch):
    def endless(*_args, **_kwargs):
        while True:
            time.sleep(0.01)

    monkeypatch.setattr(report, "view_figures", endless)
    monkeypatch.setenv(prepared.TIME_LIMIT_ENV, "0.5")
    button(app, PREPARE).click().run()
    assert not app.exception, app.exception
    [status] = app.status
    assert status.label == "Stopped: this view took too long." and status.state == "error"
    assert [e.value for e in app.error] == [
        escape.markdown(
            "Protecting the figures of this view (admin-1 regions by month) took longer than "
            "the time limit of 0.5 s and was stopped: choose a coarser period (month, quarter "
            "or year) or a coarser admin level, fewer categories or regions, or, for your team "
            "only, an internal export; $CRISISMAP_EXPORT_TIME_LIMIT sets the limit."
        )
    ]
    assert downloads(app) == []
    assert PREPARE in [b.label for b in app.button]  # the page stays usable: try another view


def test_a_bad_time_limit_setting_is_one_sentence(app, monkeypatch):
    monkeypatch.setenv(prepared.TIME_LIMIT_ENV, "two minutes")
    button(app, PREPARE).click().run()
    assert not app.exception, app.exception
    assert [e.value for e in app.error] == [
        escape.markdown(
            "$CRISISMAP_EXPORT_TIME_LIMIT must be a number of seconds (0 for no limit), "
            "got 'two minutes': for example 120."
        )
    ]
