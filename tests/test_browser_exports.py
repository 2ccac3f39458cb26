"""A long export in a real browser: visible status, Cancel that leaves the page usable, and a
server that stops promptly on SIGTERM and Ctrl-C while the export runs.

The server is started as every browser test starts it (tests/helpers/appserver.py); the
view is large: 20,000 incidents across Ukraine by week, almost every cell small. Its real
protection now takes about a second, too short to press Cancel or stop the server during
it, so the server also loads tests/helpers/long_export (a pause of
:data:`PAUSE_S` before the real protection, in the worker thread that runs it).
Before this was fixed a download's work ran on asyncio's default executor, which the server
joins on shutdown, so SIGTERM waited for the export to finish (minutes).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.helpers.appserver import CHROMIUM, CHROMIUM_ARGS, keep_offline, running_app

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not os.environ.get("CI"),
        reason="Debian chromium not installed (apt-get install chromium)",
    ),
]
PREPARE = "Prepare the downloads of this view"
STOPS_WITHIN_S = 10  # "a few seconds" on two shared cores
PAUSE_S = 20  # before each protection: far longer than a stop may take
SHIM = Path(__file__).parent / "helpers" / "long_export"  # its sitecustomize.py
LONG_EXPORT = {
    "PYTHONPATH": os.pathsep.join(p for p in (str(SHIM), os.environ.get("PYTHONPATH")) if p),
    "CRISISMAP_TEST_PROTECTION_PAUSE": str(PAUSE_S),
}


@pytest.fixture(scope="module")
def many_small_cells(tmp_path_factory) -> Path:
    """20,000 incidents spread over Ukraine and eight years: by week nearly every cell is
    small."""
    rng = np.random.default_rng(12)
    n = 20_000
    days = rng.integers(0, 8 * 365, n)
    frame = pd.DataFrame(
        {
            "id": [f"u{i}" for i in range(n)],
            "date": (pd.Timestamp("2015-01-01") + pd.to_timedelta(days, unit="D")).strftime(
                "%Y-%m-%d"
            ),
            "lat": rng.uniform(46.6, 51.4, n).round(4),
            "lon": rng.uniform(24.5, 38.0, n).round(4),
            "category": rng.choice(["shelling", "detention", "looting", "killing"], n),
        }
    )
    # the data's first and last days open and close an ISO week (2015-W01 to 2022-W52):
    # public releases cover whole periods, and the app's date range starts as the data's
    frame.loc[0, "date"], frame.loc[1, "date"] = "2014-12-29", "2023-01-01"
    path = tmp_path_factory.mktemp("exports") / "ukraine_weekly.csv"
    frame.to_csv(path, index=False)
    return path


def _large_export_running(page, csv: Path) -> None:
    """Upload the file, choose admin-1 by week, press Prepare and wait until it has worked a
    while."""
    from playwright.sync_api import expect

    expect(page.get_by_text("Export this view")).to_be_visible(timeout=60_000)
    page.locator('input[type="file"]').nth(0).set_input_files(str(csv))
    expect(page.get_by_text("map points show 3,000 of")).to_be_visible(timeout=120_000)
    for name, option in (("Admin level", "admin-1"), ("Period", "week")):
        page.get_by_role("combobox", name=name).click()
        page.get_by_role("option", name=option, exact=True).click()
        time.sleep(2)  # the rerun it starts
    expect(page.get_by_text("Incidents per week")).to_be_visible(timeout=60_000)
    time.sleep(2)  # the map's own rerun settles
    page.get_by_role("button", name=PREPARE).click()
    expect(
        page.get_by_text("Protecting the figures of this view (admin-1 regions by week")
    ).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Working for 1 s")).to_be_visible(timeout=60_000)


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 1500, "height": 1300}, accept_downloads=True
        )
        yield context
        context.close()
        browser.close()


def test_cancel_leaves_the_page_usable(many_small_cells, tmp_path, browser_page):
    from playwright.sync_api import expect

    with running_app(tmp_path / "data", env=LONG_EXPORT) as url:
        seen = keep_offline(browser_page, url)
        page = browser_page.new_page()
        page.goto(url)
        _large_export_running(page, many_small_cells)
        page.get_by_role("button", name="Cancel").click()
        expect(page.get_by_text("Cancelled: nothing was prepared.")).to_be_visible(timeout=30_000)
        assert page.get_by_role("button", name="Summary (CSV)").count() == 0
        page.get_by_role("button", name=PREPARE).click()  # the page is usable: start again
        expect(page.get_by_text("The downloads are ready.")).to_be_visible(timeout=180_000)
        with page.expect_download(timeout=60_000) as info:
            page.get_by_role("button", name="Summary (CSV)").click()
        header = Path(info.value.path()).read_text(encoding="utf-8-sig").splitlines()[0]
        assert "suppressed" in header and "region_code" in header
    assert seen.outside == []


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_the_server_stops_promptly_while_an_export_runs(
    many_small_cells, tmp_path, browser_page, stop
):
    started: list[subprocess.Popen] = []
    with running_app(tmp_path / "data", started=started, env=LONG_EXPORT) as url:
        [server] = started
        keep_offline(browser_page, url)
        page = browser_page.new_page()
        page.goto(url)
        _large_export_running(page, many_small_cells)
        sent = time.monotonic()
        server.send_signal(stop)
        try:
            code = server.wait(timeout=STOPS_WITHIN_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the server still ran {STOPS_WITHIN_S} s after {stop.name}")
        took = time.monotonic() - sent
        print(f"{stop.name}: the server stopped {took:.1f} s after the signal")
    assert code == 0, f"the server exited with {code} after {stop.name} (an abort is -6)"
