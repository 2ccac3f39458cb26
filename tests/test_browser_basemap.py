"""The offline basemap in a real browser: land, rivers and place names served by the app.

Debian's chromium through Playwright against the app on the demo data (Sudan): every
request off the machine is refused and fails the test; the basemap's data file must come
from the app itself, and "Khartoum" must be drawn as a label at the first (country) zoom.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.helpers.appserver import CHROMIUM, CHROMIUM_ARGS, keep_offline, running_app

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"
MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
PHYSICAL = "/app/static/basemap/physical.topo.json"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not os.environ.get("CI"),
    reason="Debian chromium not installed (apt-get install chromium)",
)


def _settled_frame(page, timeout: float = 90):
    """The map iframe's frame once its legend and its place labels are drawn."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if page.locator(MAP_IFRAME).count() == 1:
            try:
                frame = page.locator(MAP_IFRAME).element_handle(timeout=2_000).content_frame()
                if (
                    frame.locator(".crisismap-legend").count()
                    and frame.locator(".crisismap-place").count()
                ):
                    return frame
            except Exception:  # the iframe was replaced while we looked
                pass
        time.sleep(0.5)
    pytest.fail(f"the map with place labels did not settle in {timeout} s")


def _without_basemap(page, timeout: float = 60) -> bool:
    """Whether a settled map without place labels and without the basemap's panes appears."""
    # the regions' canvas is drawn after the basemap's script would have made its panes
    script = """() => document.querySelectorAll('.leaflet-overlay-pane canvas').length === 0 ? -1
        : document.querySelectorAll('.crisismap-place').length
        + document.querySelectorAll('.leaflet-crisismap-land-pane').length"""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if page.locator(MAP_IFRAME).count() == 1:
            try:
                frame = page.locator(MAP_IFRAME).element_handle(timeout=2_000).content_frame()
                if frame.locator(".crisismap-legend").count() and frame.evaluate(script) == 0:
                    return True
            except Exception:  # the iframe was replaced while we looked
                pass
        time.sleep(0.5)
    return False


def test_place_names_and_physical_layers_are_served_by_the_app_offline():
    from playwright.sync_api import sync_playwright

    with running_app(timeout_s=60) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1500, "height": 1300})
        seen = keep_offline(context, url)
        served: dict[str, tuple[int, int]] = {}

        def record(response) -> None:
            if response.url.startswith(url + "/app/static/"):
                try:
                    size = len(response.body())
                except Exception:  # a response without a body (redirect, aborted)
                    size = -1
                served[response.url[len(url) :]] = (response.status, size)

        context.on("response", record)
        page = context.new_page()
        page.goto(url)
        frame = _settled_frame(page)
        labels = frame.locator(".crisismap-place").all_inner_texts()
        assert "Khartoum" in labels  # the capital, at the first (country) zoom
        assert "Khartoum" in frame.locator(".crisismap-place.capital").all_inner_texts()
        assert frame.get_by_text("Khartoum", exact=True).first.is_visible()
        # the land, water and borders arrived from the app, and were drawn
        drawn = """(u) => {
            const got = performance.getEntriesByType('resource').filter(r => r.name.endsWith(u));
            const panes = document.querySelectorAll('.leaflet-crisismap-land-pane canvas,'
                + '.leaflet-crisismap-water-pane canvas').length;
            return got.length && panes >= 2 ? got[0].decodedBodySize : 0;
        }"""
        deadline = time.monotonic() + 60
        while not frame.evaluate(drawn, PHYSICAL) and time.monotonic() < deadline:
            page.wait_for_timeout(300)  # (Playwright's sync events arrive only in its calls)
        assert frame.evaluate(drawn, PHYSICAL) > 100_000
        assert frame.evaluate("(u) => fetch(u).then(r => r.status)", PHYSICAL) == 200
        sent = frame.evaluate(
            """() => performance.getEntriesByType('resource').map(
                r => [r.name.replace(location.origin, ''), r.transferSize, r.decodedBodySize])"""
        )
        print("the map's files (path, bytes transferred, bytes decoded):", sent)
        attribution = frame.locator(".leaflet-control-attribution").inner_text()
        assert "Natural Earth" in attribution and "GeoNames" in attribution
        # zooming in shows smaller towns than the country view does
        before = set(labels)
        frame.evaluate("() => { window.map.setView([15.55, 32.53], 8, {animate: false}); }")
        page.wait_for_timeout(1_000)
        closer = set(frame.locator(".crisismap-place").all_inner_texts())
        assert closer - before, "no new, smaller places appeared when zooming in"
        ARTIFACTS.mkdir(exist_ok=True)
        frame.evaluate("() => { window.map.setView([15.0, 30.0], 5, {animate: false}); }")
        page.wait_for_timeout(1_000)
        page.screenshot(path=str(ARTIFACTS / "basemap.png"), full_page=False)
        page.locator(MAP_IFRAME).screenshot(path=str(ARTIFACTS / "basemap-map.png"))
        # the sidebar's box hides it: the next map has no names and no land
        page.get_by_text("Land, rivers and place names (offline)").click()
        assert _without_basemap(page)
        assert "places=off" in page.url  # a link to this view keeps it hidden
        context.close()
        browser.close()
    assert seen.outside == [], f"requests left the machine: {seen.outside}"
    assert seen.dialogs == []
    print(sorted(before))
    print({path: size for path, (status, size) in served.items()})
